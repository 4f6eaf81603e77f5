"""Appointment types, half-open intervals and the booking check (a pure function).

The check returns every blocking error and every warning at once, each with a stable code
and a French message naming the reason, so the UI can list them before the user confirms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from cms_desktop.domain.agenda.errors import InvalidRangeError
from cms_desktop.domain.agenda.hours import CentreCalendar, format_time
from cms_desktop.domain.agenda.practitioner import PractitionerSchedule


@dataclass(frozen=True)
class AppointmentKind:
    """One appointment type as the centre defines it: a built-in one (its rules fixed by
    its code, label/length/colour editable) or one the administrator added.

    The booking check and the next-free-slot search read only these attributes, so a type
    added by the centre behaves exactly as its flags say.
    """

    code: str
    label: str
    minutes: int
    colour: str
    active: bool = True  # a retired type is no longer offered nor bookable; history keeps it
    needs_room: bool = True
    in_centre_hours: bool = True
    in_practitioner_ranges: bool = True
    # Unscheduled care: reception books it on the day itself only.
    released_same_day: bool = False
    # Blocked time: only takes the practitioner's time (holidays and absences allowed).
    blocks_time: bool = False
    reception_books: bool = True
    builtin: bool = False

    @property
    def default_length(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def at_centre(self) -> bool:
        """False for work away from the centre (home visits): the slot search then ignores
        the weekly opening hours and rooms."""
        return self.needs_room or self.in_centre_hours or self.blocks_time


class AppointmentType(StrEnum):
    """The built-in kinds of appointment; the value is the stored code."""

    CONSULTATION = "consultation"
    LONG_CONSULTATION = "long_consultation"
    UNSCHEDULED = "unscheduled"
    HOME_VISIT = "home_visit"
    NURSING_CARE = "nursing_care"
    VACCINATION = "vaccination"
    COORDINATION_MEETING = "coordination_meeting"
    BLOCKED = "blocked"

    @property
    def code(self) -> str:
        return self.value

    @property
    def kind(self) -> AppointmentKind:
        """The built-in defaults (label, length, colour and the fixed rules)."""
        return _TYPES[self]

    @property
    def label(self) -> str:
        return _TYPES[self].label

    @property
    def default_minutes(self) -> int:
        return _TYPES[self].minutes

    @property
    def default_length(self) -> timedelta:
        return timedelta(minutes=_TYPES[self].minutes)

    @property
    def colour(self) -> str:
        """Background colour in the agenda, "#rrggbb"."""
        return _TYPES[self].colour

    @property
    def needs_room(self) -> bool:
        return _TYPES[self].needs_room

    @property
    def in_centre_hours(self) -> bool:
        """Must fall within the centre's opening hours (false for work away or blocked time)."""
        return _TYPES[self].in_centre_hours

    @property
    def in_practitioner_ranges(self) -> bool:
        """Must fall within the practitioner's consulting ranges."""
        return _TYPES[self].in_practitioner_ranges

    @property
    def released_same_day(self) -> bool:
        return _TYPES[self].released_same_day

    @property
    def blocks_time(self) -> bool:
        return _TYPES[self].blocks_time

    @property
    def reception_books(self) -> bool:
        return _TYPES[self].reception_books

    @property
    def at_centre(self) -> bool:
        return _TYPES[self].at_centre


def _builtin(
    kind: AppointmentType,
    label: str,
    minutes: int,
    colour: str,
    needs_room: bool,
    in_centre_hours: bool,
    in_practitioner_ranges: bool,
) -> AppointmentKind:
    return AppointmentKind(
        kind.value,
        label,
        minutes,
        colour,
        needs_room=needs_room,
        in_centre_hours=in_centre_hours,
        in_practitioner_ranges=in_practitioner_ranges,
        released_same_day=kind.value == "unscheduled",
        blocks_time=kind.value == "blocked",
        builtin=True,
    )


_T = AppointmentType
_TYPES: dict[AppointmentType, AppointmentKind] = {
    _T.CONSULTATION: _builtin(_T.CONSULTATION, "Consultation", 20, "#4f81bd", True, True, True),
    _T.LONG_CONSULTATION: _builtin(
        _T.LONG_CONSULTATION, "Consultation longue", 40, "#1f4e79", True, True, True
    ),
    _T.UNSCHEDULED: _builtin(_T.UNSCHEDULED, "Soin non programmé", 15, "#e36c09", True, True, True),
    # Home visits happen away from the centre: no room, and not bound to the centre's weekly
    # hours, but still within the practitioner's own ranges and never on holidays/closures.
    _T.HOME_VISIT: _builtin(_T.HOME_VISIT, "Visite à domicile", 45, "#9bbb59", False, False, True),
    _T.NURSING_CARE: _builtin(_T.NURSING_CARE, "Soin infirmier", 15, "#4bacc6", True, True, True),
    _T.VACCINATION: _builtin(_T.VACCINATION, "Vaccination", 10, "#8064a2", True, True, True),
    # Meetings gather the team during opening hours, outside anyone's consulting ranges.
    _T.COORDINATION_MEETING: _builtin(
        _T.COORDINATION_MEETING, "Réunion de coordination", 60, "#7f7f7f", True, True, False
    ),
    # A blocked stretch only takes the practitioner's time: no room, no opening-hours rule.
    _T.BLOCKED: _builtin(_T.BLOCKED, "Créneau bloqué", 30, "#bfbfbf", False, False, False),
}

