"""« Agenda du centre »: opening hours per weekday (several ranges a day), the Saturdays of
the month the centre opens, the public-holiday zone and the closures.

The administrator edits it (Administration area); agenda users see it read-only. Each day's
ranges are typed on one line, « 09:00-12:40, 13:40-19:00 »: quick from the keyboard, and
the whole week stays visible on a 1280×720 screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import settings
from cms_desktop.services.agenda.common import HOLIDAY_ZONE_LABELS, local_now
from cms_desktop.services.agenda.settings import AgendaSettingsView, ClosureView
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.agenda.models import TextRowsModel
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, shortcut

WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
_RANGE = re.compile(
    r"^\s*(\d{1,2})(?:\s*[:hH]\s*(\d{2})?)?\s*(?:-|–|—|à)\s*(\d{1,2})(?:\s*[:hH]\s*(\d{2})?)?\s*$"
)


def hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def format_ranges(ranges: tuple[tuple[time, time], ...]) -> str:
    return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in ranges)


def _clock(hours: str, minutes: str | None) -> time | None:
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if h < 24 and m < 60 else None


def parse_ranges(day: str, text: str) -> list[tuple[time, time]]:
    """« 9:00-12:40, 13h40-19h » as ranges; an empty line is a closed day.

    Raises ValidationFailed naming the day and the piece that cannot be read.
    """
    ranges: list[tuple[time, time]] = []
    for piece in re.split(r"[,;/]", text):
        if not piece.strip():
            continue
        match = _RANGE.match(piece)
        start = _clock(match.group(1), match.group(2)) if match else None
        end = _clock(match.group(3), match.group(4)) if match else None
        if start is None or end is None:
            raise ValidationFailed(
                f"{day} : « {piece.strip()} » n'est pas une plage horaire "
                f"(écrivez par exemple 09:00-12:40, 13:40-19:00)."
            )
        if end <= start:
            raise ValidationFailed(
                f"{day} : la plage {hhmm(start)}-{hhmm(end)} se termine avant de commencer."
            )
        ranges.append((start, end))
    return ranges


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(parent: QWidget, day: date) -> QDateEdit:
    edit = QDateEdit(qdate(day), parent)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setCalendarPopup(True)
    return edit


def list_table(parent: QWidget, model: TextRowsModel) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setTabKeyNavigation(False)
    return table


def selected_id(table: QTableView, model: TextRowsModel) -> str | None:
    rows = table.selectionModel().selectedRows()
    return model.id_at(rows[0].row()) if rows else None


class ClosureDialog(ServiceDialog):
    """A new closure: first and last day (both included) and a label."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Nouvelle fermeture"), self.tr("Ajouter"), runner, parent)
        self._ws, self._actor = ws, actor
        today = local_now().date()
        self.first_day = date_edit(self, today)
        self.last_day = date_edit(self, today)
        self.label = QLineEdit(self)
        self.label.setMaxLength(200)
        self.label.setPlaceholderText(self.tr("ex. Fermeture estivale, Inventaire…"))
        self.form.addRow(self.tr("&Premier jour"), self.first_day)
        self.form.addRow(self.tr("&Dernier jour"), self.last_day)
        self.form.addRow(self.tr("&Motif"), self.label)
        self.first_day.setFocus()

    def prepare(self) -> Callable[[], Any]:
        first, last = pydate(self.first_day.date()), pydate(self.last_day.date())
        if last < first:
            raise ValidationFailed(self.tr("Le dernier jour de fermeture précède le premier jour."))
        label = self.label.text()
        if not label.strip():
            raise ValidationFailed(self.tr("Indiquez le motif de la fermeture."))
        ws, actor = self._ws, self._actor
        return lambda: settings.add_closure(ws, actor, first, last, label)


