"""Administration › Types de rendez-vous: the label, default length and colour of each type,
and the types the centre adds.

The built-in kinds keep their rules (in the centre's hours or not, a room or not); a centre
renames them, lengthens its consultations, picks colours its staff can tell apart, and adds
its own (« Nouveau type… »: label, length, colour and the rules, chosen once). Typed in a
table (keyboard: arrows, F2 or typing, Ctrl+S); nothing is written until « Enregistrer »,
and the main window asks before a logout drops unsaved changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import resources
from cms_desktop.services.agenda.common import TypeInfo
from cms_desktop.services.agenda.resources import (
    COLOUR_FORMAT,
    MAX_TYPE_LABEL,
    MAX_TYPE_MINUTES,
    MIN_TYPE_MINUTES,
    NewAppointmentType,
    TypeChange,
)
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel

KIND, LABEL, MINUTES, COLOUR, RULES = range(5)
ADDED_KIND = "Type du centre"  # the first column of a type the centre added


def rules_text(info: TypeInfo) -> str:
    """The rules of a type in a few French words, for the table (full sentence in the
    tooltip)."""
    parts = [
        "salle" if info.needs_room else "sans salle",
        "heures d'ouverture" if info.in_centre_hours else "hors heures d'ouverture",
        "plages" if info.in_practitioner_ranges else "hors plages",
    ]
    if info.released_same_day:
        parts.append("non programmé")
    if info.blocks_time:
        parts.append("temps bloqué")
    if not info.reception_books:
        parts.append("pas l'accueil")
    return ", ".join(parts)


def _readable_on(colour: str) -> QColor:
    """Black or white text, whichever reads better on ``colour``."""
    c = QColor(colour)
    return QColor("#000000") if c.lightness() > 140 else QColor("#ffffff")


def rules_tooltip(info: TypeInfo) -> str:
    lines = [
        "Dans une salle du centre" if info.needs_room else "Sans salle",
        "Pendant les heures d'ouverture"
        if info.in_centre_hours
        else "Hors des heures d'ouverture possible",
        "Dans les plages du praticien"
        if info.in_practitioner_ranges
        else "Hors des plages du praticien possible",
    ]
    if info.released_same_day:
        lines.append("Soin non programmé : ouvert à l'accueil le jour même seulement")
    if info.blocks_time:
        lines.append("Bloque le temps du praticien (jours fériés et absences compris)")
    lines.append(
        "Réservable par l'accueil" if info.reception_books else "Pas réservable par l'accueil"
    )
    return "\n".join(lines)


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
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Type"),
                self.tr("Libellé"),
                self.tr("Durée (min)"),
                self.tr("Couleur"),
                self.tr("Règles"),
            ]
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
        self.new_button = QPushButton(self.tr("&Nouveau type…"), self)
        self.new_button.setToolTip(self.tr("Ajouter un type de rendez-vous (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_type)
        new = QShortcut(QKeySequence("Ctrl+N"), self)
        new.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new.activated.connect(self.new_type)
        save = QShortcut(QKeySequence("Ctrl+S"), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.save)

        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
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
                name = AppointmentType(info.code).label if info.builtin else self.tr(ADDED_KIND)
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
                rules = QTableWidgetItem(rules_text(info))
                rules.setToolTip(rules_tooltip(info))
                rules.setFlags(rules.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, RULES, rules)
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
                    self.tr("Durée de « %1 » : un nombre de minutes, de %2 à %3.")
                    .replace("%1", label or info.label)
                    .replace("%2", str(MIN_TYPE_MINUTES))
                    .replace("%3", str(MAX_TYPE_MINUTES))
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

    def new_type(self) -> None:
        """The dialog for a type of the centre's own; the table shows it once created."""
        if self.has_unsaved_changes():
            self.error.show_message(self.tr("Enregistrez ou annulez d'abord les modifications."))
            return
        dialog = NewTypeDialog(self._ws, self._actor, self._runner, self)
        dialog.sig_done.connect(self._added)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.new_dialog = dialog  # for tests and the screenshot tool

    def _added(self, info: object) -> None:
        self.refresh()
        if isinstance(info, TypeInfo):
            self.saved_label.setText(self.tr("Type « %1 » ajouté.").replace("%1", info.label))


