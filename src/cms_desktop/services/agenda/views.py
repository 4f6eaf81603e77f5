"""What the agenda screens show: the day (per practitioner or per room), a practitioner's
week, the month's load, a practitioner's own day, and the next free slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.appointments import AppointmentType, Interval
from cms_desktop.domain.agenda.hours import CentreCalendar
from cms_desktop.domain.agenda.practitioner import PractitionerSchedule
from cms_desktop.domain.agenda.slots import DayLoad, Slot, load_by_day, next_free_slots
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    AppointmentView,
    PractitionerView,
    TypeInfo,
    core,
    days_utc,
    domain_errors,
    load_calendar,
    load_schedules,
    local_now,
    practitioner_view,
    practitioners,
    require_any,
    room_names,
    to_local,
    to_utc,
    type_kind,
)
from cms_desktop.services.agenda.view_rows import appointment_views
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Appointment, Practitioner, Room, User


@dataclass(frozen=True)
class Column:
    """One column of the day view: a practitioner (or a room) and its bookable time."""

    key: str
    title: str
    subtitle: str
    colour: str
    available: tuple[tuple[datetime, datetime], ...]
    appointments: tuple[AppointmentView, ...]


@dataclass(frozen=True)
class DayAgenda:
    day: date
    closed_reason: str | None
    opening: tuple[tuple[datetime, datetime], ...]
    columns: tuple[Column, ...]


def _appointments(
    session: Session,
    first: date,
    last: date,
    practitioner_ids: Sequence[str] | None = None,
    room_ids: Sequence[str] | None = None,
) -> list[Appointment]:
    start, end = days_utc(first, last)
    query = select(Appointment).where(
        Appointment.deleted.is_(False), Appointment.start_at >= start, Appointment.start_at < end
    )
    if practitioner_ids is not None:
        query = query.where(Appointment.practitioner_id.in_(list(practitioner_ids)))
    if room_ids is not None:
        query = query.where(Appointment.room_id.in_(list(room_ids)))
    return list(session.scalars(query.order_by(Appointment.start_at)))


def _views(
    session: Session,
    first: date,
    last: date,
    practitioner_ids: Sequence[str] | None = None,
    room_ids: Sequence[str] | None = None,
) -> list[AppointmentView]:
    """The same appointments as `_appointments`, as views (columns only, names joined)."""
    start, end = days_utc(first, last)
    return appointment_views(
        session, start, end, practitioner_ids=practitioner_ids, room_ids=room_ids
    )


def _opening(calendar: CentreCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    return tuple(r.on(day) for r in calendar.opening_ranges_on(day))


def _practitioner_columns(
    session: Session, day: date, rows: Sequence[Practitioner], calendar: CentreCalendar
) -> tuple[Column, ...]:
    with domain_errors():
        schedules = load_schedules(session, rows, day, day)
    by_practitioner: dict[str, list[AppointmentView]] = {p.id: [] for p in rows}
    for a in _views(session, day, day, [p.id for p in rows]):
        by_practitioner[a.practitioner_id].append(a)
    columns = []
    for p in rows:
        available = tuple((r.start, r.end) for r in schedules[p.id].available_ranges(day, calendar))
        view = practitioner_view(p)
        columns.append(
            Column(
                p.id,
                view.display_name,
                p.specialty or p.profession,
                p.colour,
                available,
                tuple(by_practitioner[p.id]),
            )
        )
    return tuple(columns)


@requires(Permission.AGENDA_READ)
def day_agenda(
    ws: Workspace,
    actor: Actor,
    day: date,
    *,
    practitioner_ids: Sequence[str] | None = None,
    by_room: bool = False,
) -> DayAgenda:
    """The day, one column per active practitioner (or per room), cancelled ones included."""
    actor.require(Permission.AGENDA_READ)
    with ws.store.read() as session:
        calendar = load_calendar(session)
        if by_room:
            rooms = list(
                session.scalars(
                    select(Room)
                    .where(Room.deleted.is_(False), Room.active.is_(True))
                    .order_by(Room.sort_order, Room.name)
                )
            )
            appts = _views(session, day, day, room_ids=[r.id for r in rooms])
            columns = tuple(
                Column(
                    r.id,
                    r.name,
                    "",
                    "#7f7f7f",
                    _opening(calendar, day),
                    tuple(a for a in appts if a.room_id == r.id),
                )
                for r in rooms
            )
        else:
            rows = practitioners(session)
            if practitioner_ids is not None:
                wanted = set(practitioner_ids)
                rows = [p for p in rows if p.id in wanted]
            columns = _practitioner_columns(session, day, rows, calendar)
        return DayAgenda(day, calendar.closure_reason(day), _opening(calendar, day), columns)


@requires(Permission.AGENDA_OWN)
def my_day(ws: Workspace, actor: Actor, day: date | None = None) -> DayAgenda:
    """The acting practitioner's own day (consulting-room view)."""
    actor.require(Permission.AGENDA_OWN)
    day = day or local_now().date()
    with ws.store.read() as session:
        own = session.scalars(
            select(Practitioner).where(
                Practitioner.user_id == actor.user_id, Practitioner.deleted.is_(False)
            )
        ).first()
        if own is None:
            raise NotFound("Votre compte n'est relié à aucun agenda de praticien.")
        calendar = load_calendar(session)
        columns = _practitioner_columns(session, day, [own], calendar)
        return DayAgenda(day, calendar.closure_reason(day), _opening(calendar, day), columns)


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)
def own_practitioner_id(ws: Workspace, actor: Actor) -> str | None:
    """The practitioner row linked to the acting account, if any."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    with ws.store.read() as session:
        return session.scalars(
            select(Practitioner.id).where(
                Practitioner.user_id == actor.user_id, Practitioner.deleted.is_(False)
            )
        ).first()


@requires(Permission.AGENDA_READ, note="one's own week: agenda.own is enough")
def week_agenda(ws: Workspace, actor: Actor, practitioner_id: str, monday: date) -> DayAgenda:
    """A practitioner's week: one column per day (Monday to Saturday)."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    monday = monday - timedelta(days=monday.weekday())
    with ws.store.read() as session:
        p = session.get(Practitioner, practitioner_id)
        if p is None or p.deleted:
            raise NotFound("Praticien introuvable.")
        if not actor.can(Permission.AGENDA_READ) and p.user_id != actor.user_id:
            actor.require(Permission.AGENDA_READ)
        calendar = load_calendar(session)
        last = monday + timedelta(days=5)
        with domain_errors():
            schedule = load_schedules(session, [p], monday, last)[p.id]
        appts = _views(session, monday, last, [p.id])
        names = ("Lun.", "Mar.", "Mer.", "Jeu.", "Ven.", "Sam.")
        columns = []
        for offset in range(6):
            day = monday + timedelta(days=offset)
            columns.append(
                Column(
                    day.isoformat(),
                    f"{names[offset]} {day:%d/%m}",
                    calendar.closure_reason(day) or "",
                    p.colour,
                    tuple((r.start, r.end) for r in schedule.available_ranges(day, calendar)),
                    tuple(a for a in appts if a.start.date() == day),
                )
            )
        return DayAgenda(monday, None, _opening(calendar, monday), tuple(columns))


