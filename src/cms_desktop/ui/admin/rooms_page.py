"""Administration › « Salles »: the centre's rooms, their kind and their order in the agenda.

A room is never deleted: it is deactivated (its appointments and their history keep it).
One with appointments to come is deactivated only by moving them to another room.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.rooms import RoomKind
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import rooms
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, shortcut

AnyIndex = QModelIndex | QPersistentModelIndex


class RoomsModel(QAbstractTableModel):
    """Rooms in the agenda's order, one row each (deactivated ones greyed)."""

    HEADERS = ("Ordre", "Salle", "Type", "État", "Rendez-vous à venir")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[rooms.RoomInfo] = []

    def set_rooms(self, infos: Sequence[rooms.RoomInfo]) -> None:
        self.beginResetModel()
        self._rows = list(infos)
        self.endResetModel()

    def all_rooms(self) -> list[rooms.RoomInfo]:
        return list(self._rows)

    def room_at(self, row: int) -> rooms.RoomInfo | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, room_id: str) -> int:
        return next((r for r, info in enumerate(self._rows) if info.id == room_id), -1)

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
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        info = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                str(index.row() + 1),
                info.name,
                info.kind_label,
                self.tr("active") if info.active else self.tr("désactivée"),
                str(info.upcoming) if info.upcoming else "",
            )
            return values[index.column()] if 0 <= index.column() < len(values) else None
        if role == Qt.ItemDataRole.ForegroundRole and not info.active:
            return QBrush(QColor("#7f7f7f"))
        return None


def kind_combo(parent: QWidget, current: str = RoomKind.CONSULTING.value) -> QComboBox:
    combo = QComboBox(parent)
    for kind in RoomKind:
        combo.addItem(kind.label, kind.value)
    index = combo.findData(current)
    combo.setCurrentIndex(max(index, 0))
    return combo


class RoomDialog(ServiceDialog):
    """Add a room, or rename one and change its kind."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        room: rooms.RoomInfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = self.tr("Nouvelle salle") if room is None else self.tr("Modifier la salle")
        ok = self.tr("Ajouter la salle") if room is None else self.tr("Enregistrer")
        super().__init__(title, ok, runner, parent)
        self._ws, self._actor, self._room = ws, actor, room
        self.name_edit = QLineEdit(room.name if room else "", self)
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText(self.tr("ex. Cabinet 7"))
        self.kind_combo = kind_combo(self, room.kind if room else RoomKind.CONSULTING.value)
        self.form.addRow(self.tr("&Nom"), self.name_edit)
        self.form.addRow(self.tr("&Type"), self.kind_combo)
        self.name_edit.setFocus()

    def prepare(self) -> Callable[[], Any]:
        ws, actor, room = self._ws, self._actor, self._room
        name, kind = self.name_edit.text(), str(self.kind_combo.currentData())
        if room is None:
            return lambda: rooms.add_room(ws, actor, name, kind)
        return lambda: rooms.update_room(ws, actor, room.id, name=name, kind=kind)


class MoveAppointmentsDialog(ServiceDialog):
    """Deactivating a room with appointments to come: where to move them (or cancel)."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        room: rooms.RoomInfo,
        others: Sequence[rooms.RoomInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            self.tr("Désactiver la salle"), self.tr("Transférer et désactiver"), runner, parent
        )
        self._ws, self._actor, self._room = ws, actor, room
        self.text_label = QLabel(
            self.tr(
                "La salle « %1 » a %2 rendez-vous à venir. Pour la désactiver, transférez-les "
                "(avec les plages de consultation qui l'indiquent) dans une autre salle."
            )
            .replace("%1", room.name)
            .replace("%2", str(room.upcoming)),
            self,
        )
        self.text_label.setWordWrap(True)
        self.target_combo = QComboBox(self)
        for other in others:
            self.target_combo.addItem(other.name, other.id)
        self.form.addRow(self.text_label)
        self.form.addRow(self.tr("&Transférer vers"), self.target_combo)

    def prepare(self) -> Callable[[], Any]:
        target = self.target_combo.currentData()
        if target is None:
            raise ValidationFailed(self.tr("Aucune autre salle active où transférer."))
        ws, actor, room_id = self._ws, self._actor, self._room.id
        return lambda: rooms.disable_room(ws, actor, room_id, move_to=str(target))


