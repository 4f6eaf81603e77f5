"""The waiting-room panel: today's patients with status, arrival and waiting time.
Reception marks arrivals; a practitioner calls the next patient in from his or her list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda.waiting_room import WaitingRoomEntry

_HEADERS = ("Heure", "Patient", "Praticien", "Statut", "Attente", "Absences")


class WaitingRoomPanel(QWidget):
    sig_action = Signal(str, str)  # action ("arrived", "call", "seen", "no_show"), appointment id
    """A button or shortcut asked for a status change of the selected row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[WaitingRoomEntry] = []
        title = QLabel(self.tr("Salle d'attente"), self)
        title.setObjectName("sectionTitle")
        self.table = QTableWidget(0, len(_HEADERS), self)
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in _HEADERS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
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
        box.addWidget(self.table, 1)
        box.addLayout(row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def set_entries(self, entries: list[WaitingRoomEntry]) -> None:
        selected = self.selected_id()
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