_MONTH_BUSY = select(Appointment.practitioner_id, Appointment.start_at, Appointment.end_at).where(
    Appointment.deleted.is_(False),
    Appointment.status != VisitStatus.CANCELLED.value,
    Appointment.start_at >= bindparam("start"),
    Appointment.start_at < bindparam("end"),
)


@requires(Permission.AGENDA_READ)
def month_load(
    ws: Workspace,
    actor: Actor,
    year: int,
    month: int,
    practitioner_ids: Sequence[str] | None = None,
) -> list[DayLoad]:
    """Booked / available minutes for each day of the month (the month overview)."""
    actor.require(Permission.AGENDA_READ)
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with ws.store.read() as session:
        calendar = load_calendar(session)
        rows = practitioners(session)
        if practitioner_ids is not None:
            rows = [p for p in rows if p.id in set(practitioner_ids)]
        with domain_errors():
            schedules = load_schedules(session, rows, first, last)
        start, end = days_utc(first, last)
        busy: dict[str, list[Interval]] = {p.id: [] for p in rows}
        for pid, s, e in core(session, _MONTH_BUSY, {"start": start, "end": end}):
            if pid in busy:
                busy[pid].append(Interval(to_local(s), to_local(e)))
        return load_by_day(list(schedules.values()), calendar, busy, first, last)


