"""The Synthèse tab: every section of the fiche de synthèse and the prevention due dates.

Keyboard: arrows move, Enter edits the entry (or adds one on a section title), Insert adds to
the current section, Suppr ends the entry (resolves, stops or removes it).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.identity import agreed
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.prevention import ScreeningStatus
from cms_desktop.domain.synthesis import (
    EntryStatus,
)
from cms_desktop.services import allergy_status, synthesis
from cms_desktop.services.allergy_status import AllergyState
from cms_desktop.services.patient_file import PatientFile
from cms_desktop.services.synthesis import Section, SynthesisItem
from cms_desktop.services.synthesis_text import describe
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.record.entry_dialog import SECTION_TITLES, EntryDialog
from cms_desktop.ui.record.format import fmt_date
from cms_desktop.ui.widgets import ErrorLabel, ask

_ROLE_SECTION = Qt.ItemDataRole.UserRole
_ROLE_ID = Qt.ItemDataRole.UserRole + 1
_GREY = QBrush(QColor("#777777"))


def _inactive(section: Section, entry: Any) -> bool:
    if section in (Section.ALLERGIES, Section.PROBLEMS):
        return bool(entry.status is EntryStatus.RESOLVED)
    return section is Section.TREATMENTS and not entry.active


class SynthesisTab(QWidget):
    sig_changed = Signal()
    """An entry was added, edited or ended: the file must be reloaded."""

    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._patient_id = patient_id
        self._entries: dict[str, tuple[Section, SynthesisItem]] = {}
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("synthesisTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Élément"), self.tr("Détails")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(lambda *_: self.edit_current())
        self.add_button = QPushButton(self.tr("Ajouter (Inser)"), self)
        self.add_button.clicked.connect(self.add_to_current)
        self.edit_button = QPushButton(self.tr("Modifier (Entrée)"), self)
        self.edit_button.clicked.connect(self.edit_current)
        self.end_button = QPushButton(self.tr("Clore (Suppr)"), self)
        self.end_button.clicked.connect(self.end_current)
        self.no_allergy = QCheckBox(self.tr("Aucune allergie connue"), self)
        self.no_allergy.setToolTip(
            self.tr(
                "Cochez après avoir posé la question : la déclaration est datée et signée "
                "de votre nom. Sans elle, le dossier indique « Allergies non renseignées »."
            )
        )
        self.no_allergy.setEnabled(False)
        self.no_allergy.toggled.connect(self._no_allergy_toggled)
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.end_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.no_allergy)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.error_label = ErrorLabel(self)
        box.addLayout(row)
        box.addWidget(self.error_label)
        box.addWidget(self.tree)
        for keys, slot in (("Ins", self.add_to_current), ("Del", self.end_current)):
            shortcut = QShortcut(QKeySequence(keys), self.tree)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        self.dialog: EntryDialog | None = None

    def set_file(self, file: PatientFile) -> None:
        current = self._current_key()
        self.no_allergy.blockSignals(True)
        self.no_allergy.setChecked(file.allergy_status.state is AllergyState.NONE_KNOWN)
        self.no_allergy.blockSignals(False)
        # With an active allergy there is nothing to state; close the allergy first.
        self.no_allergy.setEnabled(
            not file.active_allergies and self._ctx.actor.can(Permission.CLINICAL_WRITE)
        )
        self.tree.clear()
        self._entries.clear()
        prevention = QTreeWidgetItem(self.tree, [self.tr("Prévention — dépistages organisés"), ""])
        for due in file.screenings:
            if due.status is ScreeningStatus.NOT_ELIGIBLE and due.due_date is None:
                continue
            when = fmt_date(due.due_date)
            detail = f"{due.status_label}" + (f" — échéance {when}" if when else "")
            if due.status is ScreeningStatus.NOT_ELIGIBLE:
                concerned = agreed(file.header.sex, "concerné", "concernée", "concerné·e")
                detail = f"Non {concerned} avant le {when}"
            child = QTreeWidgetItem(prevention, [due.label, f"{detail} ({due.test_label})"])
            if due.status in (ScreeningStatus.DUE, ScreeningStatus.OVERDUE):
                child.setForeground(1, QBrush(QColor("#b00020")))
        if prevention.childCount() == 0:
            QTreeWidgetItem(prevention, [self.tr("Aucun dépistage organisé à ce jour"), ""])
        sheet = file.synthesis
        for section in Section:
            items: tuple[SynthesisItem, ...] = getattr(sheet, section.value)
            top = QTreeWidgetItem(self.tree, [f"{SECTION_TITLES[section]} ({len(items)})", ""])
            top.setData(0, _ROLE_SECTION, section.value)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for item in items:
                text, details = describe(section, item.entry)
                child = QTreeWidgetItem(top, [text, details])
                child.setData(0, _ROLE_SECTION, section.value)
                child.setData(0, _ROLE_ID, item.id)
                if _inactive(section, item.entry):
                    child.setForeground(0, _GREY)
                    child.setForeground(1, _GREY)
                self._entries[item.id] = (section, item)
        font = prevention.font(0)
        font.setBold(True)
        prevention.setFont(0, font)
        self.tree.expandAll()
        self._restore(current)

    def _no_allergy_toggled(self, stated: bool) -> None:
        ctx, pid = self._ctx, self._patient_id
        self.error_label.clear_message()
        change = (
            allergy_status.state_no_known_allergy
            if stated
            else allergy_status.withdraw_no_known_allergy
        )
        ctx.runner.run_write(
            lambda: change(ctx.workspace, ctx.actor, pid),
            lambda _v: self.sig_changed.emit(),
            self._no_allergy_failed,
        )

    def _no_allergy_failed(self, message: str) -> None:
        self.no_allergy.blockSignals(True)
        self.no_allergy.setChecked(not self.no_allergy.isChecked())
        self.no_allergy.blockSignals(False)
        self.error_label.show_message(message)

    def _current_key(self) -> str | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return str(item.data(0, _ROLE_ID) or item.data(0, _ROLE_SECTION) or "")

    def _restore(self, key: str | None) -> None:
        it = self.tree.topLevelItem(1)
        if key:
            for i in range(self.tree.topLevelItemCount()):
                top = self.tree.topLevelItem(i)
                if top is None:
                    continue
                for j in range(-1, top.childCount()):
                    node = top if j < 0 else top.child(j)
                    if node is not None and key in (
                        node.data(0, _ROLE_ID),
                        node.data(0, _ROLE_SECTION),
                    ):
                        it = node
        if it is not None:
            self.tree.setCurrentItem(it)

    def _section_and_id(self) -> tuple[Section | None, str | None]:
        item = self.tree.currentItem()
        if item is None or item.data(0, _ROLE_SECTION) is None:
            return None, None
        return Section(item.data(0, _ROLE_SECTION)), item.data(0, _ROLE_ID)

    def add_to_current(self) -> None:
        section, _ = self._section_and_id()
        self.open_dialog(section or Section.HISTORY)

    def edit_current(self) -> None:
        section, entry_id = self._section_and_id()
        if section is None:
            return
        if entry_id is None:
            self.open_dialog(section)
        else:
            self.open_dialog(section, entry_id)

    def open_dialog(self, section: Section, entry_id: str | None = None) -> EntryDialog:
        entry = self._entries[entry_id][1].entry if entry_id else None
        dialog = EntryDialog(self._ctx, self._patient_id, section, entry_id, entry, self)
        dialog.sig_done.connect(lambda _v: self.sig_changed.emit())
        self.dialog = dialog
        dialog.open()
        return dialog

    def end_current(self) -> None:
        section, entry_id = self._section_and_id()
        if section is None or entry_id is None:
            return
        text, _ = describe(section, self._entries[entry_id][1].entry)
        if section in (Section.ALLERGIES, Section.PROBLEMS):
            question = self.tr("Marquer « %s » comme résolu ?") % text
        elif section is Section.TREATMENTS:
            question = self.tr("Arrêter le traitement « %s » ?") % text
        else:
            question = self.tr("Retirer « %s » de la synthèse ?") % text
        if not ask(self, self.tr("Clore un élément"), question):
            return
        ctx = self._ctx
        ctx.runner.run_write(
            lambda: synthesis.end_entry(ctx.workspace, ctx.actor, section, entry_id),
            lambda _v: self.sig_changed.emit(),
        )
