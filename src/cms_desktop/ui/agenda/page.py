"""The Agenda area: toolbar, day / rooms / week / month / own-day views, legend and the
waiting-room panel. Every service call goes through the task runner.

Keys: T today, PageUp/PageDown or Alt+←/→ previous/next day (week, month), Ctrl+G jump to a
date, Ctrl+N new appointment, Entrée edit the selected one, Suppr cancel it, Ctrl+P print
the day list, Ctrl+H practitioners' ranges and absences and the centre's hours.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.agenda.slots import DayLoad
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import (
    booking,
    overlaps,
    resources,
    views,
    waiting_room,
)
from cms_desktop.services.agenda.common import (
    AppointmentView,
    PractitionerView,
    TypeInfo,
    local_now,
)
from cms_desktop.services.agenda.views import DayAgenda
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.agenda.day_view import DayView
from cms_desktop.ui.agenda.dialogs import BookingDialog, CancelDialog, EditAppointmentDialog
from cms_desktop.ui.agenda.legend import Legend
from cms_desktop.ui.agenda.month_view import MonthView
from cms_desktop.ui.agenda.schedule_page import ScheduleDialog
from cms_desktop.ui.agenda.waiting_panel import WaitingRoomPanel
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


AGENDA_TABLES = frozenset(
    {
        "agenda_closures",
        "agenda_settings",
        "appointment_types",
        "appointments",
        "patients",
        "practitioner_absences",
        "practitioner_ranges",
        "practitioners",
        "rooms",
        "waiting_list",
    }
)


def _stored_list(key: str) -> list[str]:
    value = QSettings().value(key, [])
    if isinstance(value, str):  # QSettings gives a one-item list back as a string
        return [value] if value else []
    return [str(v) for v in value] if isinstance(value, list) else []


def long_date(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


OVERLAP_HORIZON_DAYS = 90


class AgendaPage(QWidget):
    MODES = (
        ("day", "Jour — praticiens"),
        ("rooms", "Jour — salles"),
        ("week", "Semaine"),
        ("month", "Mois"),
        ("own", "Ma journée"),
    )

    sig_open_patient = Signal(str)
    """« Ouvrir le dossier » of an appointment's patient (clinicians); the patient id."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        # Which practitioners the day view leaves out, remembered per user on this station.
        self._settings_key = f"agenda/hidden_practitioners/{actor.login}"
        self.hidden_practitioners: set[str] = set(_stored_list(self._settings_key))
        self.day = local_now().date()
        self.practitioners: list[PractitionerView] = []
        self.types: list[TypeInfo] = []
        self.agenda: DayAgenda | None = None
        self.own_id: str | None = None
        can_read = actor.can(Permission.AGENDA_READ)

        self.title = QLabel(self)
        self.title.setObjectName("pageTitle")
        self.mode = QComboBox(self)
        for key, label in self.MODES:
            if key == "own" and not actor.can(Permission.AGENDA_OWN):
                continue
            if key != "own" and not can_read:
                continue
            self.mode.addItem(self.tr(label), key)
        self.mode.setToolTip(self.tr("Vue"))
        self.practitioner_combo = QComboBox(self)
        self.practitioner_combo.setToolTip(self.tr("Praticien de la vue semaine"))
        self.columns_button = QToolButton(self)
        self.columns_button.setText(self.tr("Praticiens"))
        self.columns_button.setToolTip(
            self.tr("Choisir les praticiens affichés dans la vue Jour (mémorisé)")
        )
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self)
        self.columns_button.setMenu(self.columns_menu)
        buttons = []
        for text, tip, slot in (
            ("◀", self.tr("Jour précédent (Page préc.)"), self.previous),
            (self.tr("Aujourd'hui"), self.tr("Aujourd'hui (T)"), self.today),
            ("▶", self.tr("Jour suivant (Page suiv.)"), self.next),
            (self.tr("Aller à la date…"), self.tr("Aller à une date (Ctrl+G)"), self.jump_to_date),
            (self.tr("Nouveau RDV"), self.tr("Nouveau rendez-vous (Ctrl+N)"), self.new_appointment),
            (
                self.tr("Annuler le RDV"),
                self.tr("Annuler le rendez-vous choisi (Suppr)"),
                self.cancel_selected,
            ),
            (
                self.tr("Liste du jour"),
                self.tr("Imprimer la liste du jour (Ctrl+P)"),
                self.print_day_list,
            ),
            (
                self.tr("Plages…"),
                self.tr("Plages et absences des praticiens, horaires du centre (Ctrl+H)"),
                self.open_schedules,
            ),
            (
                self.tr("Liste d'attente…"),
                self.tr("Liste d'attente médecin traitant"),
                self.open_waiting_list,
            ),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.append(button)
        self.new_button, self.cancel_button = buttons[4], buttons[5]
        for arrow in (buttons[0], buttons[2]):  # ◀ ▶: a symbol needs no 80-pixel button
            arrow.setFixedWidth(36)
        self.schedules_button = buttons[7]
        self.schedules_button.setEnabled(can_read)
        self.waiting_list_button = buttons[8]
        self.waiting_list_button.setEnabled(can_read)
        self.new_button.setEnabled(actor.can(Permission.AGENDA_WRITE))
        self.cancel_button.setEnabled(actor.can(Permission.AGENDA_WRITE))
        bar = QHBoxLayout()
        # The date has a line of its own so that the controls fit a 1280-pixel screen.
        bar.addWidget(self.mode)
        bar.addWidget(self.practitioner_combo)
        bar.addWidget(self.columns_button)
        for button in buttons:
            bar.addWidget(button)
        bar.addStretch(1)

        self.day_view = DayView(self)
        self.month_view = MonthView(self)
        self.stack = QStackedWidget(self)
        # Too many practitioners for the screen: the grid scrolls sideways, columns stay
        # readable (DayView's minimum width grows with its columns).
        self.day_scroll = QScrollArea(self)
        self.day_scroll.setWidgetResizable(True)
        self.day_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.day_scroll.setWidget(self.day_view)
        self.stack.addWidget(self.day_scroll)
        self.stack.addWidget(self.month_view)
        self.legend = Legend(self)
        self.error_label = ErrorLabel(self)
        # Double bookings made on two stations while the network was down (found after a
        # merge): shown on every station until reception moves or cancels one of them.
        self.overlap_label = ErrorLabel(self)
        self.overlap_label.setObjectName("overlapWarning")
        self.overlap_label.setStyleSheet(
            "background:#fff3cd; color:#664d03; border:1px solid #e0c36b; padding:4px;"
        )
        self.overlap_label.setTextFormat(Qt.TextFormat.RichText)
        self.overlap_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.overlap_label.linkActivated.connect(self._overlap_day)
        self.waiting = WaitingRoomPanel(self)
        self.waiting.setVisible(actor.can(Permission.WAITINGROOM_MANAGE))
        left = QWidget(self)
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.stack, 1)
        left_box.addWidget(self.legend)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.waiting)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 460])  # the agenda gets the room; the list stays readable
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 10, 12, 10)
        box.addWidget(self.title)
        box.addLayout(bar)
        box.addWidget(self.error_label)
        box.addWidget(self.overlap_label)
        box.addWidget(splitter, 1)

        for keys, slot in (
            ("T", self.today),
            ("PgUp", self.previous),
            ("PgDown", self.next),
            ("Alt+Left", self.previous),
            ("Alt+Right", self.next),
            ("Ctrl+G", self.jump_to_date),
            ("Ctrl+N", self.new_appointment),
            ("Del", self.cancel_selected),
            ("Ctrl+P", self.print_day_list),
            ("Ctrl+H", self.open_schedules),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        self.mode.currentIndexChanged.connect(lambda _i: self.reload())
        self.practitioner_combo.currentIndexChanged.connect(lambda _i: self._practitioner_picked())
        self.day_view.sig_book_requested.connect(self._book_at)
        self.day_view.sig_open_requested.connect(self._open_menu)
        self.day_view.sig_edit_requested.connect(self._edit)
        self.day_view.sig_move_requested.connect(self._move)
        self.day_view.sig_selection_changed.connect(self._selected)
        self.month_view.sig_day_activated.connect(self._open_day)
        self.waiting.sig_action.connect(self._waiting_action)
        self.waiting.sig_open_patient.connect(self._open_patient)
        self.waiting.set_can_open(actor.can(Permission.CLINICAL_READ))
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(60_000)  # waiting times and the current-time line
        self._refresh_timer.timeout.connect(self.reload)
        self._refresh_timer.start()
        self._load_resources()

    # ---- loading ------------------------------------------------------------------------

    def current_mode(self) -> str:
        return str(self.mode.currentData() or "own")

    def _load_resources(self) -> None:
        def load() -> tuple[list[PractitionerView], list[TypeInfo], str | None]:
            return (
                views.list_practitioner_views(self._ws, self._actor),
                resources.list_appointment_types(self._ws, self._actor),
                views.own_practitioner_id(self._ws, self._actor),
            )

        self._runner.run_read(load, self._resources_loaded, self.error_label.show_message)

    def _resources_loaded(
        self, value: tuple[list[PractitionerView], list[TypeInfo], str | None]
    ) -> None:
        self.practitioners, self.types, self.own_id = value
        self.legend.set_types(self.types)
        self.practitioner_combo.blockSignals(True)
        self.practitioner_combo.clear()
        for p in self.practitioners:
            self.practitioner_combo.addItem(p.display_name, p.id)
        if self.own_id is not None:
            self.practitioner_combo.setCurrentIndex(
                max(0, self.practitioner_combo.findData(self.own_id))
            )
        self.practitioner_combo.blockSignals(False)
        self._fill_columns_menu()
        self.reload()

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        for p in self.practitioners:
            action = self.columns_menu.addAction(p.display_name)
            action.setCheckable(True)
            action.setChecked(p.id not in self.hidden_practitioners)
            action.toggled.connect(lambda shown, pid=p.id: self.show_practitioner(pid, shown))
        self.columns_menu.addSeparator()
        self.columns_menu.addAction(self.tr("Tous les praticiens"), self.show_all_practitioners)

    def show_practitioner(self, practitioner_id: str, shown: bool) -> None:
        if shown:
            self.hidden_practitioners.discard(practitioner_id)
        else:
            self.hidden_practitioners.add(practitioner_id)
        QSettings().setValue(self._settings_key, sorted(self.hidden_practitioners))
        self.reload()

    def show_all_practitioners(self) -> None:
        self.hidden_practitioners.clear()
        QSettings().setValue(self._settings_key, [])
        self._fill_columns_menu()
        self.reload()

    def _practitioner_picked(self) -> None:
        if self.current_mode() == "week":
            self.reload()

    def reload(self) -> None:
        mode, day = self.current_mode(), self.day
        self.practitioner_combo.setVisible(mode == "week")
        self.columns_button.setVisible(mode == "day")
        self.error_label.clear_message()
        if mode == "month":
            self.title.setText(f"{_MONTHS[day.month - 1].capitalize()} {day.year}")
            self.stack.setCurrentWidget(self.month_view)
            self._runner.run_read(
                lambda: views.month_load(self._ws, self._actor, day.year, day.month),
                self._month_loaded,
                self.error_label.show_message,
            )
        else:
            self.stack.setCurrentWidget(self.day_scroll)
            self._runner.run_read(
                self._day_call(mode, day), self._day_loaded, self.error_label.show_message
            )
        if self._actor.can(Permission.AGENDA_READ):
            today = local_now().date()
            self._runner.run_read(
                lambda: overlaps.list_overlaps(
                    self._ws, self._actor, today, today + timedelta(days=OVERLAP_HORIZON_DAYS)
                ),
                self._overlaps_loaded,
                self.error_label.show_message,
            )
        if self._actor.can(Permission.WAITINGROOM_MANAGE):
            only = self.own_id if mode == "own" else None
            self._runner.run_read(
                lambda: waiting_room.waiting_room(self._ws, self._actor, local_now().date(), only),
                self.waiting.set_entries,
                self.error_label.show_message,
            )

    def data_changed(self, tables: frozenset[str]) -> None:
        """A booking, an arrival, a schedule… saved here or merged from another station."""
        if tables & AGENDA_TABLES:
            self.reload()

    def _overlaps_loaded(self, found: list[overlaps.OverlapView]) -> None:
        if not found:
            self.overlap_label.clear_message()
            return
        # Each line links to its day (click, or Tab then Enter): reception goes there to
        # move or cancel one of the two.
        lines = [
            f'{html.escape(o.message)} — <a href="{o.day.isoformat()}">'
            + self.tr("voir ce jour")
            + "</a>"
            for o in found[:3]
        ]
        more = len(found) - len(lines)
        if more > 0:
            lines.append(html.escape(self.tr("… et %n autre(s).", "", more)))
        self.overlap_label.show_message(
            html.escape(self.tr("⚠ %n double(s) réservation(s) à résoudre :", "", len(found)))
            + "<br>"
            + "<br>".join(lines)
        )

    def _overlap_day(self, link: str) -> None:
        try:
            self.go_to(date.fromisoformat(link))
        except ValueError:
            return

    def _day_call(self, mode: str, day: date):  # type: ignore[no-untyped-def]
        if mode == "rooms":
            return lambda: views.day_agenda(self._ws, self._actor, day, by_room=True)
        if mode == "week":
            pid = self.practitioner_combo.currentData()
            if pid is None:
                return lambda: DayAgenda(day, None, (), ())
            return lambda: views.week_agenda(self._ws, self._actor, pid, day)
        if mode == "own":
            return lambda: views.my_day(self._ws, self._actor, day)
        return lambda: views.day_agenda(self._ws, self._actor, day)

    def _day_loaded(self, agenda: DayAgenda) -> None:
        mode = self.current_mode()
        if mode == "day" and self.hidden_practitioners:
            shown = tuple(c for c in agenda.columns if c.key not in self.hidden_practitioners)
            agenda = replace(agenda, columns=shown)
        self.agenda = agenda
        if mode == "week":
            monday = agenda.day
            self.title.setText(self.tr("Semaine du ") + f"{monday:%d/%m/%Y}")
        else:
            title = long_date(agenda.day).capitalize()
            if agenda.closed_reason:
                title += f" — {agenda.closed_reason}"
            self.title.setText(title)
        self.day_view.set_agenda(agenda)

    def _month_loaded(self, loads: list[DayLoad]) -> None:
        self.month_view.set_loads(loads, self.day)

    # ---- navigation ---------------------------------------------------------------------

    def _step(self) -> timedelta:
        return timedelta(days=7) if self.current_mode() == "week" else timedelta(days=1)

    def go_to(self, day: date) -> None:
        self.day = day
        self.reload()

    def today(self) -> None:
        self.go_to(local_now().date())

    def previous(self) -> None:
        if self.current_mode() == "month":
            self.go_to((self.day.replace(day=1) - timedelta(days=1)).replace(day=1))
        else:
            self.go_to(self.day - self._step())

    def next(self) -> None:
        if self.current_mode() == "month":
            self.go_to((self.day.replace(day=28) + timedelta(days=4)).replace(day=1))
        else:
            self.go_to(self.day + self._step())

    def jump_to_date(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Aller à la date"))
        edit = QDateEdit(QDate(self.day.year, self.day.month, self.day.day), dialog)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setCalendarPopup(True)
        ok = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
        )
        ok.accepted.connect(dialog.accept)
        ok.rejected.connect(dialog.reject)
        box = QVBoxLayout(dialog)
        box.addWidget(edit)
        box.addWidget(ok)
        edit.setFocus()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            d = edit.date()
            self.go_to(date(d.year(), d.month(), d.day()))

    def _open_day(self, day: date) -> None:
        self.day = day
        self.mode.setCurrentIndex(self.mode.findData("day"))

    # ---- actions ------------------------------------------------------------------------

    def _column_practitioner(self, column: int) -> str | None:
        mode = self.current_mode()
        if mode == "week":
            chosen = self.practitioner_combo.currentData()
            return None if chosen is None else str(chosen)
        if mode == "own":
            return self.own_id
        if mode == "day" and self.agenda is not None and column < len(self.agenda.columns):
            return self.agenda.columns[column].key
        return None

    def new_appointment(self) -> None:
        cursor = self.day_view.cell
        self._book_at(cursor.column, cursor.start)

    def booking_dialog(self, column: int, start: datetime) -> BookingDialog:
        return BookingDialog(
            self._ws,
            self._actor,
            self._runner,
            self.practitioners,
            self.types,
            practitioner_id=self._column_practitioner(column),
            start=start,
            parent=self,
        )

    def _book_at(self, column: int, start: datetime) -> None:
        if not self._actor.can(Permission.AGENDA_WRITE):
            return
        dialog = self.booking_dialog(column, start)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.exec()

    def _selected(self, appt: AppointmentView | None) -> None:
        if appt is not None:
            self.waiting.select_appointment(appt.id)

    def _move(self, appt: AppointmentView, column: int, start: datetime) -> None:
        mode = self.current_mode()
        practitioner = self._column_practitioner(column) if mode == "day" else None
        room = None
        if mode == "rooms" and self.agenda is not None:
            room = self.agenda.columns[column].key
        self._runner.run_write(
            lambda: booking.move(
                self._ws, self._actor, appt.id, start, practitioner_id=practitioner, room_id=room
            ),
            lambda _v: self.reload(),
            self.error_label.show_message,
        )

    def cancel_selected(self) -> None:
        appt = self.day_view.selected
        if appt is None or appt.cancelled or not self._actor.can(Permission.AGENDA_WRITE):
            return
        summary = f"{appt.start:%d/%m/%Y %H:%M} — {appt.patient_name or appt.type_label}"
        dialog = CancelDialog(self._ws, self._actor, self._runner, appt.id, summary, self)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.exec()

    def edit_dialog(self, appt: AppointmentView) -> EditAppointmentDialog:
        return EditAppointmentDialog(
            self._ws, self._actor, self._runner, appt, self.types, parent=self
        )

    def _can_open(self, appt: AppointmentView) -> bool:
        return appt.patient_id is not None and self._actor.can(Permission.CLINICAL_READ)

    def _open_patient(self, patient_id: str) -> None:
        self.sig_open_patient.emit(patient_id)

    def _edit(self, appt: AppointmentView, where: QPoint) -> None:
        """Double-click or Enter: a clinician opens the patient's record; reception edits a
        live appointment; otherwise its menu."""
        if self._can_open(appt) and appt.patient_id is not None:
            self._open_patient(appt.patient_id)
            return
        if appt.cancelled or not self._actor.can(Permission.AGENDA_WRITE):
            self._open_menu(appt, where)
            return
        dialog = self.edit_dialog(appt)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def open_schedules(self) -> None:
        if not self._actor.can(Permission.AGENDA_READ):
            return
        column = self.day_view.cell.column
        dialog = ScheduleDialog(
            self._ws, self._actor, self._runner, self._column_practitioner(column), self
        )
        dialog.finished.connect(lambda _r: self.reload())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def open_waiting_list(self) -> None:
        from cms_desktop.ui.agenda.waiting_list_dialog import WaitingListDialog

        if not self._actor.can(Permission.AGENDA_READ):
            return
        dialog = WaitingListDialog(self._ws, self._actor, self._runner, self)
        dialog.finished.connect(lambda _r: self.reload())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _open_menu(self, appt: AppointmentView, where: QPoint) -> None:
        menu = QMenu(self)
        status = appt.status
        if self._can_open(appt) and appt.patient_id is not None:
            pid = appt.patient_id
            menu.setDefaultAction(
                menu.addAction(self.tr("Ouvrir le dossier"), lambda: self._open_patient(pid))
            )
        manage = self._actor.can(Permission.WAITINGROOM_MANAGE) and appt.patient_id is not None
        if manage and status == VisitStatus.BOOKED:
            menu.addAction(
                self.tr("Patient arrivé"), lambda: self._waiting_action("arrived", appt.id)
            )
        if manage and status == VisitStatus.ARRIVED:
            menu.addAction(
                self.tr("Appeler le patient"), lambda: self._waiting_action("call", appt.id)
            )
        if manage and status == VisitStatus.IN_CONSULTATION:
            menu.addAction(
                self.tr("Consultation terminée"), lambda: self._waiting_action("seen", appt.id)
            )
        if manage and status == VisitStatus.BOOKED:
            menu.addAction(
                self.tr("Patient absent"), lambda: self._waiting_action("no_show", appt.id)
            )
        if appt.patient_id is not None and not appt.cancelled:
            menu.addAction(
                self.tr("Imprimer la carte de rendez-vous"), lambda: self._print_card(appt.id)
            )
        if not appt.cancelled and self._actor.can(Permission.AGENDA_WRITE):
            menu.addAction(self.tr("Modifier le rendez-vous…"), lambda: self._edit(appt, where))
            menu.addAction(self.tr("Annuler le rendez-vous…"), self.cancel_selected)
        if appt.cancelled:
            menu.addAction(self.tr("Annulé : ") + appt.cancel_reason).setEnabled(False)
        if appt.note:
            menu.addAction(self.tr("Note : ") + appt.note[:80]).setEnabled(False)
        if not menu.isEmpty():
            menu.popup(where)
        self._menu = menu

    def _waiting_action(self, action: str, appointment_id: str) -> None:
        calls = {
            "arrived": waiting_room.mark_arrived,
            "call": waiting_room.call_in,
            "seen": waiting_room.mark_seen,
            "no_show": waiting_room.mark_no_show,
        }
        fn = calls[action]
        self._runner.run_write(
            lambda: fn(self._ws, self._actor, appointment_id),
            lambda _v: self.reload(),
            self.error_label.show_message,
        )

    # ---- printing -----------------------------------------------------------------------

    def _preview(self, title: str, pdf: bytes) -> None:
        from cms_desktop.ui.printing.preview import preview_pdf

        preview_pdf(self, title, pdf)

    def print_day_list(self) -> None:
        # reportlab is loaded at the first printout, not with the agenda (login time).
        from cms_desktop.services.agenda import printouts

        day, mode = self.day, self.current_mode()
        column = self.day_view.cell.column
        if mode == "rooms" and self.agenda is not None and self.agenda.columns:
            room = self.agenda.columns[column].key
            call = lambda: printouts.day_list_pdf(self._ws, self._actor, day, room_id=room)  # noqa: E731
        else:
            pid = self._column_practitioner(column)
            if pid is None:
                return
            if mode == "week" and self.agenda is not None:
                day = date.fromisoformat(self.agenda.columns[column].key)
            call = lambda: printouts.day_list_pdf(self._ws, self._actor, day, practitioner_id=pid)  # noqa: E731
        self._runner.run_write(
            call,
            lambda pdf: self._preview(self.tr("Liste des rendez-vous"), pdf),
            self.error_label.show_message,
        )

    def _print_card(self, appointment_id: str) -> None:
        from cms_desktop.services.agenda import printouts

        self._runner.run_write(
            lambda: printouts.appointment_card_pdf(self._ws, self._actor, appointment_id),
            lambda pdf: self._preview(self.tr("Carte de rendez-vous"), pdf),
            self.error_label.show_message,
        )
