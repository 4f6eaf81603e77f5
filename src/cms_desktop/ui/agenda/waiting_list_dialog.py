"""« Liste d'attente médecin traitant »: residents without a médecin traitant waiting for
one. Add someone (priority, reason), note each contact attempt, offer a first appointment
(the person becomes a patient with a provisional identity), and see how many wait and for
how long."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import views, waiting_list
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.services.agenda.common import PractitionerView, local_now
from cms_desktop.services.agenda.waiting_list import PRIORITY_LABELS, WaitingListView
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, fit_to_screen

AnyIndex = QModelIndex | QPersistentModelIndex


class WaitingListModel(QAbstractTableModel):
    HEADERS = (
        "Nom",
        "Naissance",
        "Téléphone",
        "Inscrit le",
        "Attente",
        "Priorité",
        "Statut",
        "Contacts",
        "Motif",
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[WaitingListView] = []
        self.today = local_now().date()

    def set_entries(self, entries: Sequence[WaitingListView], today: date) -> None:
        self.beginResetModel()
        self._rows, self.today = list(entries), today
        self.endResetModel()

    def entry_at(self, row: int) -> WaitingListView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.tr(self.HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        e = self.entry_at(index.row())
        if e is None:
            return None
        contacts = str(e.contact_attempts)
        if e.last_contact_on is not None:
            contacts += f" (dernier le {e.last_contact_on:%d/%m/%Y})"
        values = (
            f"{e.family_name.upper()} {e.given_name}",
            f"{e.birth_date:%d/%m/%Y}",
            e.phone,
            f"{e.registered_on:%d/%m/%Y}",
            f"{e.months_waited(self.today)} mois",
            e.priority_label,
            e.status_label,
            contacts,
            e.note,
        )
        return values[index.column()] if 0 <= index.column() < len(values) else None


def _python_date(qdate: QDate) -> date:
    return date(qdate.year(), qdate.month(), qdate.day())


def _priority_combo(parent: QWidget, current: int = 3) -> QComboBox:
    combo = QComboBox(parent)
    for value, label in sorted(PRIORITY_LABELS.items()):
        combo.addItem(label, value)
    combo.setCurrentIndex(combo.findData(current))
    return combo


class RegisterDialog(ServiceDialog):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Inscrire sur la liste d'attente"), self.tr("Inscrire"), runner, parent
        )
        self._ws, self._actor = ws, actor
        self.family_edit = QLineEdit(self)
        self.given_edit = QLineEdit(self)
        self.birth_edit = QDateEdit(QDate(1970, 1, 1), self)
        self.birth_edit.setDisplayFormat("dd/MM/yyyy")
        self.phone_edit = QLineEdit(self)
        self.priority_combo = _priority_combo(self)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setMaxLength(300)
        self.reason_edit.setPlaceholderText(self.tr("ex. ALD sans médecin, grossesse, 80 ans"))
        self.form.addRow(self.tr("&Nom *"), self.family_edit)
        self.form.addRow(self.tr("&Prénom *"), self.given_edit)
        self.form.addRow(self.tr("Date de &naissance *"), self.birth_edit)
        self.form.addRow(self.tr("&Téléphone"), self.phone_edit)
        self.form.addRow(self.tr("P&riorité"), self.priority_combo)
        self.form.addRow(self.tr("&Motif"), self.reason_edit)
        self.family_edit.setFocus()

    def prepare(self) -> Callable[[], Any]:
        draft = waiting_list.WaitingListDraft(
            self.family_edit.text(),
            self.given_edit.text(),
            _python_date(self.birth_edit.date()),
            self.phone_edit.text(),
            int(self.priority_combo.currentData()),
            self.reason_edit.text(),
        )
        ws, actor = self._ws, self._actor
        return lambda: waiting_list.register(ws, actor, draft)


class OfferDialog(ServiceDialog):
    """A first appointment for the person: the next free slot of the chosen practitioner;
    booking it makes the person a patient (provisional identity), or nothing is saved."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        entry: WaitingListView,
        practitioners: Sequence[PractitionerView],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            self.tr("Proposer un premier rendez-vous"), self.tr("Réserver"), runner, parent
        )
        self._ws, self._actor, self._entry = ws, actor, entry
        self.slot: views.SlotView | None = None
        self.practitioner = QComboBox(self)
        for p in practitioners:
            self.practitioner.addItem(p.display_name, p.id)
        self.practitioner.currentIndexChanged.connect(lambda _i: self.find_slot())
        self.sex = QComboBox(self)
        self.sex.addItem(self.tr("Féminin"), "F")
        self.sex.addItem(self.tr("Masculin"), "M")
        self.slot_label = QLabel(self)
        self.form.addRow(
            self.tr("Personne"), QLabel(f"{entry.family_name.upper()} {entry.given_name}", self)
        )
        self.form.addRow(self.tr("&Sexe"), self.sex)
        self.form.addRow(self.tr("P&raticien"), self.practitioner)
        self.form.addRow(self.tr("Prochain créneau libre"), self.slot_label)
        # Someone already a patient of the centre keeps the identity of the file.
        self.form.setRowVisible(self.sex, entry.patient_id is None)
        self.find_slot()

    def find_slot(self) -> None:
        pid = self.practitioner.currentData()
        if pid is None:
            self.slot_label.setText(self.tr("(aucun praticien)"))
            return
        ws, actor = self._ws, self._actor
        self._runner.run_read(
            lambda: views.next_free_slot(ws, actor, practitioner_id=pid, limit=1),
            self._slot_found,
            self.error_label.show_message,
        )

    def _slot_found(self, slots: list[views.SlotView]) -> None:
        self.slot = slots[0] if slots else None
        if self.slot is None:
            self.slot_label.setText(self.tr("Aucun créneau libre dans les trois mois."))
        else:
            s = self.slot
            self.slot_label.setText(f"{s.start:%d/%m/%Y %H:%M} — {s.room_name}".rstrip(" —"))

    def prepare(self) -> Callable[[], Any]:
        slot = self.slot
        if slot is None:
            raise ValidationFailed(self.tr("Aucun créneau libre à proposer."))
        req = BookingRequest(slot.practitioner_id, slot.start, reason="Premier rendez-vous")
        ws, actor, entry_id, sex = self._ws, self._actor, self._entry.id, self.sex.currentData()
        return lambda: waiting_list.convert(ws, actor, entry_id, str(sex), req)


