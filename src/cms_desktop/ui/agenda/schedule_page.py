"""A practitioner's schedule: weekly consulting ranges (weekday, hours, room, validity) and
absences, listed, added and removed through the agenda services.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import resources
from cms_desktop.services.agenda.common import PractitionerView, local_now
from cms_desktop.services.agenda.resources import AbsenceView, RangeDraft, RangeView, RoomView
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.agenda.centre_settings import (
    WEEKDAYS,
    CentreSettingsPage,
    date_edit,
    hhmm,
    list_table,
    pydate,
    selected_id,
)
from cms_desktop.ui.agenda.models import TextRowsModel
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, fit_to_screen, shortcut


def time_edit(parent: QWidget, at: time) -> QTimeEdit:
    edit = QTimeEdit(QTime(at.hour, at.minute), parent)
    edit.setDisplayFormat("HH:mm")
    return edit


def pytime(value: QTime) -> time:
    return time(value.hour(), value.minute())


class _OptionalDate(QWidget):
    """A check box that switches a date on (« à partir du 01/09/2026 ») or off (no bound)."""

    def __init__(self, text: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.check = QCheckBox(text, self)
        self.edit = date_edit(self, local_now().date())
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        row.addWidget(self.edit, 1)

    def value(self) -> date | None:
        return pydate(self.edit.date()) if self.check.isChecked() else None


class RangeDialog(ServiceDialog):
    """A new consulting range of one practitioner: weekly, n-th weekday of the month, or
    every n weeks."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        practitioner: PractitionerView,
        rooms: list[RoomView],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            self.tr("Nouvelle plage de consultation"), self.tr("Ajouter"), runner, parent
        )
        self._ws, self._actor, self._practitioner = ws, actor, practitioner
        self.weekday = QComboBox(self)
        for wd, name in enumerate(WEEKDAYS):
            self.weekday.addItem(self.tr(name), wd)
        self.start = time_edit(self, time(9))
        self.end = time_edit(self, time(12))
        self.room = QComboBox(self)
        self.room.addItem(self.tr("(aucune salle)"), None)
        for room in rooms:
            self.room.addItem(room.name, room.id)
        if rooms:
            self.room.setCurrentIndex(1)
        # How the weekday repeats: every week, the n-th of the month (the vaccination team
        # on the third Wednesday), or every n weeks from a first date (a rota).
        self.pattern = QComboBox(self)
        self.pattern.addItem(self.tr("Chaque semaine"), "weekly")
        self.pattern.addItem(self.tr("Une fois par mois (ex. le 3e mercredi)"), "nth_of_month")
        self.pattern.addItem(self.tr("Toutes les n semaines"), "every_n_weeks")
        self.nth = QComboBox(self)
        for n, label in ((1, "1er"), (2, "2e"), (3, "3e"), (4, "4e"), (5, "5e"), (-1, "dernier")):
            self.nth.addItem(self.tr(label) + self.tr(" du mois"), n)
        self.interval = QSpinBox(self)
        self.interval.setRange(2, 12)
        self.interval.setSuffix(self.tr(" semaines"))
        self.anchor = date_edit(self, local_now().date())
        self.anchor.setToolTip(
            self.tr("Une date où la plage a lieu : le rythme part de sa semaine.")
        )
        self.pattern.currentIndexChanged.connect(self._show_pattern)
        self.valid_from = _OptionalDate(self.tr("à partir du"), self)
        self.valid_until = _OptionalDate(self.tr("jusqu'au"), self)
        self.own_hours = QCheckBox(self.tr("Plage hors des heures d'ouverture du centre"), self)
        self.form.addRow(self.tr("Praticien"), QLabel(practitioner.display_name, self))
        self.form.addRow(self.tr("&Jour"), self.weekday)
        self.form.addRow(self.tr("&Répétition"), self.pattern)
        self.form.addRow(self.tr("Ra&ng"), self.nth)
        self.form.addRow(self.tr("In&tervalle"), self.interval)
        self.form.addRow(self.tr("Première &date"), self.anchor)
        self.form.addRow(self.tr("&Début"), self.start)
        self.form.addRow(self.tr("&Fin"), self.end)
        self.form.addRow(self.tr("&Salle"), self.room)
        self.form.addRow(self.tr("Validité"), self.valid_from)
        self.form.addRow("", self.valid_until)
        self.form.addRow("", self.own_hours)
        self._show_pattern()
        self.weekday.setFocus()

    def _show_pattern(self) -> None:
        pattern = self.pattern.currentData()
        for widget, shown in (
            (self.nth, pattern == "nth_of_month"),
            (self.interval, pattern == "every_n_weeks"),
            (self.anchor, pattern == "every_n_weeks"),
        ):
            self.form.setRowVisible(widget, shown)

    def draft(self) -> RangeDraft:
        pattern = str(self.pattern.currentData())
        return RangeDraft(
            pattern=pattern,
            nth=int(self.nth.currentData()) if pattern == "nth_of_month" else None,
            interval_weeks=self.interval.value() if pattern == "every_n_weeks" else None,
            anchor=cast(date, self.anchor.date().toPython())
            if pattern == "every_n_weeks"
            else None,
            weekday=int(self.weekday.currentData()),
            start=pytime(self.start.time()),
            end=pytime(self.end.time()),
            room_id=self.room.currentData(),
            valid_from=self.valid_from.value(),
            valid_until=self.valid_until.value(),
            own_hours=self.own_hours.isChecked(),
        )

    def prepare(self) -> Callable[[], Any]:
        draft = self.draft()
        if draft.end <= draft.start:
            raise ValidationFailed(self.tr("La plage se termine avant de commencer."))
        if draft.anchor is not None and draft.anchor.weekday() != draft.weekday:
            raise ValidationFailed(
                self.tr("La première date doit tomber le jour choisi (")
                + self.weekday.currentText().lower()
                + ")."
            )
        if draft.valid_from and draft.valid_until and draft.valid_until < draft.valid_from:
            raise ValidationFailed(self.tr("La fin de validité précède son début."))
        ws, actor, pid = self._ws, self._actor, self._practitioner.id
        return lambda: resources.add_range(ws, actor, pid, draft)


