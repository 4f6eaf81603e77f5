"""Administration › « Centre »: the details printed on every document (name, address,
phone, FINESS, logo). Printouts made afterwards use them; stored ones keep what they printed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services import centre
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, shortcut


class CentreDetailsPage(QWidget):
    sig_saved = Signal(object)
    """The details were saved; the argument is the CentreDetails stored."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self._logo: bytes | None = None
        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(200)
        self.address_edit = QLineEdit(self)
        self.postcode_edit = QLineEdit(self)
        self.postcode_edit.setMaxLength(5)
        self.city_edit = QLineEdit(self)
        self.phone_edit = QLineEdit(self)
        self.finess_edit = QLineEdit(self)
        self.finess_edit.setMaxLength(9)
        self.finess_edit.setPlaceholderText(self.tr("9 caractères, ex. 610000000"))
        self.logo_label = QLabel(self)
        self.logo_label.setFixedSize(160, 96)
        self.logo_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.logo_label.setStyleSheet("border: 1px solid #c8c8c8; background: white;")
        self.logo_button = QPushButton(self.tr("Choisir un logo (PNG)…"), self)
        self.logo_button.clicked.connect(self.choose_logo)
        self.remove_logo_button = QPushButton(self.tr("Retirer le logo"), self)
        self.remove_logo_button.clicked.connect(lambda: self.set_logo(None))
        self.save_button = QPushButton(self.tr("Enregistrer"), self)
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        shortcut(self, "Ctrl+S", self.save)
        self.error_label = ErrorLabel(self)
        self.saved_label = QLabel(self)
        self.saved_label.setStyleSheet("color: #1b6e2a;")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("&Nom du centre *"), self.name_edit)
        form.addRow(self.tr("&Adresse"), self.address_edit)
        form.addRow(self.tr("&Code postal"), self.postcode_edit)
        form.addRow(self.tr("&Ville"), self.city_edit)
        form.addRow(self.tr("&Téléphone"), self.phone_edit)
        form.addRow(self.tr("N° &FINESS"), self.finess_edit)
        logo_buttons = QVBoxLayout()
        logo_buttons.addWidget(self.logo_button)
        logo_buttons.addWidget(self.remove_logo_button)
        logo_buttons.addStretch(1)
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo_label)
        logo_row.addLayout(logo_buttons)
        logo_row.addStretch(1)
        form.addRow(self.tr("Logo des imprimés"), logo_row)
        hint = QLabel(
            self.tr(
                "Ces informations figurent en tête des ordonnances, certificats et courriers "
                "imprimés à partir de maintenant. Les ordonnances déjà imprimées restent "
                "telles qu'elles ont été imprimées."
            ),
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.saved_label, 1)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(hint)
        box.addWidget(self.error_label)
        box.addLayout(buttons)
        box.addStretch(1)
        self.reload()

    def reload(self) -> None:
        self._runner.run_read(
            lambda: centre.get_details(self._ws, self._actor),
            self._show,
            self.error_label.show_message,
        )

    def _show(self, details: centre.CentreDetails) -> None:
        self.name_edit.setText(details.name)
        self.address_edit.setText(details.address)
        self.postcode_edit.setText(details.postcode)
        self.city_edit.setText(details.city)
        self.phone_edit.setText(details.phone)
        self.finess_edit.setText(details.finess)
        self.set_logo(details.logo_png)

    def set_logo(self, png: bytes | None) -> None:
        self._logo = png
        self.remove_logo_button.setEnabled(png is not None)
        pixmap = QPixmap()
        if png is not None and pixmap.loadFromData(png):
            self.logo_label.setPixmap(
                pixmap.scaled(
                    self.logo_label.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        else:
            self.logo_label.setPixmap(QPixmap())
            self.logo_label.setText(self.tr("(aucun logo)"))

    def choose_logo(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Logo du centre"), "", self.tr("Images PNG (*.png)")
        )
        if not path:
            return
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.error_label.show_message(
                self.tr("Impossible de lire le fichier : %1").replace("%1", str(exc.strerror))
            )
            return
        try:
            centre.check_logo(data)
        except centre.ValidationFailed as exc:
            self.error_label.show_message(str(exc))
            return
        self.error_label.clear_message()
        self.set_logo(data)

    def details(self) -> centre.CentreDetails:
        return centre.CentreDetails(
            self.name_edit.text(),
            self.address_edit.text(),
            self.postcode_edit.text(),
            self.city_edit.text(),
            self.phone_edit.text(),
            self.finess_edit.text(),
            self._logo,
        )

    def save(self) -> None:
        details = self.details()
        self.saved_label.clear()
        self.save_button.setEnabled(False)
        self._runner.run_write(
            lambda: centre.update_details(self._ws, self._actor, details),
            self._saved,
            self._failed,
        )

    def _saved(self, details: centre.CentreDetails) -> None:
        self.save_button.setEnabled(True)
        self.error_label.clear_message()
        self.saved_label.setText(self.tr("Enregistré."))
        self._show(details)
        self.sig_saved.emit(details)

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.error_label.show_message(message)
