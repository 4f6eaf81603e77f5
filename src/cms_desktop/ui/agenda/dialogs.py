"""Booking dialog (patient search, practitioner, type, date, time, length, reason, note,
weekly repetition with the collisions listed before confirming), the edit dialog (type,
length, reason, note of a booked appointment) and the cancel dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from PySide6.QtCore import QDate, QTime, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from cms_desktop.domain.agenda.recurrence import Frequency, SeriesRule
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import booking, views
from cms_desktop.services.agenda.booking import BookingRequest, SeriesOutcome
from cms_desktop.services.agenda.common import (
    AppointmentView,
    PractitionerView,
    TypeInfo,
    local_now,
)
from cms_desktop.services.agenda.lookup import PatientChoice, search_patients_for_booking
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ask


class BookingDialog(ServiceDialog):
    """New appointment; `result_value` is the AppointmentView (or SeriesOutcome) booked."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        practitioners: list[PractitionerView],
        types: list[TypeInfo],
        *,
        practitioner_id: str | None = None,
        start: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Nouveau rendez-vous", "Réserver", runner, parent)
        self.setWindowTitle(self.tr("Nouveau rendez-vous"))
        self._ws, self._actor = ws, actor
        self._types = types
        self.patient_id: str | None = None
        self.patient_search = QLineEdit(self)
        self.patient_search.setPlaceholderText(self.tr("Nom (et prénom) du patient…"))
        self.patient_list = QListWidget(self)
        self.patient_list.setMaximumHeight(90)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.search_patients)
        self.patient_search.textEdited.connect(lambda _t: self._search_timer.start())
        self.patient_search.returnPressed.connect(self.search_patients)
        self.patient_list.currentItemChanged.connect(self._patient_chosen)
        self.practitioner = QComboBox(self)
        for p in practitioners:
            self.practitioner.addItem(p.display_name, p.id)
        if practitioner_id is not None:
            self.practitioner.setCurrentIndex(max(0, self.practitioner.findData(practitioner_id)))
        self.type = QComboBox(self)
        for t in types:
            self.type.addItem(t.label, t.code)
        self.type.currentIndexChanged.connect(self._type_changed)
        start = start or datetime.combine(local_now().date(), time(9))
        self.day = QDateEdit(QDate(start.year, start.month, start.day), self)
        self.day.setDisplayFormat("dd/MM/yyyy")
        self.day.setCalendarPopup(True)
        self.at = QTimeEdit(QTime(start.hour, start.minute), self)
        self.at.setDisplayFormat("HH:mm")
        self.length = QSpinBox(self)
        self.length.setRange(5, 720)
        self.length.setSingleStep(5)
        self.length.setSuffix(" min")
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(200)
        self.note = QPlainTextEdit(self)
        self.note.setPlaceholderText(self.tr("Note administrative (visible par l'accueil)"))
        self.note.setMaximumHeight(60)
        self.note.setTabChangesFocus(True)  # Tab goes on to the next field, as elsewhere
        self.repeat = QSpinBox(self)
        self.repeat.setRange(1, 52)
        # 1 is the appointment alone: said so, not « 1 semaine(s) ».
        self.repeat.setSpecialValueText(self.tr("Aucune (ce rendez-vous seulement)"))
        self.repeat.setPrefix(self.tr("sur "))
        self.repeat.setSuffix(self.tr(" semaines"))
        self.repeat.setToolTip(
            self.tr("Répéter chaque semaine, même jour, même heure, sur ce nombre de semaines")
        )
        self.next_slot_button = QPushButton(self.tr("Prochain créneau libre"), self)
        self.next_slot_button.clicked.connect(self.find_next_slot)
        self.form.addRow(self.tr("&Patient"), self.patient_search)
        self.form.addRow("", self.patient_list)
        self.form.addRow(self.tr("P&raticien"), self.practitioner)
        self.form.addRow(self.tr("&Type"), self.type)
        self.form.addRow(self.tr("&Date"), self.day)
        self.form.addRow(self.tr("&Heure"), self.at)
        self.form.addRow(self.tr("D&urée"), self.length)
        self.form.addRow("", self.next_slot_button)
        self.form.addRow(self.tr("&Motif"), self.reason)
        self.form.addRow(self.tr("&Note"), self.note)
        self.form.addRow(self.tr("Ré&pétition"), self.repeat)
        self._type_changed()
        self.patient_search.setFocus()

    def _type_changed(self) -> None:
        index = self.type.currentIndex()
        if 0 <= index < len(self._types):
            self.length.setValue(self._types[index].minutes)

    def search_patients(self) -> None:
        text = self.patient_search.text()
        self._runner.run_read(
            lambda: search_patients_for_booking(self._ws, self._actor, text),
            self._show_patients,
            self.error_label.show_message,
        )

    def _show_patients(self, choices: list[PatientChoice]) -> None:
        self.patient_list.clear()
        for choice in choices:
            item = QListWidgetItem(choice.label, self.patient_list)
            item.setData(256, choice.id)
        if choices:
            self.patient_list.setCurrentRow(0)

    def _patient_chosen(self, item: QListWidgetItem | None) -> None:
        self.patient_id = None if item is None else item.data(256)

    def start(self) -> datetime:
        d, t = self.day.date(), self.at.time()
        return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())

    def request(self) -> BookingRequest:
        return BookingRequest(
            practitioner_id=self.practitioner.currentData(),
            start=self.start(),
            type_code=self.type.currentData(),
            minutes=self.length.value(),
            patient_id=self.patient_id,
            reason=self.reason.text(),
            note=self.note.toPlainText(),
        )

    def find_next_slot(self) -> None:
        req = self.request()
        self._runner.run_read(
            lambda: views.next_free_slot(
                self._ws,
                self._actor,
                type_code=req.type_code,
                minutes=req.minutes,
                from_dt=req.start,
                practitioner_id=req.practitioner_id,
                limit=1,
            ),
            self._slot_found,
            self.error_label.show_message,
        )

    def _slot_found(self, slots: list[views.SlotView]) -> None:
        if not slots:
            self.error_label.show_message(self.tr("Aucun créneau libre dans les trois mois."))
            return
        s = slots[0].start
        self.day.setDate(QDate(s.year, s.month, s.day))
        self.at.setTime(QTime(s.hour, s.minute))
        self.error_label.clear_message()

    def prepare(self) -> Callable[[], Any]:
        if self.practitioner.currentData() is None:
            raise ValidationFailed(self.tr("Choisissez un praticien."))
        req = self.request()
        if req.type_code not in ("blocked", "coordination_meeting") and req.patient_id is None:
            raise ValidationFailed(self.tr("Choisissez le patient (recherche par nom)."))
        if self.repeat.value() == 1:
            ws, actor = self._ws, self._actor

            def book_unless_warned() -> object:
                # A warning (the patient is booked elsewhere at that time) is asked about
                # before anything is saved; a blocking reason still comes from ``book``.
                check = booking.check_request(ws, actor, req)
                if check.ok and check.warnings:
                    return _Warned(tuple(w.message for w in check.warnings))
                return booking.book(ws, actor, req)

            return book_unless_warned
        rule = SeriesRule(Frequency.WEEKLY, count=self.repeat.value())
        return lambda: booking.book_series(self._ws, self._actor, req, rule)

    def _succeeded(self, value: object) -> None:
        if isinstance(value, _Warned):
            lines = "\n".join(f"• {message}" for message in value.messages)
            if not ask(
                self,
                self.tr("Rendez-vous"),
                self.tr("Attention :\n") + lines + self.tr("\n\nRéserver quand même ?"),
            ):
                self._set_busy(False)
                return
            req = self.request()
            self._runner.run_write(
                lambda: booking.book(self._ws, self._actor, req),
                super()._succeeded,
                self._failed,
            )
            return
        if isinstance(value, SeriesOutcome) and not value.booked:
            lines = "\n".join(
                f"• {o.start:%d/%m/%Y %H:%M} : {' ; '.join(o.errors)}" for o in value.collisions
            )
            if not ask(
                self,
                self.tr("Série de rendez-vous"),
                self.tr("Ces dates ne peuvent pas être réservées :\n")
                + lines
                + self.tr("\n\nRéserver les autres dates ?"),
            ):
                self._set_busy(False)
                return
            req = self.request()
            rule = SeriesRule(Frequency.WEEKLY, count=self.repeat.value())
            self._runner.run_write(
                lambda: booking.book_series(self._ws, self._actor, req, rule, confirm=True),
                super()._succeeded,
                self._failed,
            )
            return
        super()._succeeded(value)