class AbsenceDialog(ServiceDialog):
    """A new absence: whole days by default, or from a time on the first day to a time on
    the last day.
    """

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        practitioner: PractitionerView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Nouvelle absence"), self.tr("Ajouter"), runner, parent)
        self._ws, self._actor, self._practitioner = ws, actor, practitioner
        today = local_now().date()
        self.first_day = date_edit(self, today)
        self.last_day = date_edit(self, today)
        self.whole_days = QCheckBox(self.tr("Journées entières"), self)
        self.whole_days.setChecked(True)
        self.from_time = time_edit(self, time(8))
        self.to_time = time_edit(self, time(20))
        for edit in (self.from_time, self.to_time):
            edit.setEnabled(False)
            self.whole_days.toggled.connect(lambda on, e=edit: e.setEnabled(not on))
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText(self.tr("ex. Congés, Formation…"))
        self.form.addRow(self.tr("Praticien"), QLabel(practitioner.display_name, self))
        self.form.addRow(self.tr("&Premier jour"), self.first_day)
        self.form.addRow(self.tr("&Dernier jour"), self.last_day)
        self.form.addRow("", self.whole_days)
        self.form.addRow(self.tr("À partir de"), self.from_time)
        self.form.addRow(self.tr("Jusqu'à"), self.to_time)
        self.form.addRow(self.tr("&Motif"), self.reason)
        self.first_day.setFocus()

    def span(self) -> tuple[datetime, datetime]:
        first, last = pydate(self.first_day.date()), pydate(self.last_day.date())
        if self.whole_days.isChecked():
            return datetime.combine(first, time(0)), datetime.combine(
                last + timedelta(days=1), time(0)
            )
        return (
            datetime.combine(first, pytime(self.from_time.time())),
            datetime.combine(last, pytime(self.to_time.time())),
        )

    def prepare(self) -> Callable[[], Any]:
        start, end = self.span()
        if end <= start:
            raise ValidationFailed(self.tr("L'absence se termine avant de commencer."))
        if not self.reason.text().strip():
            raise ValidationFailed(self.tr("Indiquez le motif de l'absence."))
        ws, actor, pid, reason = self._ws, self._actor, self._practitioner.id, self.reason.text()
        return lambda: resources.add_absence(ws, actor, pid, start, end, reason)


def describe_range(r: RangeView) -> tuple[str, str, str, str]:
    validity = ""
    if r.valid_from and r.valid_until:
        validity = f"du {r.valid_from:%d/%m/%Y} au {r.valid_until:%d/%m/%Y}"
    elif r.valid_from:
        validity = f"à partir du {r.valid_from:%d/%m/%Y}"
    elif r.valid_until:
        validity = f"jusqu'au {r.valid_until:%d/%m/%Y}"
    hours = f"{hhmm(r.start)}-{hhmm(r.end)}" + (" (hors heures du centre)" if r.own_hours else "")
    day = r.description.rsplit(" ", 1)[0]  # « chaque lundi », « le 3e mercredi du mois »…
    return day, hours, r.room_name or "—", validity or "toujours"


