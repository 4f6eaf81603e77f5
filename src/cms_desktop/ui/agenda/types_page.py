"""Administration › Types de rendez-vous: the label, default length and colour of each type.

The kinds themselves (and their rules: in the centre's hours or not, a room or not) are
fixed; a centre renames them, lengthens its consultations, picks colours its staff can tell
apart. Typed in a table (keyboard: arrows, F2 or typing, Ctrl+S); nothing is written until
« Enregistrer », and the main window asks before a logout drops unsaved changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import resources
from cms_desktop.services.agenda.common import TypeInfo
from cms_desktop.services.agenda.resources import COLOUR_FORMAT, TypeChange
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel

KIND, LABEL, MINUTES, COLOUR = range(4)


def _readable_on(colour: str) -> QColor:
    """Black or white text, whichever reads better on ``colour``."""
    c = QColor(colour)
    return QColor("#000000") if c.lightness() > 140 else QColor("#ffffff")


class AppointmentTypesPage(QWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self._loaded: list[TypeInfo] = []
        self._filling = False

        title = QLabel(self.tr("Types de rendez-vous"), self)
        title.setObjectName("pageTitle")
        hint = QLabel(
            self.tr(
                "Libellé, durée proposée à la prise de rendez-vous et couleur dans l'agenda. "
                "Les rendez-vous déjà pris gardent leur durée."
            ),
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Type"), self.tr("Libellé"), self.tr("Durée (min)"), self.tr("Couleur")]
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LABEL, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._changed)
        self.error = ErrorLabel(self)
        self.saved_label = QLabel(self)
        self.saved_label.setObjectName("hint")
        self.save_button = QPushButton(self.tr("&Enregistrer (Ctrl+S)"), self)
        self.save_button.clicked.connect(self.save)
        self.undo_button = QPushButton(self.tr("Annuler les modifications"), self)
        self.undo_button.clicked.connect(self.refresh)
        self.colour_button = QPushButton(self.tr("&Choisir la couleur…"), self)
        self.colour_button.setToolTip(self.tr("Couleur du type sélectionné (ou tapez #RRVVBB)"))
        self.colour_button.clicked.connect(self.pick_colour)
        self.retire_button = QPushButton(self.tr("Retirer / remettre en service"), self)
        self.retire_button.setToolTip(
            self.tr("Un type retiré n'est plus proposé ; les rendez-vous déjà pris le gardent.")
        )
        self.retire_button.clicked.connect(self.toggle_retired)
        save = QShortcut(QKeySequence("Ctrl+S"), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.save)

        buttons = QHBoxLayout()
        buttons.addWidget(self.colour_button)
        buttons.addWidget(self.retire_button)
        buttons.addWidget(self.saved_label, 1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    # --- data ---------------------------------------------------------------------

    def refresh(self) -> None:
        self.error.clear_message()
        self._runner.run_read(
            lambda: resources.list_appointment_types(self._ws, self._actor, include_retired=True),
            self._show,
            self.error.show_message,
        )

    def _show(self, types: list[TypeInfo]) -> None:
        self._loaded = list(types)
        self._filling = True
        try:
            self.table.setRowCount(len(types))
            for row, info in enumerate(types):
                name = AppointmentType(info.code).label
                kind = QTableWidgetItem(name if info.active else name + self.tr(" (retiré)"))
                kind.setFlags(kind.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if not info.active:
                    kind.setForeground(QBrush(QColor("#7f7f7f")))
                self.table.setItem(row, KIND, kind)
                self.table.setItem(row, LABEL, QTableWidgetItem(info.label))
                minutes = QTableWidgetItem(str(info.minutes))
                minutes.setTextAlignment(
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
                self.table.setItem(row, MINUTES, minutes)
                self.table.setItem(row, COLOUR, QTableWidgetItem(info.colour))
                self._paint(row)
        finally:
            self._filling = False
        self._update_buttons()

    def _paint(self, row: int) -> None:
        item = self.table.item(row, COLOUR)
        if item is None:
            return
        text = item.text().strip()
        if COLOUR_FORMAT.match(text):
            item.setBackground(QBrush(QColor(text)))
            item.setForeground(QBrush(_readable_on(text)))
        else:
            item.setBackground(QBrush())
            item.setForeground(QBrush())

    def _changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        if item.column() == COLOUR:
            self._filling = True
            try:
                self._paint(item.row())
            finally:
                self._filling = False
        self.saved_label.clear()
        self._update_buttons()

    def _edited(self) -> list[tuple[TypeInfo, str, str, str]]:
        """(as loaded, label, minutes, colour as typed) of the rows that differ."""
        rows = []
        for row, info in enumerate(self._loaded):
            cells = [self.table.item(row, column) for column in (LABEL, MINUTES, COLOUR)]
            label, minutes, colour = (c.text().strip() if c else "" for c in cells)
            if (label, minutes, colour.lower()) != (
                info.label,
                str(info.minutes),
                info.colour.lower(),
            ):
                rows.append((info, label, minutes, colour))
        return rows

    def has_unsaved_changes(self) -> bool:
        return bool(self._edited())

    def _update_buttons(self) -> None:
        dirty = self.has_unsaved_changes()
        self.save_button.setEnabled(dirty)
        self.undo_button.setEnabled(dirty)

    def pick_colour(self) -> None:
        """The colour dialog for the current row's type; its choice goes in the table."""
        row = self.table.currentRow()
        item = self.table.item(row, COLOUR) if row >= 0 else None
        if item is None:
            self.error.show_message(self.tr("Sélectionnez d'abord un type dans le tableau."))
            return
        current = QColor(item.text().strip())
        chosen = QColorDialog.getColor(
            current if current.isValid() else QColor("#4f81bd"),
            self,
            self.tr("Couleur de « %1 »").replace(
                "%1", (label.text() if (label := self.table.item(row, LABEL)) else "")
            ),
        )
        if chosen.isValid():
            item.setText(chosen.name())

    def toggle_retired(self) -> None:
        """Retire the current row's type, or put it back in service (saved at once)."""
        row = self.table.currentRow()
        if not 0 <= row < len(self._loaded):
            self.error.show_message(self.tr("Sélectionnez d'abord un type dans le tableau."))
            return
        if self.has_unsaved_changes():
            self.error.show_message(self.tr("Enregistrez ou annulez d'abord les modifications."))
            return
        info = self._loaded[row]
        ws, actor = self._ws, self._actor
        self._runner.run_write(
            lambda: resources.set_appointment_type_retired(ws, actor, info.code, info.active),
            lambda _v: self.refresh(),
            self.error.show_message,
        )

    # --- saving -------------------------------------------------------------------

    def save(self) -> None:
        if not self.has_unsaved_changes():
            return
        changes: list[TypeChange] = []
        for info, label, minutes, colour in self._edited():
            try:
                length = int(minutes)
            except ValueError:
                self.error.show_message(
                    self.tr("Durée de « %1 » : un nombre de minutes, de 1 à 720.").replace(
                        "%1", label or info.label
                    )
                )
                return
            changes.append(TypeChange(info.code, label, length, colour))
        self.error.clear_message()
        ws, actor = self._ws, self._actor
        self._runner.run_write(
            lambda: resources.update_appointment_types(ws, actor, changes),
            self._saved,
            self.error.show_message,  # what was typed stays in the table
        )

    def _saved(self, _result: object) -> None:
        self.refresh()
        self.saved_label.setText(self.tr("Types enregistrés."))