# What the booking check reads of a type: a built-in code or a type record.
TypeRules = AppointmentType | AppointmentKind


def can_reception_book_unscheduled(slot_day: date, today: date) -> bool:
    """Unscheduled-care slots are released to reception on the day itself only."""
    return slot_day == today


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open stretch of wall-clock time [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRangeError("Le rendez-vous se termine avant de commencer")

    @classmethod
    def of(cls, start: datetime, length: timedelta) -> Interval:
        return cls(start, start + length)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return f"{format_time(self.start.time())}–{format_time(self.end.time())}"


@dataclass(frozen=True)
class BookedAppointment:
    """An appointment already in the agenda (cancelled ones are left out by the caller)."""

    appointment_id: str
    interval: Interval
    practitioner_id: str
    practitioner_name: str
    room_id: str | None = None
    patient_id: str | None = None
    type: TypeRules = AppointmentType.CONSULTATION


@dataclass(frozen=True)
class AppointmentCandidate:
    """An appointment the user is about to book or move (appointment_id set when moving)."""

    interval: Interval
    type: TypeRules
    practitioner_id: str
    room_id: str | None = None
    patient_id: str | None = None
    appointment_id: str | None = None


class IssueCode(StrEnum):
    """Stable code of a booking problem, for the UI to react without reading messages."""

    IN_THE_PAST = "in_the_past"
    PRACTITIONER_INACTIVE = "practitioner_inactive"
    SPANS_DAYS = "spans_days"
    HOLIDAY = "holiday"
    CLOSURE = "closure"
    CENTRE_CLOSED = "centre_closed"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    OUTSIDE_PRACTITIONER_RANGES = "outside_practitioner_ranges"
    PRACTITIONER_ABSENT = "practitioner_absent"
    PRACTITIONER_OVERLAP = "practitioner_overlap"
    ROOM_MISSING = "room_missing"
    ROOM_OVERLAP = "room_overlap"
    UNSCHEDULED_NOT_RELEASED = "unscheduled_not_released"
    PATIENT_ALREADY_BOOKED = "patient_already_booked"
    NOT_FOR_RECEPTION = "not_for_reception"


@dataclass(frozen=True)
class BookingIssue:
    code: IssueCode
    message: str


@dataclass(frozen=True)
class BookingCheck:
    """Blocking errors and mere warnings for one candidate appointment."""

    errors: tuple[BookingIssue, ...] = ()
    warnings: tuple[BookingIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def has(self, code: IssueCode) -> bool:
        return any(i.code == code for i in (*self.errors, *self.warnings))


def _has_title(name: str) -> bool:
    return name.startswith(("Dr ", "Pr "))


def of_practitioner(name: str) -> str:
    """French "of" before a practitioner's name: "du Dr Martin", "de Mme Durand", "d'Anne"."""
    if _has_title(name):
        return f"du {name}"
    return f"d'{name}" if name[:1].lower() in "aeiouyhéèêàâîôû" else f"de {name}"


def at_practitioner(name: str) -> str:
    """French "at" before a practitioner's name: "chez le Dr Martin", "chez Mme Durand"."""
    return f"chez le {name}" if _has_title(name) else f"chez {name}"


def _others(
    existing: Iterable[BookedAppointment], candidate: AppointmentCandidate
) -> list[BookedAppointment]:
    return sorted(
        (
            b
            for b in existing
            if b.interval.overlaps(candidate.interval)
            and (candidate.appointment_id is None or b.appointment_id != candidate.appointment_id)
        ),
        key=lambda b: b.interval,
    )


def _day_issues(
    candidate: AppointmentCandidate, centre: CentreCalendar, schedule: PractitionerSchedule
) -> list[BookingIssue]:
    """Calendar errors: holiday, closure, opening hours, consulting ranges, absence."""
    iv, kind = candidate.interval, candidate.type
    day = iv.start.date()
    hosting = schedule.range_containing(iv.start, iv.end)
    errors: list[BookingIssue] = []
    if not kind.blocks_time:
        holiday = centre.holiday_name(day)
        closure = centre.closure_on(day)
        if holiday is not None:
            errors.append(BookingIssue(IssueCode.HOLIDAY, f"Jour férié : {holiday}"))
        elif closure is not None:
            errors.append(BookingIssue(IssueCode.CLOSURE, f"Fermeture : {closure.label}"))
        elif kind.in_centre_hours and not (hosting is not None and hosting.own_hours):
            reason = centre.closure_reason(day)
            if reason is not None:
                errors.append(BookingIssue(IssueCode.CENTRE_CLOSED, reason))
            elif not centre.is_open_at(iv.start, iv.end):
                errors.append(
                    BookingIssue(IssueCode.OUTSIDE_OPENING_HOURS, "Hors des heures d'ouverture")
                )
    if kind.in_practitioner_ranges and hosting is None:
        errors.append(
            BookingIssue(
                IssueCode.OUTSIDE_PRACTITIONER_RANGES,
                f"Hors des plages de consultation {of_practitioner(schedule.display_name)}",
            )
        )
    # Blocking time while away is harmless (and common: "absent, do not book").
    absence = None if kind.blocks_time else schedule.absence_during(iv.start, iv.end)
    if absence is not None:
        errors.append(
            BookingIssue(IssueCode.PRACTITIONER_ABSENT, f"Praticien absent : {absence.reason}")
        )
    return errors


def check_booking(
    candidate: AppointmentCandidate,
    *,
    centre: CentreCalendar,
    practitioner_schedule: PractitionerSchedule,
    existing_for_practitioner: Iterable[BookedAppointment],
    existing_for_room: Iterable[BookedAppointment],
    existing_for_patient: Iterable[BookedAppointment],
    now: datetime,
    booked_by_reception: bool = False,
) -> BookingCheck:
    """Every reason the candidate cannot be booked (errors) or should be looked at (warnings)."""
    iv, kind = candidate.interval, candidate.type
    errors: list[BookingIssue] = []
    warnings: list[BookingIssue] = []
    if iv.start < now:
        errors.append(BookingIssue(IssueCode.IN_THE_PAST, "Rendez-vous dans le passé"))
    if not practitioner_schedule.active:
        errors.append(BookingIssue(IssueCode.PRACTITIONER_INACTIVE, "Praticien désactivé"))
    if iv.end.date() != iv.start.date() and iv.end != _midnight_after(iv.start):
        errors.append(
            BookingIssue(IssueCode.SPANS_DAYS, "Un rendez-vous doit finir le jour où il commence")
        )
    errors.extend(_day_issues(candidate, centre, practitioner_schedule))
    if booked_by_reception and not kind.reception_books:
        errors.append(
            BookingIssue(
                IssueCode.NOT_FOR_RECEPTION,
                f"Le type « {kind.label} » n'est pas pris par l'accueil",
            )
        )
    if (
        kind.released_same_day
        and booked_by_reception
        and not can_reception_book_unscheduled(iv.start.date(), now.date())
    ):
        errors.append(
            BookingIssue(
                IssueCode.UNSCHEDULED_NOT_RELEASED,
                "Les créneaux de soins non programmés ne s'ouvrent à l'accueil que le jour même",
            )
        )
    clashing_ids: set[str] = set()
    for other in _others(existing_for_practitioner, candidate):
        clashing_ids.add(other.appointment_id)
        errors.append(
            BookingIssue(
                IssueCode.PRACTITIONER_OVERLAP,
                f"Chevauche le rendez-vous de {other.interval} "
                f"{of_practitioner(other.practitioner_name)}",
            )
        )
    missing_room = room_issue(kind, candidate.room_id)
    if missing_room is not None:
        errors.append(missing_room)
    if kind.needs_room and candidate.room_id is not None:
        for other in _others(existing_for_room, candidate):
            if other.room_id == candidate.room_id and other.appointment_id not in clashing_ids:
                errors.append(
                    BookingIssue(
                        IssueCode.ROOM_OVERLAP,
                        f"Salle occupée par le rendez-vous de {other.interval} "
                        f"{of_practitioner(other.practitioner_name)}",
                    )
                )
    if candidate.patient_id is not None:
        for other in _others(existing_for_patient, candidate):
            if (
                other.patient_id == candidate.patient_id
                and other.appointment_id not in clashing_ids
            ):
                warnings.append(
                    BookingIssue(
                        IssueCode.PATIENT_ALREADY_BOOKED,
                        f"Patient déjà attendu de {other.interval} "
                        f"{at_practitioner(other.practitioner_name)}",
                    )
                )
    return BookingCheck(tuple(errors), tuple(warnings))


def room_issue(kind: TypeRules, room_id: str | None) -> BookingIssue | None:
    """The one rule on rooms shared by booking and the next-free-slot search: a type that
    needs a room cannot happen without one (the range's room is the default; a range with
    no room, or whose room was deactivated, gives none)."""
    if kind.needs_room and room_id is None:
        return BookingIssue(
            IssueCode.ROOM_MISSING,
            "Aucune salle choisie (la plage du praticien n'en indique pas)",
        )
    return None


def _midnight_after(start: datetime) -> datetime:
    return datetime.combine(start.date() + timedelta(days=1), datetime.min.time())
