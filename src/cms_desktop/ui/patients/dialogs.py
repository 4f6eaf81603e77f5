"""Dialogs of the Patients area: likely duplicates before a save, and merging two records."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services import patients
from cms_desktop.services.patient_duplicates import DuplicateCandidate
from cms_desktop.ui import widgets
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.patients.picker import PatientPicker
from cms_desktop.ui.widgets import ErrorLabel


class DuplicateDialog(QDialog):
    """Lists the likely duplicates; the user opens one or creates the record anyway."""

    open_chosen = Signal(str)
    create_anyway = Signal()

    def __init__(self, candidates: list[DuplicateCandidate], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Doublon possible"))
        self.setModal(True)
        text = QLabel(
            self.tr(
                "Ce patient semble déjà enregistré. Ouvrez le dossier existant, ou confirmez "
                "qu'il s'agit d'une autre personne."
            ),
            self,
        )
        text.setWordWrap(True)
        self.list = QListWidget(self)
        for c in candidates:
            item = QListWidgetItem(
                f"{c.display_name} — {c.born} le {c.birth_date:%d/%m/%Y} — {c.reason_label}"
            )
            item.setData(256, c.id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open())
        buttons = QDialogButtonBox(self)
        self.open_button = buttons.addButton(
            self.tr("Ouvrir ce dossier"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button = buttons.addButton(
            self.tr("Créer quand même"), QDialogButtonBox.ButtonRole.ActionRole
        )
        cancel = buttons.addButton(self.tr("Annuler"), QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._open)
        self.create_button.clicked.connect(self._create)
        cancel.clicked.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(text)
        box.addWidget(self.list)
        box.addWidget(buttons)
        self.setMinimumWidth(560)

    def _open(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.accept()
            self.open_chosen.emit(str(item.data(256)))

    def _create(self) -> None:
        self.accept()
        self.create_anyway.emit()


class MergeDialog(QDialog):
    """Choose the duplicate record to merge into the open one (which is kept)."""

    merged = Signal()

    def __init__(self, ctx: AreaContext, keep_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._keep_id = keep_id
        self.setWindowTitle(self.tr("Fusionner un doublon dans ce dossier"))
        self.setModal(True)
        text = QLabel(
            self.tr(
                "Cherchez le dossier en double. Tout son contenu (consultations, documents, "
                "ALD…) sera rattaché au dossier ouvert, qui est conservé ; le doublon ne "
                "sera plus proposé dans les recherches. L'opération est tracée."
            ),
            self,
        )
        text.setWordWrap(True)
        self.picker = PatientPicker(ctx, self)
        self.picker.patient_chosen.connect(self.confirm)
        self.error_label = ErrorLabel(self)
        merge = QPushButton(self.tr("Fusionner…"), self)
        merge.clicked.connect(self.picker.choose_current)
        cancel = QPushButton(self.tr("Annuler"), self)
        cancel.clicked.connect(self.reject)
        buttons = QDialogButtonBox(self)
        buttons.addButton(merge, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        box = QVBoxLayout(self)
        box.addWidget(text)
        box.addWidget(self.picker, 1)
        box.addWidget(self.error_label)
        box.addWidget(buttons)
        self.resize(760, 420)

    def ask(self, question: str) -> bool:
        return widgets.ask(self, self.tr("Fusionner"), question)

    def confirm(self, merged_id: str) -> None:
        if merged_id == self._keep_id:
            self.error_label.show_message(self.tr("C'est le dossier ouvert : choisissez l'autre."))
            return
        hits = {h.id: h for h in self.picker.model.hits}
        name = hits[merged_id].display_name if merged_id in hits else ""
        if not self.ask(
            self.tr("Fusionner le dossier « %1 » dans le dossier ouvert ?").replace("%1", name)
        ):
            return
        ws, actor, keep = self._ctx.workspace, self._ctx.actor, self._keep_id
        self._ctx.runner.run_write(
            lambda: patients.merge_patients(ws, actor, keep, merged_id),
            self._done,
            self.error_label.show_message,
        )

    def _done(self, _result: object) -> None:
        self.accept()
        self.merged.emit()