class NewTypeDialog(ServiceDialog):
    """Label, length, colour and the rules of a new type (the rules are not changed later:
    appointments already booked were checked against them)."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Nouveau type de rendez-vous"), self.tr("Ajouter le type"), runner, parent
        )
        self._ws, self._actor = ws, actor
        self.label_edit = QLineEdit(self)
        self.label_edit.setMaxLength(MAX_TYPE_LABEL)
        self.label_edit.setPlaceholderText(self.tr("ex. Entretien addictologie"))
        self.minutes_spin = QSpinBox(self)
        # The spin box allows one step beyond each bound so that the service's French
        # message, not a silent clamp, answers a wrong length typed in.
        self.minutes_spin.setRange(0, 999)
        self.minutes_spin.setValue(20)
        self.minutes_spin.setSuffix(self.tr(" min"))
        self.colour_edit = QLineEdit("#4f81bd", self)
        self.colour_edit.setPlaceholderText("#RRVVBB")
        self.colour_edit.textChanged.connect(self._paint)
        self.colour_button = QPushButton(self.tr("Choisir…"), self)
        self.colour_button.clicked.connect(self.pick_colour)
        colour_row = QHBoxLayout()
        colour_row.addWidget(self.colour_edit, 1)
        colour_row.addWidget(self.colour_button)
        self.needs_room = QCheckBox(
            self.tr("Dans une salle du centre (cabinet, salle de soins…)"), self
        )
        self.needs_room.setChecked(True)
        self.reception_books = QCheckBox(self.tr("L'accueil peut le réserver"), self)
        self.reception_books.setChecked(True)
        self.unscheduled = QCheckBox(
            self.tr("Soin non programmé (ouvert à l'accueil le jour même seulement)"), self
        )
        self.in_hours = QCheckBox(self.tr("Pendant les heures d'ouverture du centre"), self)
        self.in_hours.setChecked(True)
        self.in_ranges = QCheckBox(self.tr("Dans les plages de consultation du praticien"), self)
        self.in_ranges.setChecked(True)
        self.form.addRow(self.tr("&Libellé"), self.label_edit)
        self.form.addRow(self.tr("&Durée"), self.minutes_spin)
        colour_label = QLabel(self.tr("&Couleur"), self)
        colour_label.setBuddy(self.colour_edit)  # a row holding a layout gets no buddy itself
        self.form.addRow(colour_label, colour_row)
        for box in (
            self.needs_room,
            self.reception_books,
            self.unscheduled,
            self.in_hours,
            self.in_ranges,
        ):
            self.form.addRow(box)
        self._paint(self.colour_edit.text())
        self.label_edit.setFocus()

    def _paint(self, text: str) -> None:
        text = text.strip()
        if COLOUR_FORMAT.match(text):
            self.colour_edit.setStyleSheet(
                f"background: {text}; color: {_readable_on(text).name()};"
            )
        else:
            self.colour_edit.setStyleSheet("")

    def pick_colour(self) -> None:
        """The colour chooser, window-modal and without a nested event loop (a static
        ``getColor`` would block whatever drives this dialog, e.g. the screen-fit walk)."""
        current = QColor(self.colour_edit.text().strip())
        dialog = QColorDialog(current if current.isValid() else QColor("#4f81bd"), self)
        dialog.setWindowTitle(self.tr("Couleur du nouveau type"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.colorSelected.connect(self._colour_chosen)
        dialog.open()

    def _colour_chosen(self, chosen: QColor) -> None:
        if chosen.isValid():
            self.colour_edit.setText(chosen.name())

    def prepare(self) -> Callable[[], Any]:
        if not self.label_edit.text().strip():
            raise ValidationFailed(self.tr("Donnez un libellé au nouveau type."))
        new = NewAppointmentType(
            label=self.label_edit.text(),
            minutes=self.minutes_spin.value(),
            colour=self.colour_edit.text().strip(),
            needs_room=self.needs_room.isChecked(),
            reception_books=self.reception_books.isChecked(),
            unscheduled_care=self.unscheduled.isChecked(),
            in_centre_hours=self.in_hours.isChecked(),
            in_practitioner_ranges=self.in_ranges.isChecked(),
        )
        ws, actor = self._ws, self._actor
        return lambda: resources.add_appointment_type(ws, actor, new)
