"""Booking, moving and cancelling appointments, and recurring series.

Every conflict check runs inside the write transaction that inserts the row; the store opens
it with BEGIN IMMEDIATE, so two screens or two stations' threads cannot both pass the check
for the same practitioner or room: the second one waits, then sees the first booking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.appointments import (
    AppointmentCandidate,
    AppointmentType,
    BookingCheck,
    BookingIssue,
    Interval,
    IssueCode,
    check_booking,
)
from cms_desktop.domain.agenda.recurrence import SeriesRule, occurrences
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.services.access import internal, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    AppointmentView,
    TypeInfo,
    ViewContext,
    active_overlapping,
    appointment_view,
    booked,
    core,
    display_name,
    domain_errors,
    live_practitioner,
    load_calendar,
    load_schedules,
    local_now,
    patient_names,
    practitioner_names,
    to_local,
    to_utc,
    type_infos,
    wall_clock,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Appointment, Patient, Room

MAX_REASON = 200
MAX_NOTE = 2000


class BookingRefused(ValidationFailed):
    """The booking check found blocking reasons; ``issues`` lists them all."""

    def __init__(self, issues: tuple[BookingIssue, ...]) -> None:
        self.issues = issues
        super().__init__("Réservation impossible : " + " ; ".join(i.message for i in issues) + ".")


@dataclass(frozen=True)
class BookingRequest:
    """What the user asks for; `start` is a Europe/Paris wall-clock time."""

    practitioner_id: str
    start: datetime
    type_code: str = AppointmentType.CONSULTATION.value
    minutes: int | None = None  # None: the type's default length
    patient_id: str | None = None
    room_id: str | None = None  # None: the room of the practitioner's range
    reason: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", wall_clock(self.start))


def _clean(text: str, limit: int, label: str) -> str:
    text = "".join(ch for ch in text if ch >= " " or ch in "\n\t").strip()
    if len(text) > limit:
        raise ValidationFailed(f"Le champ « {label} » est trop long ({limit} caractères au plus).")
    return text


def _by_reception(actor: Actor) -> bool:
    return actor.role == Role.RECEPTION


def _now(now: datetime | None) -> datetime:
    return now if now is not None else local_now()


@dataclass(frozen=True)
class _Prepared:
    candidate: AppointmentCandidate
    check: BookingCheck
    practitioner_name: str
    types: dict[str, TypeInfo]


_LIVE_PATIENT = select(Patient.id).where(Patient.id == bindparam("id"), Patient.deleted.is_(False))
_LIVE_ROOM = select(Room.id).where(
    Room.id == bindparam("id"), Room.deleted.is_(False), Room.active.is_(True)
)
_ROOM_NAME = select(Room.name).where(Room.id == bindparam("id"))


def _exists(session: Session, model: type[Patient] | type[Room], row_id: str) -> bool:
    """A live row with this id (a room must also be active); columns only, no ORM object."""
    query = _LIVE_PATIENT if model is Patient else _LIVE_ROOM
    return core(session, query, {"id": row_id}).first() is not None


def _prepare(
    session: Session,
    actor: Actor,
    req: BookingRequest,
    now: datetime,
    appointment_id: str | None = None,
    interval: Interval | None = None,
) -> _Prepared:
    """The candidate with its room resolved, and everything the rules say about it."""
    types = type_infos(session)
    kind = _known(types, req.type_code)
    practitioner = live_practitioner(session, req.practitioner_id)
    if req.patient_id is not None and not _exists(session, Patient, req.patient_id):
        raise NotFound("Patient introuvable.")
    if req.room_id is not None and not _exists(session, Room, req.room_id):
        raise NotFound("Salle introuvable.")
    with domain_errors():
        if interval is None:
            minutes = req.minutes if req.minutes is not None else kind.minutes
            if minutes <= 0 or minutes > 12 * 60:
                raise ValidationFailed("La durée doit aller de 1 minute à 12 heures.")
            interval = Interval.of(
                req.start.replace(second=0, microsecond=0), timedelta(minutes=minutes)
            )
        day = interval.start.date()
        calendar = load_calendar(session)
        schedule = load_schedules(session, [practitioner], day, day)[practitioner.id]
    room_id = req.room_id
    if room_id is None and kind.needs_room:
        hosting = schedule.range_containing(interval.start, interval.end)
        room_id = hosting.room_id if hosting is not None else None
    candidate = AppointmentCandidate(
        interval,
        kind,
        practitioner.id,
        room_id if kind.needs_room else None,
        req.patient_id,
        appointment_id,
    )
    start_utc, end_utc = to_utc(interval.start), to_utc(interval.end)
    overlapping = active_overlapping(
        session,
        start_utc,
        end_utc,
        practitioner_id=practitioner.id,
        room_id=candidate.room_id,
        patient_id=req.patient_id,
    )
    same_practitioner, same_room, same_patient = (
        overlapping.practitioner,
        overlapping.room,
        overlapping.patient,
    )
    # The names only word the conflict messages: looked up when there is a conflict.
    names = practitioner_names(session) if same_practitioner or same_room or same_patient else {}
    check = check_booking(
        candidate,
        centre=calendar,
        practitioner_schedule=schedule,
        existing_for_practitioner=[booked(r, names) for r in same_practitioner],
        existing_for_room=[booked(r, names) for r in same_room],
        existing_for_patient=[booked(r, names) for r in same_patient],
        now=now,
        booked_by_reception=_by_reception(actor),
    )
    return _Prepared(candidate, check, display_name(practitioner), types)


def _known(types: dict[str, TypeInfo], code: str) -> TypeInfo:
    info = types.get(code)
    if info is None:
        raise ValidationFailed(f"Type de rendez-vous inconnu : {code}")
    return info


def _refuse_retired(types: dict[str, TypeInfo], code: str) -> None:
    """A retired type is not booked any more (those already booked keep it)."""
    if not types[code].active:
        raise ValidationFailed(
            f"Le type « {types[code].label} » n'est plus proposé : choisissez-en un autre."
        )


def _context(session: Session, prepared: _Prepared) -> ViewContext:
    """The names the view of the booked candidate needs, and only those."""
    c = prepared.candidate
    room = core(session, _ROOM_NAME, {"id": c.room_id}).first() if c.room_id else None
    rooms = {c.room_id: room.name} if c.room_id and room is not None else {}
    patients = patient_names(session, [c.patient_id]) if c.patient_id else {}
    return ViewContext(
        {c.practitioner_id: prepared.practitioner_name}, rooms, patients, prepared.types
    )


@requires(Permission.AGENDA_WRITE)
def check_request(
    ws: Workspace, actor: Actor, req: BookingRequest, *, now: datetime | None = None
) -> BookingCheck:
    """What the rules say about a booking, without saving it (for the dialog's preview)."""
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.read() as session:
        return _prepare(session, actor, req, _now(now)).check


@internal("book() and book_series() check agenda.write first")
def book_in_session(
    session: Session,
    station_id: str,
    actor: Actor,
    req: BookingRequest,
    *,
    now: datetime,
    provisional: bool = False,
    series_id: str | None = None,
) -> tuple[Appointment, BookingCheck]:
    """Check and insert in the caller's write transaction; raises BookingRefused."""
    row, prepared = _book_prepared(session, station_id, actor, req, now, provisional, series_id)
    return row, prepared.check


def _book_prepared(
    session: Session,
    station_id: str,
    actor: Actor,
    req: BookingRequest,
    now: datetime,
    provisional: bool,
    series_id: str | None,
) -> tuple[Appointment, _Prepared]:
    prepared = _prepare(session, actor, req, now)
    _refuse_retired(prepared.types, prepared.candidate.type.code)
    if not prepared.check.ok:
        raise BookingRefused(prepared.check.errors)
    c = prepared.candidate
    row = Appointment(
        practitioner_id=c.practitioner_id,
        room_id=c.room_id,
        patient_id=c.patient_id,
        type_code=c.type.code,
        start_at=to_utc(c.interval.start),
        end_at=to_utc(c.interval.end),
        reason=_clean(req.reason, MAX_REASON, "Motif"),
        note=_clean(req.note, MAX_NOTE, "Note"),
        status=VisitStatus.BOOKED.value,
        booked_at=datetime.now(UTC),
        booked_by=actor.user_id,
        provisional=provisional,
        series_id=series_id,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        station_id,
        "appointment_booked",
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="appointment",
        target_id=row.id,
        details={"patient_id": c.patient_id or "", "practitioner_id": c.practitioner_id},
    )
    return row, prepared


@requires(Permission.AGENDA_WRITE)
def book(
    ws: Workspace,
    actor: Actor,
    req: BookingRequest,
    *,
    provisional: bool = False,
    now: datetime | None = None,
) -> AppointmentView:
    """Book or refuse with every reason; warnings (patient booked elsewhere) come back."""
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.write() as session:
        row, prepared = _book_prepared(
            session, ws.store.station_id, actor, req, _now(now), provisional, None
        )
        return appointment_view(
            row, _context(session, prepared), tuple(w.message for w in prepared.check.warnings)
        )


def _active(session: Session, appointment_id: str) -> Appointment:
    row = session.get(Appointment, appointment_id)
    if row is None or row.deleted:
        raise NotFound("Rendez-vous introuvable.")
    return row


@requires(Permission.AGENDA_WRITE)
def move(
    ws: Workspace,
    actor: Actor,
    appointment_id: str,
    new_start: datetime,
    *,
    practitioner_id: str | None = None,
    room_id: str | None = None,
    minutes: int | None = None,
    now: datetime | None = None,
) -> AppointmentView:
    """Move (and possibly change practitioner or length); the same checks as a booking."""
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.write() as session:
        row = _active(session, appointment_id)
        if row.status != VisitStatus.BOOKED.value:
            raise ValidationFailed(
                f"Ce rendez-vous ne peut plus être déplacé (statut : "
                f"{VisitStatus(row.status).label.lower()})."
            )
        length = timedelta(minutes=minutes) if minutes is not None else row.end_at - row.start_at
        with domain_errors():
            interval = Interval.of(wall_clock(new_start).replace(second=0, microsecond=0), length)
        new_practitioner = practitioner_id or row.practitioner_id
        # A move to another practitioner follows that practitioner's room.
        keep_room = room_id or (row.room_id if new_practitioner == row.practitioner_id else None)
        req = BookingRequest(
            new_practitioner, interval.start, row.type_code, None, row.patient_id, keep_room
        )
        prepared = _prepare(
            session, actor, req, _now(now), appointment_id=row.id, interval=interval
        )
        if not prepared.check.ok and keep_room is not None and room_id is None:
            # The old room may be taken now: let the range's room decide instead.
            req = replace(req, room_id=None)
            retry = _prepare(
                session, actor, req, _now(now), appointment_id=row.id, interval=interval
            )
            prepared = retry if retry.check.ok else prepared
        if not prepared.check.ok:
            raise BookingRefused(prepared.check.errors)
        c = prepared.candidate
        before = to_local(row.start_at)
        row.practitioner_id = c.practitioner_id
        row.room_id = c.room_id
        row.start_at = to_utc(c.interval.start)
        row.end_at = to_utc(c.interval.end)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "appointment_moved",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="appointment",
            target_id=row.id,
            details={"from": before.isoformat(), "to": c.interval.start.isoformat()},
        )
        return appointment_view(
            row, _context(session, prepared), tuple(w.message for w in prepared.check.warnings)
        )