@dataclass(frozen=True)
class _Warned:
    """The booking is possible but the receptionist must confirm (nothing saved yet)."""

    messages: tuple[str, ...]


class CancelDialog(ServiceDialog):
    """Cancel with a reason; the appointment stays visible, greyed."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        appointment_id: str,
        summary: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Annuler le rendez-vous", "Annuler le rendez-vous", runner, parent)
        self.setWindowTitle(self.tr("Annuler le rendez-vous"))
        self.buttons.button(self.buttons.StandardButton.Cancel).setText(self.tr("Fermer"))
        self._ws, self._actor, self._id = ws, actor, appointment_id
        self.reason = QComboBox(self)
        self.reason.setEditable(True)
        self.reason.addItems(
            [
                "",
                self.tr("Annulé par le patient"),
                self.tr("Praticien absent"),
                self.tr("Erreur de saisie"),
            ]
        )
        self.form.addRow(self.tr("Rendez-vous"), QLineEdit(summary, self, readOnly=True))
        self.form.addRow(self.tr("&Motif"), self.reason)
        self.reason.setFocus()

    def prepare(self) -> Callable[[], Any]:
        reason = self.reason.currentText()
        return lambda: booking.cancel(self._ws, self._actor, self._id, reason)


class EditAppointmentDialog(ServiceDialog):
    """Change the type, length, reason and note of an appointment; moving it stays a drag
    (or Ctrl+arrows) in the agenda. Once the patient has arrived only reason and note change.
    """

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        appointment: AppointmentView,
        types: list[TypeInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Modifier le rendez-vous", "Enregistrer", runner, parent)
        self.setWindowTitle(self.tr("Modifier le rendez-vous"))
        self._ws, self._actor, self._appt = ws, actor, appointment
        self._types = types
        a = appointment
        who = a.patient_name or a.type_label
        summary = QLabel(
            f"{a.start:%d/%m/%Y} {a.start:%H:%M}–{a.end:%H:%M} — {who}\n{a.practitioner_name}"
            + (f" — {a.room_name}" if a.room_name else ""),
            self,
        )
        summary.setWordWrap(True)
        self.type = QComboBox(self)
        for t in types:
            self.type.addItem(t.label, t.code)
        self.type.setCurrentIndex(max(0, self.type.findData(a.type_code)))
        self.type.currentIndexChanged.connect(self._type_changed)
        self.length = QSpinBox(self)
        self.length.setRange(5, 720)
        self.length.setSingleStep(5)
        self.length.setSuffix(" min")
        self.length.setValue(a.minutes)
        self.reason = QLineEdit(a.reason, self)
        self.reason.setMaxLength(200)
        self.note = QPlainTextEdit(a.note, self)
        self.note.setPlaceholderText(self.tr("Note administrative (visible par l'accueil)"))
        self.note.setMaximumHeight(60)
        self.note.setTabChangesFocus(True)
        self.form.addRow(self.tr("Rendez-vous"), summary)
        self.form.addRow(self.tr("&Type"), self.type)
        self.form.addRow(self.tr("D&urée"), self.length)
        self.form.addRow(self.tr("&Motif"), self.reason)
        self.form.addRow(self.tr("&Note"), self.note)
        if a.status != VisitStatus.BOOKED:
            self.type.setEnabled(False)
            self.length.setEnabled(False)
            hint = QLabel(
                self.tr(
                    "Patient déjà passé en salle d'attente : seuls le motif et la note changent."
                ),
                self,
            )
            hint.setObjectName("hint")
            hint.setWordWrap(True)
            self.form.addRow(hint)
        self.reason.setFocus()
        self.reason.selectAll()

    def _type_changed(self) -> None:
        index = self.type.currentIndex()
        if 0 <= index < len(self._types):
            self.length.setValue(self._types[index].minutes)

    def prepare(self) -> Callable[[], Any]:
        a = self._appt
        type_code = str(self.type.currentData())
        minutes = self.length.value()
        reason, note = self.reason.text(), self.note.toPlainText()
        if a.status != VisitStatus.BOOKED:
            type_code, minutes = a.type_code, a.minutes
        ws, actor = self._ws, self._actor
        return lambda: booking.update_details(
            ws,
            actor,
            a.id,
            reason=reason,
            note=note,
            type_code=None if type_code == a.type_code else type_code,
            minutes=None if minutes == a.minutes else minutes,
        )
