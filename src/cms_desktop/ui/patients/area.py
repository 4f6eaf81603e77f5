"""The Patients area: search tab, and one tab per open patient (several at once).

Ctrl+N new patient, Ctrl+W closes the current patient (asking first if edits are unsaved),
Enter in the search opens the selected patient. A clinician's patient tab starts with the
« Dossier médical » built by the clinical feature's factory; reception never gets it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cms_desktop.domain.permissions import Permission
from cms_desktop.ui import widgets
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.patients.identity_page import IdentityPage
from cms_desktop.ui.patients.picker import PatientPicker

ClinicalPageFactory = Callable[[AreaContext, str], QWidget]
IDENTITY_TABLES = frozenset({"patients", "patient_ald", "users"})


class PatientTab(QWidget):
    """One open patient: sub-tabs « Dossier médical » (clinicians) and « Identité et couverture »."""

    def __init__(
        self,
        ctx: AreaContext,
        patient_id: str | None,
        clinical_page_factory: ClinicalPageFactory | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._factory = clinical_page_factory
        self.patient_id = patient_id
        self.tabs = QTabWidget(self)
        self.identity = IdentityPage(ctx, patient_id, self)
        self.clinical: QWidget | None = None
        if patient_id is not None:
            self._add_clinical(patient_id)
        self.tabs.addTab(self.identity, self.tr("Identité et couverture"))
        # The director answers « who opened this record? » from the record itself.
        self.access_log_button: QPushButton | None = None
        if ctx.actor.can(Permission.AUDIT_READ):
            self.access_log_button = QPushButton(self.tr("Qui a consulté ce dossier ?"), self)
            self.access_log_button.clicked.connect(self.show_access_log)
            self.access_log_button.setEnabled(patient_id is not None)
            self.tabs.setCornerWidget(self.access_log_button, Qt.Corner.TopRightCorner)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.tabs)
        self.identity.saved.connect(self._saved)
        self.setFocusProxy(self.tabs.currentWidget())

    def _add_clinical(self, patient_id: str) -> None:
        if self._factory is None or not self._ctx.actor.can(Permission.CLINICAL_READ):
            return
        self.clinical = self._factory(self._ctx, patient_id)
        self.tabs.insertTab(0, self.clinical, self.tr("Dossier médical"))
        self.tabs.setCurrentIndex(0)

    def show_access_log(self) -> None:
        from cms_desktop.ui.journal import RecordAccessLogDialog

        if self.patient_id is None:
            return
        dialog = RecordAccessLogDialog(self._ctx, self.patient_id, self.identity.title, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.access_log = dialog
        dialog.open()

    def _saved(self, patient_id: str) -> None:
        if self.patient_id is None:  # a new patient now has a record to open
            if self.access_log_button is not None:
                self.access_log_button.setEnabled(True)
            self.patient_id = patient_id
            self._add_clinical(patient_id)
            self.tabs.setCurrentWidget(self.identity)

    @property
    def dirty(self) -> bool:
        return self.identity.dirty

    def data_changed(self, tables: frozenset[str]) -> None:
        """Show changes made elsewhere; what is being typed here is never overwritten."""
        if self.patient_id is not None and tables & IDENTITY_TABLES and not self.identity.dirty:
            self.identity.reload()
        follow = getattr(self.clinical, "data_changed", None)
        if callable(follow):
            follow(tables)


class PatientsArea(QWidget):
    def __init__(
        self,
        ctx: AreaContext,
        clinical_page_factory: ClinicalPageFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._factory = clinical_page_factory
        self.tabs = QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        search = QWidget(self)
        self.picker = PatientPicker(ctx, search)
        self.picker.patient_chosen.connect(self.open_patient)
        new_button = QPushButton(self.tr("Nouveau patient (Ctrl+N)"), search)
        new_button.clicked.connect(self.new_patient)
        new_button.setVisible(ctx.actor.can(Permission.PATIENT_IDENTITY_WRITE))
        title = QLabel(self.tr("Rechercher un patient"), search)
        title.setObjectName("pageTitle")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(new_button)
        box = QVBoxLayout(search)
        box.addLayout(top)
        box.addWidget(self.picker, 1)
        self.tabs.addTab(search, self.tr("Recherche"))
        # The search tab is never closed.
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.tabs)
        for keys, slot in (
            (QKeySequence.StandardKey.New, self.new_patient),
            ("Ctrl+W", self.close_current),
            ("Ctrl+F", self.focus_search),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.setFocusProxy(self.picker)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if self.tabs.currentIndex() == 0:
            self.picker.field.setFocus()

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.picker.field.setFocus()
        self.picker.field.selectAll()

    def data_changed(self, tables: frozenset[str]) -> None:
        if "patients" in tables and self.picker.field.text().strip():
            self.picker.refresh()
        for tab in self.patient_tabs():
            tab.data_changed(tables)

    def patient_tabs(self) -> list[PatientTab]:
        return [
            w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), PatientTab)
        ]

    def open_patient(self, patient_id: str) -> PatientTab:
        for tab in self.patient_tabs():
            if tab.patient_id == patient_id:
                self.tabs.setCurrentWidget(tab)
                return tab
        return self._add_tab(PatientTab(self._ctx, patient_id, self._factory, self))

    def new_patient(self) -> PatientTab | None:
        if not self._ctx.actor.can(Permission.PATIENT_IDENTITY_WRITE):
            return None
        tab = self._add_tab(PatientTab(self._ctx, None, self._factory, self))
        self.tabs.setTabText(self.tabs.indexOf(tab), self.tr("Nouveau patient"))
        tab.identity.setFocus()
        return tab

    def _add_tab(self, tab: PatientTab) -> PatientTab:
        index = self.tabs.addTab(tab, tab.identity.title or self.tr("Patient"))
        tab.identity.title_changed.connect(lambda title: self._retitle(tab, title))
        tab.identity.dirty_changed.connect(lambda _dirty: self._retitle(tab, None))
        tab.identity.open_requested.connect(self.open_patient)
        self.tabs.setCurrentIndex(index)
        tab.setFocus()
        return tab

    def _retitle(self, tab: PatientTab, title: str | None) -> None:
        index = self.tabs.indexOf(tab)
        if index < 0:
            return
        base = title if title is not None else self.tabs.tabText(index).removesuffix(" *")
        self.tabs.setTabText(index, base + (" *" if tab.dirty else ""))

    def confirm_discard(self, tab: PatientTab) -> bool:
        return widgets.ask(
            self,
            self.tr("Modifications non enregistrées"),
            self.tr("Ce dossier a des modifications non enregistrées. Fermer sans enregistrer ?"),
        )

    def close_tab(self, index: int) -> bool:
        tab = self.tabs.widget(index)
        if not isinstance(tab, PatientTab):
            return False
        if tab.dirty and not self.confirm_discard(tab):
            return False
        self.tabs.removeTab(index)
        tab.deleteLater()
        if self.tabs.currentIndex() == 0:
            self.picker.field.setFocus()
        return True

    def close_current(self) -> None:
        self.close_tab(self.tabs.currentIndex())

    def has_unsaved_changes(self) -> bool:
        return any(tab.dirty for tab in self.patient_tabs())