def describe_absence(a: AbsenceView) -> tuple[str, str, str]:
    midnight = time(0)
    if a.start.time() == midnight and a.end.time() == midnight:
        last = a.end - timedelta(days=1)
        return f"{a.start:%d/%m/%Y}", f"{last:%d/%m/%Y}", a.reason
    return f"{a.start:%d/%m/%Y %H:%M}", f"{a.end:%d/%m/%Y %H:%M}", a.reason


class PractitionerSchedulePage(QWidget):
    """Pick a practitioner; their ranges on the left, their absences on the right.

    Keys: Ctrl+N new range, Ctrl+B new absence, Suppr removes the selected line.
    """

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        practitioner_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        # Ranges: those who run the agenda, and the administrator setting the centre up.
        # Absences stay with the agenda's users (the administrator only reads them).
        self.editable = actor.can(Permission.AGENDA_WRITE) or actor.can(Permission.SETTINGS_MANAGE)
        self.absences_editable = actor.can(Permission.AGENDA_WRITE)
        self._wanted = practitioner_id
        self.practitioners: list[PractitionerView] = []
        self.rooms: list[RoomView] = []
        self.ranges: list[RangeView] = []
        self.absences: list[AbsenceView] = []

        self.practitioner = QComboBox(self)
        self.practitioner.setMinimumContentsLength(24)
        self.practitioner.currentIndexChanged.connect(lambda _i: self.reload())
        picker = QLabel(self.tr("&Praticien"), self)
        picker.setBuddy(self.practitioner)
        self.error_label = ErrorLabel(self)

        ranges_box = QGroupBox(self.tr("Plages de consultation"), self)
        self.ranges_model = TextRowsModel(
            (self.tr("Jour"), self.tr("Horaires"), self.tr("Salle"), self.tr("Validité")), self
        )
        self.ranges_table = list_table(ranges_box, self.ranges_model)
        self.add_range_button = QPushButton(self.tr("Ajouter une plage…"), ranges_box)
        self.add_range_button.setToolTip("Ctrl+N")
        self.add_range_button.clicked.connect(self.add_range)
        self.remove_range_button = QPushButton(self.tr("Supprimer la plage…"), ranges_box)
        self.remove_range_button.setToolTip(self.tr("Suppr"))
        self.remove_range_button.clicked.connect(self.remove_range)

        absences_box = QGroupBox(self.tr("Absences"), self)
        self.absences_model = TextRowsModel((self.tr("Du"), self.tr("Au"), self.tr("Motif")), self)
        self.absences_table = list_table(absences_box, self.absences_model)
        self.add_absence_button = QPushButton(self.tr("Ajouter une absence…"), absences_box)
        self.add_absence_button.setToolTip("Ctrl+B")
        self.add_absence_button.clicked.connect(self.add_absence)
        self.remove_absence_button = QPushButton(self.tr("Supprimer l'absence…"), absences_box)
        self.remove_absence_button.setToolTip(self.tr("Suppr"))
        self.remove_absence_button.clicked.connect(self.remove_absence)

        for table in (self.ranges_table, self.absences_table):
            table.selectionModel().selectionChanged.connect(self._update_buttons)
        for box, table, add, remove, editable in (
            (
                ranges_box,
                self.ranges_table,
                self.add_range_button,
                self.remove_range_button,
                self.editable,
            ),
            (
                absences_box,
                self.absences_table,
                self.add_absence_button,
                self.remove_absence_button,
                self.absences_editable,
            ),
        ):
            buttons = QHBoxLayout()
            buttons.addWidget(add)
            buttons.addWidget(remove)
            buttons.addStretch(1)
            layout = QVBoxLayout(box)
            layout.addWidget(table, 1)
            layout.addLayout(buttons)
            add.setVisible(editable)
            remove.setVisible(editable)

        top = QHBoxLayout()
        top.addWidget(picker)
        top.addWidget(self.practitioner)
        top.addStretch(1)
        columns = QHBoxLayout()
        columns.addWidget(ranges_box, 3)
        columns.addWidget(absences_box, 2)
        page = QVBoxLayout(self)
        page.addLayout(top)
        page.addWidget(self.error_label)
        page.addLayout(columns, 1)
        if self.editable:
            shortcut(self, "Ctrl+N", self.add_range)
            shortcut(self.ranges_table, "Del", self.remove_range)
        if self.absences_editable:
            shortcut(self, "Ctrl+B", self.add_absence)
            shortcut(self.absences_table, "Del", self.remove_absence)
        self._update_buttons()
        self._load_resources()

    # ---- loading ------------------------------------------------------------------------

    def reload_practitioners(self, select: str | None = None) -> None:
        """List the practitioners again (one was just created), keeping or moving to `select`."""
        self._wanted = select or self.practitioner.currentData()
        self._load_resources()

    def _load_resources(self) -> None:
        ws, actor = self._ws, self._actor
        self._runner.run_read(
            lambda: (
                resources.list_practitioners(ws, actor, include_inactive=True),
                resources.list_rooms(ws, actor),
            ),
            self._resources_loaded,
            self.error_label.show_message,
        )

    def _resources_loaded(self, value: tuple[list[PractitionerView], list[RoomView]]) -> None:
        self.practitioners, self.rooms = value
        self.practitioner.blockSignals(True)
        self.practitioner.clear()
        for p in self.practitioners:
            label = p.display_name + ("" if p.active else self.tr(" (désactivé)"))
            self.practitioner.addItem(label, p.id)
        if self._wanted is not None:
            self.practitioner.setCurrentIndex(max(0, self.practitioner.findData(self._wanted)))
        self.practitioner.blockSignals(False)
        self.reload()

    def current(self) -> PractitionerView | None:
        pid = self.practitioner.currentData()
        return next((p for p in self.practitioners if p.id == pid), None)

    def select_practitioner(self, practitioner_id: str) -> None:
        self.practitioner.setCurrentIndex(self.practitioner.findData(practitioner_id))

    def reload(self) -> None:
        p = self.current()
        if p is None:
            self._loaded(([], []))
            return
        ws, actor, pid = self._ws, self._actor, p.id
        self._runner.run_read(
            lambda: (
                resources.list_ranges(ws, actor, pid),
                resources.list_absences(ws, actor, pid),
            ),
            self._loaded,
            self.error_label.show_message,
        )

    def _loaded(self, value: tuple[list[RangeView], list[AbsenceView]]) -> None:
        self.ranges, self.absences = value
        self.ranges_model.set_rows([(r.id, describe_range(r)) for r in self.ranges])
        self.absences_model.set_rows([(a.id, describe_absence(a)) for a in self.absences])
        self._update_buttons()

    def _update_buttons(self, *_args: object) -> None:
        has = self.current() is not None
        self.add_range_button.setEnabled(has)
        self.add_absence_button.setEnabled(has)
        self.remove_range_button.setEnabled(
            selected_id(self.ranges_table, self.ranges_model) is not None
        )
        self.remove_absence_button.setEnabled(
            selected_id(self.absences_table, self.absences_model) is not None
        )

    # ---- actions ------------------------------------------------------------------------

    def _open(self, dialog: ServiceDialog) -> None:
        dialog.sig_done.connect(lambda _v: self._changed())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _changed(self) -> None:
        self.error_label.clear_message()
        self.reload()

    def add_range(self) -> None:
        p = self.current()
        if p is not None and self.editable:
            self._open(RangeDialog(self._ws, self._actor, self._runner, p, self.rooms, self))

    def add_absence(self) -> None:
        p = self.current()
        if p is not None and self.absences_editable:
            self._open(AbsenceDialog(self._ws, self._actor, self._runner, p, self))

    def _remove(
        self, table: QTableView, model: TextRowsModel, title: str, call: Callable[[str], None]
    ) -> None:
        row_id = selected_id(table, model)
        if row_id is None or not self.editable:
            return
        texts = [model.data(model.index(model.row_of(row_id), c)) for c in range(2)]
        if not widgets.ask(self, title, f"{title} ({' '.join(texts)}) ?"):
            return
        self._runner.run_write(
            lambda: call(row_id), lambda _v: self._changed(), self.error_label.show_message
        )

    def remove_range(self) -> None:
        ws, actor = self._ws, self._actor
        self._remove(
            self.ranges_table,
            self.ranges_model,
            self.tr("Supprimer la plage"),
            lambda rid: resources.remove_range(ws, actor, rid),
        )

    def remove_absence(self) -> None:
        ws, actor = self._ws, self._actor
        self._remove(
            self.absences_table,
            self.absences_model,
            self.tr("Supprimer l'absence"),
            lambda aid: resources.remove_absence(ws, actor, aid),
        )


class ScheduleDialog(QDialog):
    """From the agenda: the practitioners' schedules, and the centre's hours (read-only for
    everyone but the administrator, who edits them in Administration › Agenda du centre).
    """

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        practitioner_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Plages et horaires"))
        self.tabs = QTabWidget(self)
        self.schedule_page = PractitionerSchedulePage(ws, actor, runner, practitioner_id, self)
        self.centre_page = CentreSettingsPage(ws, actor, runner, self)
        self.tabs.addTab(self.schedule_page, self.tr("Plages et absences des praticiens"))
        self.tabs.addTab(self.centre_page, self.tr("Horaires du centre"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("Fermer"))
        close.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.tabs, 1)
        box.addWidget(close)
        fit_to_screen(self, 1100, 620)
        self.schedule_page.practitioner.setFocus()