class WaitingListDialog(QDialog):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Liste d'attente médecin traitant"))
        self._ws, self._actor, self._runner = ws, actor, runner
        self.summary = QLabel(self)
        self.model = WaitingListModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.add_button = QPushButton(self.tr("Inscrire…"), self)
        self.contact_button = QPushButton(self.tr("Contact noté"), self)
        self.priority_combo = _priority_combo(self)
        self.priority_button = QPushButton(self.tr("Changer la priorité"), self)
        self.offer_button = QPushButton(self.tr("Proposer un premier rendez-vous…"), self)
        self.withdraw_button = QPushButton(self.tr("Retirer de la liste"), self)
        close = QPushButton(self.tr("Fermer"), self)
        self.add_button.clicked.connect(self.add_entry)
        self.contact_button.clicked.connect(self.record_contact)
        self.priority_button.clicked.connect(self.change_priority)
        self.offer_button.clicked.connect(self.offer)
        self.withdraw_button.clicked.connect(self.withdraw)
        close.clicked.connect(self.accept)
        self.error_label = ErrorLabel(self)
        buttons = QHBoxLayout()
        for widget in (
            self.add_button,
            self.contact_button,
            self.priority_combo,
            self.priority_button,
            self.offer_button,
            self.withdraw_button,
        ):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(close)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.table, 1)
        box.addWidget(self.error_label)
        box.addLayout(buttons)
        fit_to_screen(self, 1280, 640)
        self.reload()

    def reload(self) -> None:
        ws, actor = self._ws, self._actor

        def load() -> tuple[list[WaitingListView], waiting_list.WaitingStats, date]:
            today = local_now().date()
            return (
                waiting_list.list_waiting(ws, actor),
                waiting_list.stats(ws, actor, today=today),
                today,
            )

        self._runner.run_read(load, self._loaded, self.error_label.show_message)

    def _loaded(self, value: tuple[list[WaitingListView], waiting_list.WaitingStats, date]) -> None:
        entries, stats, today = value
        self.model.set_entries(entries, today)
        self.summary.setText(
            self.tr(
                "<b>%1 personne(s) en attente</b> d'un médecin traitant — attente moyenne "
                "%2 mois, la plus longue %3 mois."
            )
            .replace("%1", str(stats.waiting))
            .replace("%2", f"{stats.average_months:.1f}".replace(".", ","))
            .replace("%3", str(stats.longest_months))
        )

    def selected(self) -> WaitingListView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.entry_at(rows[0].row()) if rows else None

    def _write(self, call: Callable[[], object]) -> None:
        self._runner.run_write(call, lambda _v: self._done(), self.error_label.show_message)

    def _done(self) -> None:
        self.error_label.clear_message()
        self.reload()

    def _need_selection(self) -> WaitingListView | None:
        entry = self.selected()
        if entry is None:
            self.error_label.show_message(self.tr("Sélectionnez d'abord une personne."))
        return entry

    def _open(self, dialog: ServiceDialog) -> None:
        dialog.sig_done.connect(lambda _v: self._done())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def add_entry(self) -> None:
        self._open(RegisterDialog(self._ws, self._actor, self._runner, self))

    def record_contact(self) -> None:
        entry = self._need_selection()
        if entry is not None:
            ws, actor = self._ws, self._actor
            self._write(lambda: waiting_list.record_contact(ws, actor, entry.id))

    def change_priority(self) -> None:
        entry = self._need_selection()
        if entry is not None:
            ws, actor, value = self._ws, self._actor, int(self.priority_combo.currentData())
            self._write(lambda: waiting_list.set_priority(ws, actor, entry.id, value))

    def withdraw(self) -> None:
        entry = self._need_selection()
        if entry is not None:
            ws, actor = self._ws, self._actor
            self._write(lambda: waiting_list.set_status(ws, actor, entry.id, "withdrawn"))

    def offer(self) -> None:
        entry = self._need_selection()
        if entry is None:
            return
        ws, actor = self._ws, self._actor
        self._runner.run_read(
            lambda: views.list_practitioner_views(ws, actor),
            lambda practitioners: self._open(
                OfferDialog(ws, actor, self._runner, entry, practitioners, self)
            ),
            self.error_label.show_message,
        )