@dataclass(frozen=True)
class SlotView:
    start: datetime
    end: datetime
    practitioner_id: str
    practitioner_name: str
    room_id: str | None
    room_name: str


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)
def next_free_slot(
    ws: Workspace,
    actor: Actor,
    *,
    type_code: str = AppointmentType.CONSULTATION.value,
    minutes: int | None = None,
    from_dt: datetime | None = None,
    practitioner_id: str | None = None,
    profession: str | None = None,
    days: int = 92,
    limit: int = 5,
    now: datetime | None = None,
) -> list[SlotView]:
    """First free slots for a practitioner, a profession or anyone, within hours and ranges."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    moment = now if now is not None else local_now()
    start = max(from_dt or moment, moment)
    until = datetime.combine(start.date() + timedelta(days=days), time(0))
    with ws.store.read() as session:
        kind = type_kind(session, type_code)
        if actor.role == Role.RECEPTION and not kind.reception_books:
            # Booking would refuse every slot: say why rather than offer none.
            raise ValidationFailed(f"Le type « {kind.label} » n'est pas pris par l'accueil.")
        if kind.released_same_day and actor.role == Role.RECEPTION:
            # Unscheduled-care slots open to reception on the day only.
            until = min(until, datetime.combine(moment.date() + timedelta(days=1), time(0)))
        rows = practitioners(session)
        if practitioner_id is not None:
            rows = [p for p in rows if p.id == practitioner_id]
        elif profession:
            rows = [p for p in rows if p.profession.casefold() == profession.casefold()]
        if not rows:
            return []
        length = timedelta(minutes=minutes if minutes is not None else kind.minutes)
        calendar = load_calendar(session)
        with domain_errors():
            schedules: list[PractitionerSchedule] = list(
                load_schedules(session, rows, start.date(), until.date()).values()
            )
        wanted = {p.id for p in rows}
        rooms_wanted = {r.room_id for sch in schedules for r in sch.ranges if r.room_id is not None}
        slots: list[Slot] = []
        # Most searches end the same day or within the week: widen the window only when
        # needed (the earliest slots of a window are the earliest slots overall).
        window_start = start
        for window_days in (1, 7, 31, days):
            window_end = min(
                until, datetime.combine(start.date() + timedelta(days=window_days), time(0))
            )
            if window_end <= window_start:
                continue
            slots = _free_slots(
                session,
                schedules,
                calendar,
                wanted,
                rooms_wanted,
                length,
                start,
                window_end,
                limit,
                kind,
            )
            if len(slots) >= limit or window_end >= until:
                break
        names = {p.id: practitioner_view(p).display_name for p in rows}
        rooms = room_names(session)
        return [
            SlotView(
                s.start,
                s.end,
                s.practitioner_id,
                names[s.practitioner_id],
                s.room_id,
                rooms.get(s.room_id or "", ""),
            )
            for s in slots
        ]


_BUSY = select(
    Appointment.practitioner_id,
    Appointment.room_id,
    Appointment.start_at,
    Appointment.end_at,
).where(
    Appointment.deleted.is_(False),
    Appointment.status != VisitStatus.CANCELLED.value,
    Appointment.start_at < bindparam("end"),
    Appointment.start_at > bindparam("start"),
    or_(
        Appointment.practitioner_id.in_(bindparam("pids", expanding=True)),
        Appointment.room_id.in_(bindparam("rids", expanding=True)),
    ),
)


def _free_slots(
    session: Session,
    schedules: list[PractitionerSchedule],
    calendar: CentreCalendar,
    practitioner_ids: set[str],
    room_ids: set[str],
    length: timedelta,
    start: datetime,
    until: datetime,
    limit: int,
    kind: TypeInfo,
) -> list[Slot]:
    s_utc, e_utc = to_utc(start) - timedelta(days=1), to_utc(until)
    by_p: dict[str, list[Interval]] = {}
    by_room: dict[str, list[Interval]] = {}
    for pid, rid, s, e in core(
        session,
        _BUSY,
        {"start": s_utc, "end": e_utc, "pids": list(practitioner_ids), "rids": list(room_ids)},
    ):
        iv = Interval(to_local(s), to_local(e))
        if pid in practitioner_ids:
            by_p.setdefault(pid, []).append(iv)
        if rid is not None:
            by_room.setdefault(rid, []).append(iv)
    with domain_errors():
        return next_free_slots(
            schedules,
            calendar,
            busy_by_practitioner=by_p,
            busy_by_room=by_room,
            length=length,
            from_dt=start,
            until_dt=until,
            limit=limit,
            at_centre=kind.at_centre,
            kind=kind,
        )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)
def list_practitioner_views(ws: Workspace, actor: Actor) -> list[PractitionerView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    with ws.store.read() as session:
        return [practitioner_view(p) for p in practitioners(session)]


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)
def find_practitioner(ws: Workspace, actor: Actor, login_or_id: str) -> PractitionerView | None:
    """The practitioner with this id, or linked to the account with this login."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    wanted = login_or_id.strip()
    with ws.store.read() as session:
        row = session.get(Practitioner, wanted)
        if row is None:
            row = session.scalars(
                select(Practitioner)
                .join(User, User.id == Practitioner.user_id)
                .where(User.login == wanted)
            ).first()
        if row is None or row.deleted:
            return None
        return practitioner_view(row)