@requires(Permission.AGENDA_WRITE)
def update_details(
    ws: Workspace,
    actor: Actor,
    appointment_id: str,
    *,
    reason: str,
    note: str,
    type_code: str | None = None,
    minutes: int | None = None,
    now: datetime | None = None,
) -> AppointmentView:
    """Change the reason, note, type or length of a live appointment (its start stays).

    A new type or length goes through the booking checks again, on the same start; "in the
    past" is not an objection then, since the start was checked when it was booked. Only a
    booked (not yet arrived) appointment may change type or length: afterwards the agenda
    is a record of what happened. Reason and note may be corrected until it is cancelled.
    """
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.write() as session:
        row = _active(session, appointment_id)
        if row.status == VisitStatus.CANCELLED.value:
            raise ValidationFailed("Un rendez-vous annulé ne peut plus être modifié.")
        new_type = (
            row.type_code if type_code is None else _known(type_infos(session), type_code).code
        )
        length = row.end_at - row.start_at
        new_length = length if minutes is None else timedelta(minutes=minutes)
        if minutes is not None and not 1 <= minutes <= 12 * 60:
            raise ValidationFailed("La durée doit aller de 1 minute à 12 heures.")
        clean_reason = _clean(reason, MAX_REASON, "Motif")
        clean_note = _clean(note, MAX_NOTE, "Note")
        changed = [
            name
            for name, old, new in (
                ("reason", row.reason, clean_reason),
                ("note", row.note, clean_note),
                ("type", row.type_code, new_type),
                ("minutes", length, new_length),
            )
            if old != new
        ]
        warnings: tuple[str, ...] = ()
        if "type" in changed or "minutes" in changed:
            if row.status != VisitStatus.BOOKED.value:
                raise ValidationFailed(
                    f"Seuls le motif et la note de ce rendez-vous peuvent encore changer "
                    f"(statut : {VisitStatus(row.status).label.lower()})."
                )
            start = to_local(row.start_at)
            with domain_errors():
                interval = Interval.of(start, new_length)
            kind = _known(type_infos(session), new_type)
            # Keep the room while the type needs one; a type that starts needing a room takes
            # the room of the practitioner's range, as a booking would.
            room = row.room_id if kind.needs_room else None
            req = BookingRequest(row.practitioner_id, start, new_type, None, row.patient_id, room)
            prepared = _prepare(
                session, actor, req, _now(now), appointment_id=row.id, interval=interval
            )
            if "type" in changed:
                _refuse_retired(prepared.types, new_type)
            errors = tuple(e for e in prepared.check.errors if e.code != IssueCode.IN_THE_PAST)
            if errors:
                raise BookingRefused(errors)
            c = prepared.candidate
            row.type_code = c.type.code
            row.room_id = c.room_id
            row.end_at = to_utc(c.interval.end)
            warnings = tuple(w.message for w in prepared.check.warnings)
        row.reason, row.note = clean_reason, clean_note
        session.flush()
        if changed:
            audit.append(
                session,
                ws.store.station_id,
                "appointment_changed",
                user_id=actor.user_id,
                user_login=actor.login,
                target_type="appointment",
                target_id=row.id,
                details={"fields": ",".join(changed)},
            )
        ctx = ViewContext.load(session, [row])
        return appointment_view(row, ctx, warnings)


