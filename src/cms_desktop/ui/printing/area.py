"""The Impressions area: recent prints, new prescription / certificate / referral letter for
a chosen patient, and (medical director) the register of record-access requests.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.printing_common import OutputEntry, recent_outputs
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.documents import CertificateDialog, PatientSearch, ReferralDialog
from cms_desktop.ui.printing.prescription_editor import PrescriptionEditor
from cms_desktop.ui.widgets import ErrorLabel, fit_to_screen


class NewDocumentPage(QWidget):
    """Choose a patient, then the document to write."""

    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.search = PatientSearch(ctx, self)
        self.prescription_button = QPushButton(self.tr("Ordonnance…"), self)
        self.certificate_button = QPushButton(self.tr("Certificat médical…"), self)
        self.letter_button = QPushButton(self.tr("Lettre d'adressage…"), self)
        self.error_label = ErrorLabel(self)
        buttons = QHBoxLayout()
        for button in (self.prescription_button, self.certificate_button, self.letter_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.addWidget(QLabel(self.tr("Patient :"), self))
        box.addWidget(self.search)
        box.addLayout(buttons)
        box.addWidget(self.error_label)
        box.addStretch(1)
        self.prescription_button.setEnabled(ctx.actor.can(Permission.PRESCRIPTION_WRITE))
        self.prescription_button.clicked.connect(self.open_prescription)
        self.certificate_button.clicked.connect(lambda: self._open(CertificateDialog))
        self.letter_button.clicked.connect(lambda: self._open(ReferralDialog))
        self.search.chosen.connect(lambda _pid: self.certificate_button.setFocus())

    def _patient(self) -> str | None:
        patient_id = self.search.current_id()
        if patient_id is None:
            self.error_label.show_message(self.tr("Cherchez puis choisissez un patient."))
        else:
            self.error_label.clear_message()
        return patient_id

    def _open(self, dialog_class: Callable[[AreaContext, str, QWidget], QDialog]) -> None:
        patient_id = self._patient()
        if patient_id is not None:
            self.dialog = dialog_class(self._ctx, patient_id, self)
            self.dialog.open()

    def open_prescription(self) -> None:
        patient_id = self._patient()
        if patient_id is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Ordonnance"))
        fit_to_screen(dialog, 960, 820)
        self.editor = PrescriptionEditor(self._ctx, patient_id)
        QVBoxLayout(dialog).addWidget(self.editor)
        self.dialog = dialog
        dialog.open()


class RecentPage(QWidget):
    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Date"), self.tr("Document"), self.tr("Patient"), self.tr("Sortie")]
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        refresh = QPushButton(self.tr("Actualiser"), self)
        refresh.clicked.connect(self.reload)
        box = QVBoxLayout(self)
        box.addWidget(self.table)
        box.addWidget(refresh)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        # What was printed since shows without « Actualiser ».
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        ws, actor = self._ctx.workspace, self._ctx.actor
        self._ctx.runner.run_read(lambda: recent_outputs(ws, actor), self._show)

    def _show(self, entries: list[OutputEntry]) -> None:
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            how = self.tr("Imprimé") if entry.how == "print" else self.tr("Enregistré en PDF")
            cells = (
                paris_text(entry.at),
                entry.document,
                entry.patient_label,
                how,
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()


class ImpressionsArea(QWidget):
    def __init__(self, ctx: AreaContext) -> None:
        super().__init__()
        title = QLabel(self.tr("Impressions"), self)
        title.setObjectName("pageTitle")
        self.tabs = QTabWidget(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(24, 20, 24, 20)
        box.addWidget(title)
        box.addWidget(self.tabs, 1)
        actor = ctx.actor
        if actor.can(Permission.PRINT_CLINICAL):
            self.tabs.addTab(NewDocumentPage(ctx, self), self.tr("Nouveau document"))
            self.recent_page = RecentPage(ctx, self)
            self.tabs.addTab(self.recent_page, self.tr("Derniers documents"))
        if actor.can(Permission.RECORD_ACCESS_REGISTER):
            from cms_desktop.ui.printing.record_access_page import RecordAccessPage

            self.register_page = RecordAccessPage(ctx, self)
            self.tabs.addTab(self.register_page, self.tr("Accès au dossier"))
        if self.tabs.count() == 0:
            hint = QLabel(
                self.tr(
                    "Les documents administratifs (carte de rendez-vous, liste du jour) "
                    "s'impriment depuis l'agenda."
                ),
                self,
            )
            hint.setWordWrap(True)
            hint.setObjectName("hint")
            self.tabs.hide()
            box.addWidget(hint)
            box.addStretch(1)

    def data_changed(self, tables: frozenset[str]) -> None:
        """A request registered at the desk, a prescription printed on another station…"""
        register = getattr(self, "register_page", None)
        if register is not None and "record_access_requests" in tables:
            register.reload()
        recent = getattr(self, "recent_page", None)
        if recent is not None and tables & {"prescriptions", "documents"}:
            recent.reload()
