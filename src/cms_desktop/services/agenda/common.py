"""Shared plumbing of the agenda services: time zones, loading the rules from the database,
and the frozen views handed to the UI.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol, TypeVar, TypeVarTuple, cast

from sqlalchemy import CursorResult, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TypedReturnsRows

from cms_desktop.domain.agenda.appointments import (
    AppointmentKind,
    AppointmentType,
    BookedAppointment,
    Interval,
)
from cms_desktop.domain.agenda.errors import AgendaError
from cms_desktop.domain.agenda.hours import (
    DEFAULT_ALENCON_HOURS,
    CentreCalendar,
    Closure,
    NthSaturdaysOfMonth,
    TimeRange,
    WeeklyHours,
    hm,
)
from cms_desktop.domain.agenda.practitioner import (
    Absence,
    ConsultingRange,
    DayRule,
    EveryNWeeks,
    EveryWeek,
    MonthlyNthWeekday,
    PractitionerSchedule,
)
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.paris_time import PARIS
from cms_desktop.domain.permissions import Permission, PermissionDenied
from cms_desktop.services.access import internal
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.storage.models import (
    AgendaClosure,
    AgendaSettings,
    Appointment,
    AppointmentTypeRow,
    Patient,
    Practitioner,
    PractitionerAbsence,
    PractitionerRange,
    Room,
)
from cms_desktop.storage.models.base import Replicated

_Ts = TypeVarTuple("_Ts")
_NAMESPACE = uuid.UUID("5b0e6c9e-3f43-4d4e-9a55-8a0c2f1d7e21")
SETTINGS_ID = str(uuid.uuid5(_NAMESPACE, "agenda_settings"))

HOLIDAY_ZONES: dict[str, str | None] = {
    "metropole": None,
    "alsace-moselle": "57",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}
HOLIDAY_ZONE_LABELS = {
    "metropole": "France métropolitaine",
    "alsace-moselle": "Alsace-Moselle",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
DEFAULT_SATURDAY_RANKS = "1,2,3"


def type_row_id(code: str) -> str:
    """Fixed id per type code, so two stations seeding the defaults create the same rows."""
    return str(uuid.uuid5(_NAMESPACE, f"appointment_type:{code}"))


def to_utc(local: datetime) -> datetime:
    """A Europe/Paris wall-clock time as an aware UTC datetime."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=PARIS).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """An aware datetime as a naive Europe/Paris wall-clock time."""
    return moment.astimezone(PARIS).replace(tzinfo=None)


def wall_clock(moment: datetime) -> datetime:
    """A naive Europe/Paris wall-clock time, what the agenda computes with: naive times are
    taken as such, aware ones (an API caller's UTC, say) are converted."""
    return moment if moment.tzinfo is None else to_local(moment)


def local_now() -> datetime:
    return datetime.now(PARIS).replace(tzinfo=None, second=0, microsecond=0)


def days_utc(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC bounds of the local days first..last included."""
    return to_utc(datetime.combine(first, time(0))), to_utc(
        datetime.combine(last + timedelta(days=1), time(0))
    )


@internal("the check itself")
def require_any(actor: Actor, *permissions: Permission) -> None:
    if not any(actor.can(p) for p in permissions):
        raise PermissionDenied(actor.role, permissions[0])


@contextmanager
def domain_errors() -> Iterator[None]:
    """Agenda rule errors become ValidationFailed with the same French message."""
    try:
        yield
    except AgendaError as exc:
        raise ValidationFailed(str(exc)) from None


def parse_hhmm(text: str) -> time:
    return hm(text)


def hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


# ---- centre calendar -------------------------------------------------------------------


def core(
    session: Session,
    statement: TypedReturnsRows[*_Ts],
    params: Mapping[str, Any] | None = None,
) -> CursorResult[*_Ts]:
    """Run a prebuilt statement on the session's connection, past the ORM layer.

    Building and running a select through the ORM costs ~0.3 ms of Python each time; the
    agenda's hot paths (booking checks inside the write lock, the day view) run a dozen.
    Pending changes are flushed first, as the session's autoflush would.
    """
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params or {})


_SETTINGS = select(
    AgendaSettings.hours_json, AgendaSettings.saturday_ranks, AgendaSettings.holiday_zone
).where(AgendaSettings.id == SETTINGS_ID)
_CLOSURES = select(AgendaClosure.first_day, AgendaClosure.last_day, AgendaClosure.label).where(
    AgendaClosure.deleted.is_(False)
)


def settings_row(session: Session) -> AgendaSettings | None:
    return session.get(AgendaSettings, SETTINGS_ID)


def default_hours_json() -> str:
    return json.dumps(
        {
            str(wd): [[hhmm(r.start), hhmm(r.end)] for r in DEFAULT_ALENCON_HOURS.ranges_for(wd)]
            for wd in range(7)
            if DEFAULT_ALENCON_HOURS.ranges_for(wd)
        }
    )


def weekly_hours_from_json(text: str) -> WeeklyHours:
    raw = json.loads(text or "{}")
    return WeeklyHours(
        {int(wd): [TimeRange(hm(a), hm(b)) for a, b in ranges] for wd, ranges in raw.items()}
    )


_CALENDARS: dict[tuple[object, ...], CentreCalendar] = {}


def load_calendar(session: Session) -> CentreCalendar:
    row = core(session, _SETTINGS).first()
    hours_json = row.hours_json if row is not None else default_hours_json()
    ranks_text = row.saturday_ranks if row is not None else DEFAULT_SATURDAY_RANKS
    zone = row.holiday_zone if row is not None else "metropole"
    closures = tuple(Closure(first, last, label) for first, last, label in core(session, _CLOSURES))
    key = (hours_json, ranks_text, zone, closures)
    cached = _CALENDARS.get(key)
    if cached is not None:
        # Building the holiday calendar is costly; the same settings give the same answer.
        return cached
    ranks = frozenset(int(r) for r in ranks_text.split(",") if r.strip())
    with domain_errors():
        calendar = CentreCalendar(
            weekly_hours=weekly_hours_from_json(hours_json),
            saturday_rule=NthSaturdaysOfMonth(ranks) if ranks else None,
            closures=closures,
            subdivision=HOLIDAY_ZONES.get(zone),
        )
    if len(_CALENDARS) > 16:
        _CALENDARS.clear()
    _CALENDARS[key] = calendar
    return calendar


# ---- practitioners ---------------------------------------------------------------------


@dataclass(frozen=True)
class PractitionerView:
    id: str
    display_name: str
    full_name: str
    title: str
    profession: str
    specialty: str
    rpps: str
    colour: str
    visiting: bool
    active: bool
    user_id: str | None


class PractitionerLike(Protocol):
    """What a schedule needs of a practitioner (an ORM object or a selected row)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def active(self) -> bool: ...


def display_name(p: PractitionerLike) -> str:
    return f"{p.title} {p.full_name}".strip()


def practitioner_view(p: Practitioner) -> PractitionerView:
    return PractitionerView(
        p.id,
        display_name(p),
        p.full_name,
        p.title,
        p.profession,
        p.specialty,
        p.rpps,
        p.colour,
        p.visiting,
        p.active,
        p.user_id,
    )


_PRACTITIONER = select(
    Practitioner.id, Practitioner.title, Practitioner.full_name, Practitioner.active
).where(Practitioner.id == bindparam("id"), Practitioner.deleted.is_(False))


def live_practitioner(session: Session, practitioner_id: str) -> PractitionerLike:
    """The columns a booking needs of a non-deleted practitioner; raises NotFound."""
    row = core(session, _PRACTITIONER, {"id": practitioner_id}).first()
    if row is None:
        raise NotFound("Praticien introuvable.")
    return cast(PractitionerLike, row)


def get_practitioner(session: Session, practitioner_id: str) -> Practitioner:
    p = session.get(Practitioner, practitioner_id)
    if p is None or p.deleted:
        raise NotFound("Praticien introuvable.")
    return p


def practitioners(session: Session, include_inactive: bool = False) -> list[Practitioner]:
    query = select(Practitioner).where(Practitioner.deleted.is_(False))
    if not include_inactive:
        query = query.where(Practitioner.active.is_(True))
    return list(session.scalars(query.order_by(Practitioner.sort_order, Practitioner.full_name)))


class _RangeRow(Protocol):
    """The columns of a practitioner_ranges row (an ORM object or a selected row)."""

    @property
    def weekday(self) -> int: ...
    @property
    def start_time(self) -> str: ...
    @property
    def end_time(self) -> str: ...
    @property
    def room_id(self) -> str | None: ...
    @property
    def pattern(self) -> str: ...
    @property
    def nth(self) -> int | None: ...
    @property
    def interval_weeks(self) -> int | None: ...
    @property
    def anchor(self) -> date | None: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_until(self) -> date | None: ...
    @property
    def own_hours(self) -> bool: ...


@lru_cache(maxsize=512)
def _clock(text: str) -> time:
    return hm(text)


def day_rule(row: _RangeRow) -> DayRule:
    if row.pattern == "nth_of_month":
        return MonthlyNthWeekday(row.nth or 1, row.weekday)
    if row.pattern == "every_n_weeks":
        return EveryNWeeks(row.weekday, row.interval_weeks or 1, row.anchor or date(2024, 1, 1))
    return EveryWeek(row.weekday)


def consulting_range(row: _RangeRow) -> ConsultingRange:
    return ConsultingRange(
        rule=day_rule(row),
        hours=TimeRange(_clock(row.start_time), _clock(row.end_time)),
        room_id=row.room_id,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        own_hours=row.own_hours,
    )


# Only the columns a schedule needs: building ORM objects costs more than the query.
_RANGE_COLUMNS = (
    PractitionerRange.practitioner_id,
    PractitionerRange.weekday,
    PractitionerRange.start_time,
    PractitionerRange.end_time,
    PractitionerRange.room_id,
    PractitionerRange.pattern,
    PractitionerRange.nth,
    PractitionerRange.interval_weeks,
    PractitionerRange.anchor,
    PractitionerRange.valid_from,
    PractitionerRange.valid_until,
    PractitionerRange.own_hours,
)
_RANGES = select(*_RANGE_COLUMNS).where(
    PractitionerRange.practitioner_id.in_(bindparam("ids", expanding=True)),
    PractitionerRange.deleted.is_(False),
)
_ABSENCES = select(
    PractitionerAbsence.practitioner_id,
    PractitionerAbsence.start_at,
    PractitionerAbsence.end_at,
    PractitionerAbsence.reason,
).where(
    PractitionerAbsence.practitioner_id.in_(bindparam("ids", expanding=True)),
    PractitionerAbsence.deleted.is_(False),
    PractitionerAbsence.start_at < bindparam("end"),
    PractitionerAbsence.end_at > bindparam("start"),
)


_USABLE_ROOMS = select(Room.id).where(Room.deleted.is_(False), Room.active.is_(True))


def usable_room_ids(session: Session) -> set[str]:
    """Rooms that can host an appointment (live and active)."""
    return {row.id for row in core(session, _USABLE_ROOMS)}


def load_schedules(
    session: Session, rows: Sequence[PractitionerLike], first: date, last: date
) -> dict[str, PractitionerSchedule]:
    """Schedules of these practitioners, with the absences that meet first..last.

    A range whose room was deactivated (or never existed here) carries no room: booking
    there and the free-slot search then agree that a type needing a room cannot go there.
    """
    ids = [p.id for p in rows]
    ranges: dict[str, list[ConsultingRange]] = {i: [] for i in ids}
    absences: dict[str, list[Absence]] = {i: [] for i in ids}
    start_utc, end_utc = days_utc(first, last)
    usable = usable_room_ids(session)
    with domain_errors():
        for r in core(session, _RANGES, {"ids": ids}):
            consulting = consulting_range(r)
            if consulting.room_id is not None and consulting.room_id not in usable:
                consulting = replace(consulting, room_id=None)
            ranges[r.practitioner_id].append(consulting)
        for pid, a_start, a_end, reason in core(
            session, _ABSENCES, {"ids": ids, "start": start_utc, "end": end_utc}
        ):
            absences[pid].append(Absence(to_local(a_start), to_local(a_end), reason or "absence"))
        return {
            p.id: PractitionerSchedule(
                p.id, display_name(p), tuple(ranges[p.id]), tuple(absences[p.id]), p.active
            )
            for p in rows
        }


# ---- appointments ----------------------------------------------------------------------


# One appointment type as the services give it out: the domain's record (label, length,
# colour, active, and the rules the booking check reads).
TypeInfo = AppointmentKind

_TYPES = select(AppointmentTypeRow).where(AppointmentTypeRow.deleted.is_(False))


def type_from_row(row: AppointmentTypeRow) -> AppointmentKind:
    """A built-in type keeps the rules of its code (only label/length/colour/active are
    stored choices); a type the centre added has the rules stored on its row."""
    if row.code in _BUILTIN_CODES:
        return replace(
            AppointmentType(row.code).kind,
            label=row.label,
            minutes=row.default_minutes,
            colour=row.colour,
            active=bool(row.active),
        )
    return AppointmentKind(
        row.code,
        row.label,
        row.default_minutes,
        row.colour,
        active=bool(row.active),
        needs_room=bool(row.needs_room),
        in_centre_hours=bool(row.in_centre_hours),
        in_practitioner_ranges=bool(row.in_practitioner_ranges),
        released_same_day=bool(row.released_same_day),
        blocks_time=bool(row.blocks_time),
        reception_books=bool(row.reception_books),
    )


_BUILTIN_CODES = frozenset(t.value for t in AppointmentType)


def type_infos(session: Session) -> dict[str, TypeInfo]:
    """Every appointment type by code: the built-in ones first (their defaults when no row
    is stored yet), then those the centre added, by label."""
    infos: dict[str, TypeInfo] = {t.value: t.kind for t in AppointmentType}
    added: list[TypeInfo] = []
    for row in session.scalars(_TYPES):
        info = type_from_row(row)
        if info.builtin:
            infos[info.code] = info
        else:
            added.append(info)
    for info in sorted(added, key=lambda i: (i.label.casefold(), i.code)):
        infos[info.code] = info
    return infos


def type_kind(session: Session, code: str) -> TypeInfo:
    """The type with this code (built-in or added), or a French refusal."""
    info = type_infos(session).get(code)
    if info is None:
        raise ValidationFailed(f"Type de rendez-vous inconnu : {code}")
    return info


_OVERLAPPING = (
    select(
        Appointment.id,
        Appointment.practitioner_id,
        Appointment.room_id,
        Appointment.patient_id,
        Appointment.type_code,
        Appointment.start_at,
        Appointment.end_at,
    )
    .where(
        Appointment.deleted.is_(False),
        Appointment.status != VisitStatus.CANCELLED.value,
        Appointment.start_at < bindparam("end"),
        # Appointments never span days: this lower bound keeps each index range short.
        Appointment.start_at > bindparam("day_before"),
        Appointment.end_at > bindparam("start"),
        or_(
            Appointment.practitioner_id == bindparam("practitioner_id"),
            Appointment.room_id == bindparam("room_id"),
            Appointment.patient_id == bindparam("patient_id"),
        ),
    )
    .order_by(Appointment.start_at)
)


@dataclass(frozen=True)
class Overlapping:
    """The non-cancelled appointments meeting an interval, per resource of a booking."""

    practitioner: list[BookedRow]
    room: list[BookedRow]
    patient: list[BookedRow]


def active_overlapping(
    session: Session,
    start_utc: datetime,
    end_utc: datetime,
    *,
    practitioner_id: str,
    room_id: str | None = None,
    patient_id: str | None = None,
) -> Overlapping:
    """Non-cancelled appointments meeting [start, end) of the practitioner, the room (if
    any) or the patient (if any), in one statement of columns only: the check runs in the
    write transaction, so every millisecond saved here is one less holding the write lock.
    """
    rows: list[BookedRow] = list(
        core(
            session,
            _OVERLAPPING,
            {
                "start": start_utc,
                "end": end_utc,
                "day_before": start_utc - timedelta(days=1),
                "practitioner_id": practitioner_id,
                # NULL never equals anything: a missing room or patient matches no row.
                "room_id": room_id or None,
                "patient_id": patient_id or None,
            },
        )
    )
    return Overlapping(
        [r for r in rows if r.practitioner_id == practitioner_id],
        [r for r in rows if room_id and r.room_id == room_id],
        [r for r in rows if patient_id and r.patient_id == patient_id],
    )


class BookedRow(Protocol):
    """The columns of an appointment a booking check needs (ORM object or selected row)."""

    @property
    def id(self) -> str: ...
    @property
    def practitioner_id(self) -> str: ...
    @property
    def room_id(self) -> str | None: ...
    @property
    def patient_id(self) -> str | None: ...
    @property
    def type_code(self) -> str: ...
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime: ...


def booked(row: BookedRow, names: dict[str, str]) -> BookedAppointment:
    return BookedAppointment(
        row.id,
        Interval(to_local(row.start_at), to_local(row.end_at)),
        row.practitioner_id,
        names.get(row.practitioner_id, ""),
        row.room_id,
        row.patient_id,
        AppointmentType(row.type_code)
        if row.type_code in AppointmentType.__members__.values()
        else AppointmentType.CONSULTATION,
    )


_PRACTITIONER_NAMES = select(Practitioner.id, Practitioner.title, Practitioner.full_name)
_ROOM_NAMES = select(Room.id, Room.name)


def practitioner_names(session: Session) -> dict[str, str]:
    rows = core(session, _PRACTITIONER_NAMES)
    return {pid: f"{title} {name}".strip() for pid, title, name in rows}


def room_names(session: Session) -> dict[str, str]:
    return {rid: name for rid, name in core(session, _ROOM_NAMES)}


def patient_name(p: Patient) -> str:
    """NAME Given name, as reception reads it (used name first when there is one)."""
    family = (p.used_name or p.birth_name).upper()
    given = p.used_given_name or p.first_given_name
    return f"{family} {given}".strip()


def patient_names(session: Session, ids: Collection[str]) -> dict[str, str]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        # Only the name columns: building whole Patient rows costs more than the query.
        for pid, birth, used, first, used_given in session.execute(
            select(
                Patient.id,
                Patient.birth_name,
                Patient.used_name,
                Patient.first_given_name,
                Patient.used_given_name,
            ).where(Patient.id.in_(chunk))
        ):
            found[pid] = f"{(used or birth).upper()} {used_given or first}".strip()
    return found


@dataclass(frozen=True)
class AppointmentView:
    id: str
    practitioner_id: str
    practitioner_name: str
    room_id: str | None
    room_name: str
    patient_id: str | None
    patient_name: str
    type_code: str
    type_label: str
    colour: str
    start: datetime  # Europe/Paris wall clock
    end: datetime
    reason: str
    note: str
    status: VisitStatus
    arrived_at: datetime | None = None
    called_at: datetime | None = None
    seen_at: datetime | None = None
    cancel_reason: str = ""
    provisional: bool = False
    series_id: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def cancelled(self) -> bool:
        return self.status == VisitStatus.CANCELLED

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class ViewContext:
    """Names looked up once per request to build many views."""

    practitioners: dict[str, str]
    rooms: dict[str, str]
    patients: dict[str, str]
    types: dict[str, TypeInfo]

    @classmethod
    def load(cls, session: Session, rows: Sequence[Appointment]) -> ViewContext:
        return cls(
            practitioner_names(session),
            room_names(session),
            patient_names(session, [r.patient_id for r in rows if r.patient_id]),
            type_infos(session),
        )


def _opt_local(moment: datetime | None) -> datetime | None:
    return None if moment is None else to_local(moment)


def appointment_view(
    row: Appointment, ctx: ViewContext, warnings: tuple[str, ...] = ()
) -> AppointmentView:
    info = ctx.types.get(row.type_code, TypeInfo(row.type_code, row.type_code, 15, "#999999"))
    return AppointmentView(
        id=row.id,
        practitioner_id=row.practitioner_id,
        practitioner_name=ctx.practitioners.get(row.practitioner_id, ""),
        room_id=row.room_id,
        room_name=ctx.rooms.get(row.room_id or "", ""),
        patient_id=row.patient_id,
        patient_name=ctx.patients.get(row.patient_id or "", ""),
        type_code=row.type_code,
        type_label=info.label,
        colour=info.colour,
        start=to_local(row.start_at),
        end=to_local(row.end_at),
        reason=row.reason,
        note=row.note,
        status=VisitStatus(row.status),
        arrived_at=_opt_local(row.arrived_at),
        called_at=_opt_local(row.called_at),
        seen_at=_opt_local(row.seen_at),
        cancel_reason=row.cancel_reason,
        provisional=row.provisional,
        series_id=row.series_id,
        warnings=warnings,
    )


_Row = TypeVar("_Row", bound=Replicated)


def tombstone(session: Session, model: type[_Row], row_id: str, missing: str) -> _Row:
    """Mark the live row ``row_id`` deleted (rows are never removed: sync needs the
    tombstone); ``NotFound(missing)`` if there is no such live row."""
    row = session.get(model, row_id)
    if row is None or row.deleted:
        raise NotFound(missing)
    row.deleted = True
    return row