@requires(Permission.AGENDA_WRITE)
def cancel(ws: Workspace, actor: Actor, appointment_id: str, reason: str) -> AppointmentView:
    """Cancel with a reason; the row stays (greyed in the agenda, kept in the history)."""
    actor.require(Permission.AGENDA_WRITE)
    from cms_desktop.services.agenda.waiting_room import change_status

    return change_status(ws, actor, appointment_id, VisitStatus.CANCELLED, reason=reason)


# ---- recurring series -------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One date of a series and the reasons it cannot be booked (empty when it can)."""

    start: datetime
    end: datetime
    errors: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class SeriesOutcome:
    """Occurrences planned, the ones that collide, and those actually booked."""

    occurrences: tuple[Occurrence, ...]
    booked: tuple[AppointmentView, ...] = ()
    series_id: str | None = None

    @property
    def collisions(self) -> tuple[Occurrence, ...]:
        return tuple(o for o in self.occurrences if not o.ok)


def _plan(
    session: Session, actor: Actor, req: BookingRequest, rule: SeriesRule, now: datetime
) -> list[tuple[BookingRequest, Occurrence]]:
    kind = _known(type_infos(session), req.type_code)
    minutes = req.minutes if req.minutes is not None else kind.minutes
    with domain_errors():
        first = Interval.of(req.start, timedelta(minutes=minutes))
        intervals = occurrences(first, rule)
    planned: list[tuple[BookingRequest, Occurrence]] = []
    for iv in intervals:
        one = replace(req, start=iv.start, minutes=minutes)
        check = _prepare(session, actor, one, now).check
        planned.append(
            (
                one,
                Occurrence(
                    iv.start,
                    iv.end,
                    tuple(e.message for e in check.errors),
                    tuple(w.message for w in check.warnings),
                ),
            )
        )
    return planned


