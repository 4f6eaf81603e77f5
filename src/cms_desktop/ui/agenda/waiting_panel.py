"""The waiting-room panel: today's patients with status, arrival and waiting time.
Reception marks arrivals; a practitioner calls the next patient in from his or her list.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda.waiting_room import WaitingRoomEntry
from cms_desktop.ui.widgets import compact_combo

_HEADERS = ("Heure", "Patient", "Praticien", "Statut", "Attente", "Abs.")
_PATIENT_COLUMN = 1
# The status filter: what reception follows through the day.
STATUS_FILTERS: tuple[tuple[str, str, frozenset[VisitStatus]], ...] = (
    (
        "present",
        "Présents et à venir",
        frozenset(
            {
                VisitStatus.BOOKED,
                VisitStatus.ARRIVED,
                VisitStatus.IN_CONSULTATION,
            }
        ),
    ),
    ("waiting", "En salle d'attente", frozenset({VisitStatus.ARRIVED})),
    ("in_consultation", "En consultation", frozenset({VisitStatus.IN_CONSULTATION})),
    ("booked", "Pas encore arrivés", frozenset({VisitStatus.BOOKED})),
    ("seen", "Vus", frozenset({VisitStatus.SEEN})),
    ("no_show", "Absents", frozenset({VisitStatus.NO_SHOW})),
    ("all", "Tous les statuts", frozenset(VisitStatus)),
)


class WaitingRoomPanel(QWidget):
    sig_action = Signal(str, str)  # action ("arrived", "call", "seen", "no_show"), appointment id
    """A button or shortcut asked for a status change of the selected row."""
    sig_open_patient = Signal(str)
    """Double-click or « Ouvrir le dossier » on a row (clinicians); the patient id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.all_entries: list[WaitingRoomEntry] = []
        self.entries: list[WaitingRoomEntry] = []  # the rows shown, after the filters
        self._can_open = False
        title = QLabel(self.tr("Salle d'attente"), self)
        title.setObjectName("sectionTitle")
        self.practitioner_filter = QComboBox(self)
        self.practitioner_filter.setAccessibleName(self.tr("Praticien"))
        compact_combo(self.practitioner_filter, 14)
        self.practitioner_filter.addItem(self.tr("Tous les praticiens"), "")
        self.status_filter = QComboBox(self)
        self.status_filter.setAccessibleName(self.tr("Statut"))
        for key, label, _statuses in STATUS_FILTERS:
            self.status_filter.addItem(self.tr(label), key)
        self.practitioner_filter.currentIndexChanged.connect(lambda _i: self._show())
        self.status_filter.currentIndexChanged.connect(lambda _i: self._show())
        filters = QHBoxLayout()
        filters.addWidget(self.practitioner_filter, 1)
        filters.addWidget(self.status_filter, 1)
        self.table = QTableWidget(0, len(_HEADERS), self)
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in _HEADERS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The name takes the room left; the short columns keep their whole text.
        header.setSectionResizeMode(_PATIENT_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the practitioner
        self.setMinimumWidth(430)
        header.setMinimumSectionSize(40)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.open_selected())
        self.table.setTabKeyNavigation(False)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for action, label, keys in (
            ("arrived", self.tr("Arrivé (F5)"), "F5"),
            ("call", self.tr("Appeler (F6)"), "F6"),
            ("seen", self.tr("Vu (F7)"), "F7"),
            ("no_show", self.tr("Absent (F8)"), "F8"),
        ):
            button = QPushButton(label, self)
            button.setShortcut(keys)
            button.clicked.connect(lambda _c=False, a=action: self._emit(a))
            self.buttons[action] = button
            row.addWidget(button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(title)
        box.addLayout(filters)
        box.addWidget(self.table, 1)
        box.addLayout(row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def set_can_open(self, can: bool) -> None:
        self._can_open = can

    def set_entries(self, entries: list[WaitingRoomEntry]) -> None:
        self.all_entries = entries
        current = self.practitioner_filter.currentData()
        names = sorted({e.appointment.practitioner_name for e in entries})
        self.practitioner_filter.blockSignals(True)
        self.practitioner_filter.clear()
        self.practitioner_filter.addItem(self.tr("Tous les praticiens"), "")
        for name in names:
            self.practitioner_filter.addItem(name, name)
        self.practitioner_filter.setCurrentIndex(max(0, self.practitioner_filter.findData(current)))
        self.practitioner_filter.blockSignals(False)
        self._show()

    def _show(self) -> None:
        practitioner = self.practitioner_filter.currentData() or ""
        key = self.status_filter.currentData()
        statuses = next(f[2] for f in STATUS_FILTERS if f[0] == key)
        entries = [
            e
            for e in self.all_entries
            if e.appointment.status in statuses
            and (not practitioner or e.appointment.practitioner_name == practitioner)
        ]
        selected = self.selected_id()
        self.table.clearSelection()
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, entry in enumerate(entries):
            a = entry.appointment
            waited = "" if entry.waiting_minutes is None else f"{entry.waiting_minutes} min"
            values = (
                f"{a.start:%H:%M}",
                a.patient_name,
                a.practitioner_name,
                a.status_label,
                waited,
                str(entry.no_shows) if entry.no_shows else "",
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, a.id)
                # A cut name or status is read whole in its tooltip.
                item.setToolTip(
                    self.tr("Absences non excusées jusqu'ici : ") + (value or "0")
                    if c == 5
                    else value
                )
                if a.status == VisitStatus.ARRIVED and c == 3:
                    item.setForeground(Qt.GlobalColor.darkGreen)
                self.table.setItem(r, c, item)
            if a.id == selected:
                self.table.selectRow(r)
        self._update_buttons()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def select_appointment(self, appointment_id: str) -> None:
        for r, entry in enumerate(self.entries):
            if entry.appointment.id == appointment_id:
                self.table.selectRow(r)

    def selected_patient(self) -> str | None:
        wanted = self.selected_id()
        entry = next((e for e in self.entries if e.appointment.id == wanted), None)
        return None if entry is None else entry.appointment.patient_id

    def open_selected(self) -> None:
        patient_id = self.selected_patient()
        if self._can_open and patient_id is not None:
            self.sig_open_patient.emit(patient_id)

    def _menu(self, where: QPoint) -> None:
        menu = QMenu(self)
        if self._can_open and self.selected_patient() is not None:
            menu.addAction(self.tr("Ouvrir le dossier"), self.open_selected)
        labels = {"arrived": "Arrivé", "call": "Appeler", "seen": "Vu", "no_show": "Absent"}
        for action, button in self.buttons.items():
            if button.isEnabled():
                menu.addAction(self.tr(labels[action]), partial(self._emit, action))
        if not menu.isEmpty():
            menu.popup(self.table.viewport().mapToGlobal(where))
        self.menu = menu

    def _selected_status(self) -> VisitStatus | None:
        wanted = self.selected_id()
        entry = next((e for e in self.entries if e.appointment.id == wanted), None)
        return None if entry is None else entry.appointment.status

    def _update_buttons(self) -> None:
        status = self._selected_status()
        allowed = {
            "arrived": status == VisitStatus.BOOKED,
            "call": status == VisitStatus.ARRIVED,
            "seen": status == VisitStatus.IN_CONSULTATION,
            "no_show": status == VisitStatus.BOOKED,
        }
        for action, button in self.buttons.items():
            button.setEnabled(allowed[action])

    def _emit(self, action: str) -> None:
        appointment_id = self.selected_id()
        if appointment_id is not None and self.buttons[action].isEnabled():
            self.sig_action.emit(action, appointment_id)
