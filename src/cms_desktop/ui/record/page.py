"""The clinical page of one patient: allergy banner above tabs Synthèse, Consultations,
Courbes, Documents, Chronologie. Reception gets the administrative documents only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from cms_desktop.domain.permissions import Permission
from cms_desktop.services import patient_file, timeline
from cms_desktop.services.patient_file import PatientFile
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.record.banner import AllergyBanner
from cms_desktop.ui.record.charts_tab import ChartsTab
from cms_desktop.ui.record.consultations_tab import ConsultationsTab
from cms_desktop.ui.record.documents_tab import DocumentsTab
from cms_desktop.ui.record.synthesis_tab import SynthesisTab
from cms_desktop.ui.record.timeline_tab import TimelineTab
from cms_desktop.ui.widgets import ErrorLabel

# What the clinical page shows (the actor's own drafts are left out: they are being typed).
CLINICAL_TABLES = frozenset(
    {
        "patients",
        "consultations",
        "documents",
        "prescriptions",
        "synthesis_allergies",
        "synthesis_allergy_statements",
        "synthesis_history",
        "synthesis_problems",
        "synthesis_risk_factors",
        "synthesis_screenings",
        "synthesis_treatments",
        "synthesis_vaccinations",
    }
)


class ClinicalPage(QWidget):
    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.patient_id = patient_id
        self.file: PatientFile | None = None
        self.clinical = ctx.actor.can(Permission.CLINICAL_READ)
        self.header = QLabel(self)
        self.header.setObjectName("pageTitle")
        self.banner = AllergyBanner(self)
        self.error_label = ErrorLabel(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("clinicalTabs")
        self.documents = DocumentsTab(ctx, patient_id, self)
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        box.addWidget(self.header)
        box.addWidget(self.banner)
        box.addWidget(self.error_label)
        box.addWidget(self.tabs, 1)
        if self.clinical:
            self.synthesis = SynthesisTab(ctx, patient_id, self)
            self.consultations = ConsultationsTab(ctx, patient_id, self)
            self.charts = ChartsTab(self)
            self.timeline = TimelineTab(self)
            tabs: list[tuple[QWidget, str]] = [
                (self.synthesis, self.tr("&Synthèse")),
                (self.consultations, self.tr("C&onsultations")),
            ]
            self.prescriptions: QWidget | None = None
            if ctx.actor.can(Permission.PRESCRIPTION_WRITE):
                from cms_desktop.ui.printing.prescription_editor import PrescriptionEditor

                editor = PrescriptionEditor(ctx, patient_id, show_banner=False)
                editor.issued.connect(lambda _id: self._load_timeline())
                self.prescriptions = editor
                tabs.append((editor, self.tr("O&rdonnances")))
            tabs += [
                (self.charts, self.tr("Co&urbes")),
                (self.documents, self.tr("&Documents")),
                (self.timeline, self.tr("C&hronologie")),
            ]
            for widget, title in tabs:
                self.tabs.addTab(widget, title)
            self.synthesis.sig_changed.connect(self.reload)
            self.consultations.sig_changed.connect(self.reload)
            self.documents.sig_changed.connect(self._load_timeline)
            self.timeline.sig_open.connect(self._open_from_timeline)
            for i in range(self.tabs.count()):
                shortcut = QShortcut(QKeySequence(f"Alt+{i + 1}"), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(lambda i=i: self.tabs.setCurrentIndex(i))
        else:
            self.banner.hide()
            self.tabs.addTab(self.documents, self.tr("Documents administratifs"))
        self.load()

    def load(self, reload: bool = False) -> None:
        ctx, pid = self._ctx, self.patient_id
        self.documents.refresh()
        if not self.clinical:
            return
        ctx.runner.run_write(
            lambda: patient_file.open_patient_file(ctx.workspace, ctx.actor, pid, reload=reload),
            self._file_loaded,
            self.error_label.show_message,
        )
        ctx.runner.run_read(
            lambda: patient_file.measurement_series(ctx.workspace, ctx.actor, pid),
            self.charts.set_series,
            self.error_label.show_message,
        )
        self._load_timeline()

    def reload(self) -> None:
        self.load(reload=True)

    def data_changed(self, tables: frozenset[str]) -> None:
        """A save here or a merge from another station: show it (a refresh, not audited as
        a new opening; the note being written and the selection stay)."""
        if tables & CLINICAL_TABLES:
            self.reload()

    def _load_timeline(self) -> None:
        ctx, pid = self._ctx, self.patient_id
        ctx.runner.run_read(
            lambda: timeline.timeline(ctx.workspace, ctx.actor, pid),
            self.timeline.set_items,
            self.error_label.show_message,
        )

    def _file_loaded(self, value: object) -> None:
        assert isinstance(value, PatientFile)
        self.file = value
        self.error_label.clear_message()
        self.header.setText(value.header.summary)
        self.banner.set_allergies(value.active_allergies, value.allergy_status)
        self.synthesis.set_file(value)
        self.consultations.set_file(value)

    def _open_from_timeline(self, kind: str, ref_id: str) -> None:
        if kind in ("consultation", "amendment"):
            self.tabs.setCurrentWidget(self.consultations)
            self.consultations.select(ref_id)
        elif kind == "prescription":
            from cms_desktop.ui.printing.reprint import open_stored_prescription

            open_stored_prescription(
                self._ctx,
                self,
                ref_id,
                self.error_label.show_message,
                lambda dialog: setattr(self, "preview_dialog", dialog),
            )
        elif kind == "document":
            self.tabs.setCurrentWidget(self.documents)
            for row, doc in enumerate(self.documents._docs):
                if doc.id == ref_id:
                    self.documents.table.setCurrentCell(row, 0)
                    self.documents.open_current()

    def save_pending(self) -> None:
        """Save the draft being typed (the page is about to close or the screen to lock)."""
        if self.clinical:
            self.consultations.save_pending()