@requires(Permission.AGENDA_WRITE)
def plan_series(
    ws: Workspace,
    actor: Actor,
    req: BookingRequest,
    rule: SeriesRule,
    *,
    now: datetime | None = None,
) -> SeriesOutcome:
    """Every occurrence with its problems, saving nothing (shown before confirming)."""
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.read() as session:
        return SeriesOutcome(tuple(o for _, o in _plan(session, actor, req, rule, _now(now))))


@requires(Permission.AGENDA_WRITE)
def book_series(
    ws: Workspace,
    actor: Actor,
    req: BookingRequest,
    rule: SeriesRule,
    *,
    confirm: bool = False,
    now: datetime | None = None,
) -> SeriesOutcome:
    """Book a series. With collisions and confirm=False nothing is saved and they come back;
    with confirm=True the occurrences that can be booked are, in one transaction.
    """
    actor.require(Permission.AGENDA_WRITE)
    moment = _now(now)
    series_id = str(uuid.uuid4())
    with ws.store.write() as session:
        planned = _plan(session, actor, req, rule, moment)
        outcome = SeriesOutcome(tuple(o for _, o in planned))
        if outcome.collisions and not confirm:
            return outcome
        rows = [
            book_in_session(
                session, ws.store.station_id, actor, one, now=moment, series_id=series_id
            )[0]
            for one, occ in planned
            if occ.ok
        ]
        if not rows:
            raise ValidationFailed("Aucun rendez-vous de la série ne peut être réservé.")
        ctx = ViewContext.load(session, rows)
        return replace(
            outcome, booked=tuple(appointment_view(r, ctx) for r in rows), series_id=series_id
        )