class CentreSettingsPage(QWidget):
    """Opening hours, Saturdays, holiday zone and closures; read-only without SETTINGS_MANAGE."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.editable = actor.can(Permission.SETTINGS_MANAGE)
        self.current: AgendaSettingsView | None = None
        self.closures: list[ClosureView] = []

        hours_box = QGroupBox(self.tr("Heures d'ouverture"), self)
        hours_form = QFormLayout(hours_box)
        self.day_edits: list[QLineEdit] = []
        for name in WEEKDAYS:
            edit = QLineEdit(hours_box)
            edit.setPlaceholderText(self.tr("fermé"))
            edit.setToolTip(self.tr("Plages séparées par des virgules : 09:00-12:40, 13:40-19:00"))
            edit.setReadOnly(not self.editable)
            edit.returnPressed.connect(self.save)
            self.day_edits.append(edit)
            hours_form.addRow(self.tr(name), edit)
        hint = QLabel(
            self.tr("Une ligne par jour, plages séparées par des virgules ; vide : fermé."),
            hours_box,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        hint.setVisible(self.editable)  # how to type the hours: only for who may change them
        hours_form.addRow(hint)

        rules_box = QGroupBox(self.tr("Samedis et jours fériés"), self)
        rules_form = QFormLayout(rules_box)
        self.some_saturdays = QCheckBox(
            self.tr("Ouvert seulement certains samedis du mois"), rules_box
        )
        self.some_saturdays.toggled.connect(self._saturdays_toggled)
        ranks_row = QHBoxLayout()
        self.rank_boxes: list[QCheckBox] = []
        for rank in range(1, 6):
            box = QCheckBox(self.tr("1er") if rank == 1 else f"{rank}e", rules_box)
            self.rank_boxes.append(box)
            ranks_row.addWidget(box)
        ranks_row.addStretch(1)
        self.zone = QComboBox(rules_box)
        for code, label in HOLIDAY_ZONE_LABELS.items():
            self.zone.addItem(label, code)
        rules_form.addRow(self.some_saturdays)
        rules_form.addRow(self.tr("Samedis ouverts"), ranks_row)
        rules_form.addRow(self.tr("&Jours fériés"), self.zone)
        for w in (self.some_saturdays, *self.rank_boxes, self.zone):
            w.setEnabled(self.editable)

        self.save_button = QPushButton(self.tr("Enregistrer les horaires"), self)
        self.save_button.setToolTip(self.tr("Entrée ou Ctrl+S"))
        self.save_button.clicked.connect(self.save)
        self.save_button.setVisible(self.editable)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("hint")
        self.error_label = ErrorLabel(self)

        closures_box = QGroupBox(self.tr("Fermetures exceptionnelles"), self)
        self.closures_model = TextRowsModel(
            (self.tr("Premier jour"), self.tr("Dernier jour"), self.tr("Motif")), self
        )
        self.closures_table = list_table(closures_box, self.closures_model)
        self.add_closure_button = QPushButton(self.tr("Ajouter une fermeture…"), closures_box)
        self.add_closure_button.setToolTip("Ctrl+N")
        self.add_closure_button.clicked.connect(self.add_closure)
        self.remove_closure_button = QPushButton(self.tr("Supprimer la fermeture…"), closures_box)
        self.remove_closure_button.setToolTip(self.tr("Suppr"))
        self.remove_closure_button.clicked.connect(self.remove_closure)
        self.closures_table.selectionModel().selectionChanged.connect(self._update_buttons)
        closure_buttons = QHBoxLayout()
        closure_buttons.addWidget(self.add_closure_button)
        closure_buttons.addWidget(self.remove_closure_button)
        closure_buttons.addStretch(1)
        closures_layout = QVBoxLayout(closures_box)
        closures_layout.addWidget(self.closures_table, 1)
        closures_layout.addLayout(closure_buttons)
        for button in (self.add_closure_button, self.remove_closure_button):
            button.setVisible(self.editable)

        left = QVBoxLayout()
        left.addWidget(hours_box)
        left.addWidget(rules_box)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addWidget(self.status_label, 1)
        left.addLayout(save_row)
        left.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addWidget(closures_box, 2)
        page = QVBoxLayout(self)
        if not self.editable:
            note = QLabel(self.tr("Consultation seule : l'administrateur modifie ces réglages."))
            note.setObjectName("hint")
            page.addWidget(note)
        page.addWidget(self.error_label)
        page.addLayout(columns, 1)

        if self.editable:
            shortcut(self, "Ctrl+S", self.save)
            shortcut(self, "Ctrl+N", self.add_closure)
            shortcut(self.closures_table, "Del", self.remove_closure)
        self._update_buttons()
        self.reload()

    # ---- loading ------------------------------------------------------------------------

    def reload(self) -> None:
        ws, actor = self._ws, self._actor
        self._runner.run_read(
            lambda: (settings.get_settings(ws, actor), settings.list_closures(ws, actor)),
            self._loaded,
            self.error_label.show_message,
        )

    def _loaded(self, value: tuple[AgendaSettingsView, list[ClosureView]]) -> None:
        self.show_settings(value[0])
        self.show_closures(value[1])

    def show_settings(self, view: AgendaSettingsView) -> None:
        self.current = view
        for wd, edit in enumerate(self.day_edits):
            edit.setText(format_ranges(view.hours.get(wd, ())))
        self.some_saturdays.setChecked(bool(view.saturday_ranks))
        for rank, box in enumerate(self.rank_boxes, start=1):
            box.setChecked(rank in view.saturday_ranks)
        self._saturdays_toggled(bool(view.saturday_ranks))
        self.zone.setCurrentIndex(max(0, self.zone.findData(view.holiday_zone)))

    def show_closures(self, closures: list[ClosureView]) -> None:
        self.closures = closures
        self.closures_model.set_rows(
            [
                (c.id, (f"{c.first_day:%d/%m/%Y}", f"{c.last_day:%d/%m/%Y}", c.label))
                for c in closures
            ]
        )
        self._update_buttons()

    def _saturdays_toggled(self, on: bool) -> None:
        for box in self.rank_boxes:
            box.setEnabled(self.editable and on)

    def _update_buttons(self, *_args: object) -> None:
        self.remove_closure_button.setEnabled(
            selected_id(self.closures_table, self.closures_model) is not None
        )

    # ---- saving -------------------------------------------------------------------------

    def form_values(self) -> tuple[dict[int, list[tuple[time, time]]], frozenset[int], str]:
        """What the form says; raises ValidationFailed with a French message."""
        hours = {
            wd: parse_ranges(WEEKDAYS[wd], edit.text()) for wd, edit in enumerate(self.day_edits)
        }
        ranks: frozenset[int] = frozenset()
        if self.some_saturdays.isChecked():
            ranks = frozenset(r for r, b in enumerate(self.rank_boxes, start=1) if b.isChecked())
            if not ranks:
                raise ValidationFailed(self.tr("Cochez au moins un samedi ouvert dans le mois."))
        return hours, ranks, str(self.zone.currentData())

    def save(self) -> None:
        if not self.editable:
            return
        self.status_label.clear()
        try:
            hours, ranks, zone = self.form_values()
        except ValidationFailed as exc:
            self.error_label.show_message(str(exc))
            return
        self.error_label.clear_message()
        ws, actor = self._ws, self._actor
        self._runner.run_write(
            lambda: settings.save_settings(ws, actor, hours, ranks, zone),
            self._saved,
            self.error_label.show_message,
        )

    def _saved(self, view: AgendaSettingsView) -> None:
        self.show_settings(view)
        self.status_label.setText(self.tr("Horaires enregistrés."))

    def add_closure(self) -> None:
        if not self.editable:
            return
        dialog = ClosureDialog(self._ws, self._actor, self._runner, self)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def remove_closure(self) -> None:
        closure_id = selected_id(self.closures_table, self.closures_model)
        closure = next((c for c in self.closures if c.id == closure_id), None)
        if closure is None or not self.editable:
            return
        question = self.tr("Supprimer la fermeture « %1 » du %2 au %3 ?")
        question = (
            question.replace("%1", closure.label)
            .replace("%2", f"{closure.first_day:%d/%m/%Y}")
            .replace("%3", f"{closure.last_day:%d/%m/%Y}")
        )
        if not widgets.ask(self, self.tr("Supprimer la fermeture"), question):
            return
        ws, actor = self._ws, self._actor
        self._runner.run_write(
            lambda: settings.remove_closure(ws, actor, closure.id),
            lambda _v: self.reload(),
            self.error_label.show_message,
        )