class RoomsPage(QWidget):
    sig_changed = Signal()
    """Rooms were added, changed, reordered or (de)activated."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.model = RoomsModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTabKeyNavigation(False)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.edit_room())
        self.add_button = QPushButton(self.tr("Nouvelle salle…"), self)
        self.edit_button = QPushButton(self.tr("Renommer…"), self)
        self.up_button = QPushButton(self.tr("Monter"), self)
        self.down_button = QPushButton(self.tr("Descendre"), self)
        self.toggle_button = QPushButton(self.tr("Désactiver…"), self)
        buttons = QHBoxLayout()
        for button, keys, slot in (
            (self.add_button, "Ctrl+N", self.add_room),
            (self.edit_button, "F2", self.edit_room),
            (self.up_button, "Ctrl+Up", lambda: self.move_selected(-1)),
            (self.down_button, "Ctrl+Down", lambda: self.move_selected(1)),
            (self.toggle_button, "Ctrl+D", self.toggle_active),
        ):
            button.clicked.connect(slot)
            button.setToolTip(keys)
            shortcut(self, keys, slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        hint = QLabel(
            self.tr(
                "L'ordre des salles est celui des colonnes de l'agenda « par salle ». Une salle "
                "n'est jamais supprimée : désactivée, elle garde son nom dans l'historique."
            ),
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.error_label = ErrorLabel(self)
        box = QVBoxLayout(self)
        box.addLayout(buttons)
        box.addWidget(self.error_label)
        box.addWidget(self.table, 1)
        box.addWidget(hint)
        self._update_buttons()
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self._runner.run_read(
            lambda: rooms.list_all_rooms(self._ws, self._actor),
            lambda infos: self._loaded(infos, select),
            self.error_label.show_message,
        )

    def _loaded(self, infos: list[rooms.RoomInfo], select: str | None) -> None:
        chosen = self.selected()
        current = select or (chosen.id if chosen is not None else None)
        self.model.set_rooms(infos)
        if current is not None and (row := self.model.row_of(current)) >= 0:
            self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> rooms.RoomInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.room_at(rows[0].row()) if rows else None

    def select_name(self, name: str) -> None:
        for row in range(self.model.rowCount()):
            info = self.model.room_at(row)
            if info is not None and info.name == name:
                self.table.selectRow(row)

    def _update_buttons(self, *_args: object) -> None:
        room = self.selected()
        for button in (self.edit_button, self.up_button, self.down_button, self.toggle_button):
            button.setEnabled(room is not None)
        self.toggle_button.setText(
            self.tr("Réactiver") if room is not None and not room.active else self.tr("Désactiver…")
        )

    def _done(self, value: object) -> None:
        self.error_label.clear_message()
        select = value.id if isinstance(value, rooms.RoomInfo) else None
        if isinstance(value, rooms.RoomDisabled):
            select = value.room.id
        self.reload(select)
        self.sig_changed.emit()

    def _open(self, dialog: ServiceDialog) -> None:
        dialog.sig_done.connect(self._done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def add_room(self) -> None:
        self._open(RoomDialog(self._ws, self._actor, self._runner, None, self))

    def edit_room(self) -> None:
        room = self.selected()
        if room is not None:
            self._open(RoomDialog(self._ws, self._actor, self._runner, room, self))

    def move_selected(self, offset: int) -> None:
        room = self.selected()
        if room is None:
            return
        ws, actor, room_id = self._ws, self._actor, room.id
        self._runner.run_write(
            lambda: rooms.move_room(ws, actor, room_id, offset),
            lambda _infos: self._done(room),
            self.error_label.show_message,
        )

    def toggle_active(self) -> None:
        room = self.selected()
        if room is None:
            return
        ws, actor, room_id = self._ws, self._actor, room.id
        if not room.active:
            self._runner.run_write(
                lambda: rooms.enable_room(ws, actor, room_id),
                self._done,
                self.error_label.show_message,
            )
            return
        if room.upcoming:
            others = [r for r in self.model.all_rooms() if r.active and r.id != room.id]
            self._open(MoveAppointmentsDialog(ws, actor, self._runner, room, others, self))
            return
        question = self.tr(
            "Désactiver la salle « %1 » ? Elle ne sera plus proposée ; son nom reste dans "
            "l'historique des rendez-vous."
        ).replace("%1", room.name)
        if widgets.ask(self, self.tr("Désactiver la salle"), question):
            self._runner.run_write(
                lambda: rooms.disable_room(ws, actor, room_id),
                self._done,
                self.error_label.show_message,
            )
