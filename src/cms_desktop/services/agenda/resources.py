"""Practitioners (staff or visiting), their consulting ranges and absences, rooms and
appointment types: what the agenda can book.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.domain.agenda.hours import Weekday
from cms_desktop.domain.agenda.practitioner import PractitionerSchedule
from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.domain.rpps import rpps_problem
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    PractitionerView,
    TypeInfo,
    consulting_range,
    display_name,
    domain_errors,
    get_practitioner,
    hhmm,
    practitioner_view,
    practitioners,
    require_any,
    to_local,
    to_utc,
    tombstone,
    type_from_row,
    type_infos,
    type_row_id,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import (
    AppointmentTypeRow,
    Practitioner,
    PractitionerAbsence,
    PractitionerRange,
    Room,
    User,
)

COLOUR_FORMAT = re.compile(r"^#[0-9a-fA-F]{6}$")  # "#rrggbb", what the agenda paints


def _audit(
    ws: Workspace, session: Session, actor: Actor, action: str, kind: str, target: str
) -> None:
    audit.append(
        session,
        ws.store.station_id,
        action,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type=kind,
        target_id=target,
    )


@dataclass(frozen=True)
class PractitionerDraft:
    full_name: str = ""
    title: str = ""
    profession: str = ""
    specialty: str = ""
    rpps: str = ""
    colour: str = "#4f81bd"
    visiting: bool = False
    user_id: str | None = None  # a staff account; its name and profession are the defaults


def _validate_practitioner(draft: PractitionerDraft) -> None:
    if not draft.full_name.strip():
        raise ValidationFailed("Indiquez le nom du praticien.")
    if draft.rpps:
        problem = rpps_problem(draft.rpps)
        if problem is not None:
            raise ValidationFailed(problem)
    if not COLOUR_FORMAT.match(draft.colour):
        raise ValidationFailed("La couleur doit être de la forme #RRVVBB.")


# Who may set up the agenda's columns and ranges: those who run the agenda, and the
# administrator who sets the centre up (no patient data in them).
_SETUP = (Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)


@requires_any(Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)
def create_practitioner(ws: Workspace, actor: Actor, draft: PractitionerDraft) -> PractitionerView:
    require_any(actor, *_SETUP)
    with ws.store.write() as session:
        if draft.user_id is not None:
            user = session.get(User, draft.user_id)
            if user is None or user.deleted:
                raise NotFound("Compte introuvable.")
            taken = session.scalars(
                select(Practitioner).where(
                    Practitioner.user_id == user.id, Practitioner.deleted.is_(False)
                )
            ).first()
            if taken is not None:
                raise ValidationFailed("Ce compte a déjà un agenda de praticien.")
            draft = PractitionerDraft(
                draft.full_name or user.full_name,
                draft.title or user.title,
                draft.profession or user.profession,
                draft.specialty or user.specialty,
                draft.rpps or user.rpps,
                draft.colour,
                draft.visiting,
                user.id,
            )
        _validate_practitioner(draft)
        row = Practitioner(
            user_id=draft.user_id,
            full_name=draft.full_name.strip(),
            title=draft.title.strip(),
            profession=draft.profession.strip(),
            specialty=draft.specialty.strip(),
            rpps=draft.rpps,
            colour=draft.colour,
            visiting=draft.visiting,
            sort_order=len(practitioners(session, include_inactive=True)),
        )
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "practitioner_created", "practitioner", row.id)
        return practitioner_view(row)


@requires_any(Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)
def update_practitioner(
    ws: Workspace, actor: Actor, practitioner_id: str, draft: PractitionerDraft
) -> PractitionerView:
    """Change what the agenda and printouts show of a practitioner (name, title, profession,
    specialty, RPPS, colour, visiting); the linked account, if any, stays."""
    require_any(actor, *_SETUP)
    _validate_practitioner(draft)
    with ws.store.write() as session:
        row = get_practitioner(session, practitioner_id)
        row.full_name = draft.full_name.strip()
        row.title = draft.title.strip()
        row.profession = draft.profession.strip()
        row.specialty = draft.specialty.strip()
        row.rpps = draft.rpps
        row.colour = draft.colour
        row.visiting = draft.visiting
        session.flush()
        _audit(ws, session, actor, "practitioner_changed", "practitioner", row.id)
        return practitioner_view(row)


@requires_any(Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)
def set_practitioner_active(
    ws: Workspace, actor: Actor, practitioner_id: str, active: bool
) -> None:
    require_any(actor, *_SETUP)
    with ws.store.write() as session:
        row = get_practitioner(session, practitioner_id)
        row.active = active
        _audit(
            ws,
            session,
            actor,
            "practitioner_activated" if active else "practitioner_disabled",
            "practitioner",
            row.id,
        )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_practitioners(
    ws: Workspace, actor: Actor, include_inactive: bool = False
) -> list[PractitionerView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        return [practitioner_view(p) for p in practitioners(session, include_inactive)]


@dataclass(frozen=True)
class RangeDraft:
    """A consulting range; pattern "weekly", "nth_of_month" (nth) or "every_n_weeks"."""

    weekday: int
    start: time
    end: time
    room_id: str | None = None
    pattern: str = "weekly"
    nth: int | None = None
    interval_weeks: int | None = None
    anchor: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    own_hours: bool = False


@dataclass(frozen=True)
class RangeView:
    id: str
    practitioner_id: str
    description: str
    weekday: int
    start: time
    end: time
    room_id: str | None
    room_name: str
    valid_from: date | None = None
    valid_until: date | None = None
    own_hours: bool = False


@requires_any(Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)
def add_range(ws: Workspace, actor: Actor, practitioner_id: str, draft: RangeDraft) -> str:
    """Add a consulting range; refuses one that ends before it starts or overlaps another,
    and one in a deactivated room."""
    require_any(actor, *_SETUP)
    if draft.pattern not in ("weekly", "nth_of_month", "every_n_weeks"):
        raise ValidationFailed("Type de répétition de plage inconnu.")
    row = PractitionerRange(
        practitioner_id=practitioner_id,
        weekday=int(draft.weekday),
        start_time=hhmm(draft.start),
        end_time=hhmm(draft.end),
        room_id=draft.room_id,
        pattern=draft.pattern,
        nth=draft.nth,
        interval_weeks=draft.interval_weeks,
        anchor=draft.anchor,
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        own_hours=draft.own_hours,
    )
    with ws.store.write() as session:
        p = get_practitioner(session, practitioner_id)
        if draft.room_id is not None:
            room = session.get(Room, draft.room_id)
            if room is None or room.deleted:
                raise NotFound("Salle introuvable.")
            if not room.active:
                raise ValidationFailed(
                    f"La salle « {room.name} » est désactivée : choisissez une autre salle."
                )
        existing = session.scalars(
            select(PractitionerRange).where(
                PractitionerRange.practitioner_id == p.id, PractitionerRange.deleted.is_(False)
            )
        ).all()
        with domain_errors():
            Weekday(row.weekday)
            ranges = tuple(consulting_range(r) for r in [*existing, row])
            PractitionerSchedule(p.id, display_name(p), ranges)  # refuses overlapping ranges
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "practitioner_range_added", "practitioner", p.id)
        return row.id


@requires_any(Permission.AGENDA_WRITE, Permission.SETTINGS_MANAGE)
def remove_range(ws: Workspace, actor: Actor, range_id: str) -> None:
    require_any(actor, *_SETUP)
    with ws.store.write() as session:
        row = tombstone(session, PractitionerRange, range_id, "Plage introuvable.")
        _audit(
            ws, session, actor, "practitioner_range_removed", "practitioner", row.practitioner_id
        )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_ranges(ws: Workspace, actor: Actor, practitioner_id: str) -> list[RangeView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        rooms = {r.id: r.name for r in session.scalars(select(Room))}
        rows = session.scalars(
            select(PractitionerRange)
            .where(
                PractitionerRange.practitioner_id == practitioner_id,
                PractitionerRange.deleted.is_(False),
            )
            .order_by(PractitionerRange.weekday, PractitionerRange.start_time)
        ).all()
        views = []
        for r in rows:
            with domain_errors():
                c = consulting_range(r)
            views.append(
                RangeView(
                    r.id,
                    r.practitioner_id,
                    f"{c.rule.describe()} {c.hours}",
                    r.weekday,
                    c.hours.start,
                    c.hours.end,
                    r.room_id,
                    rooms.get(r.room_id or "", ""),
                    r.valid_from,
                    r.valid_until,
                    r.own_hours,
                )
            )
        return views


@dataclass(frozen=True)
class AbsenceView:
    id: str
    start: datetime
    end: datetime
    reason: str


@requires(Permission.AGENDA_WRITE)
def add_absence(
    ws: Workspace, actor: Actor, practitioner_id: str, start: datetime, end: datetime, reason: str
) -> str:
    """The practitioner away over [start, end) (local times); bookings there are refused."""
    actor.require(Permission.AGENDA_WRITE)
    if end <= start:
        raise ValidationFailed("L'absence se termine avant de commencer.")
    with ws.store.write() as session:
        p = get_practitioner(session, practitioner_id)
        row = PractitionerAbsence(
            practitioner_id=p.id,
            start_at=to_utc(start),
            end_at=to_utc(end),
            reason=reason.strip()[:200] or "absence",
        )
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "practitioner_absence_added", "practitioner", p.id)
        return row.id


@requires(Permission.AGENDA_WRITE)
def remove_absence(ws: Workspace, actor: Actor, absence_id: str) -> None:
    """Withdraw an absence entered by mistake or called off (the row stays, tombstoned)."""
    actor.require(Permission.AGENDA_WRITE)
    with ws.store.write() as session:
        row = tombstone(session, PractitionerAbsence, absence_id, "Absence introuvable.")
        _audit(
            ws, session, actor, "practitioner_absence_removed", "practitioner", row.practitioner_id
        )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_absences(ws: Workspace, actor: Actor, practitioner_id: str) -> list[AbsenceView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        rows = session.scalars(
            select(PractitionerAbsence)
            .where(
                PractitionerAbsence.practitioner_id == practitioner_id,
                PractitionerAbsence.deleted.is_(False),
            )
            .order_by(PractitionerAbsence.start_at)
        ).all()
        return [AbsenceView(a.id, to_local(a.start_at), to_local(a.end_at), a.reason) for a in rows]


@dataclass(frozen=True)
class RoomView:
    id: str
    name: str
    kind: str


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_rooms(ws: Workspace, actor: Actor) -> list[RoomView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        rows = session.scalars(
            select(Room)
            .where(Room.deleted.is_(False), Room.active.is_(True))
            .order_by(Room.sort_order, Room.name)
        )
        return [RoomView(r.id, r.name, r.kind) for r in rows]


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_appointment_types(
    ws: Workspace, actor: Actor, include_retired: bool = False
) -> list[TypeInfo]:
    """The types offered for booking: the built-in ones, then those the centre added (with
    `include_retired`, every type: the settings). Reception is not offered the types the
    centre keeps from it."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        infos = type_infos(session).values()
    if include_retired:
        return list(infos)
    reception = actor.role == Role.RECEPTION
    return [t for t in infos if t.active and (t.reception_books or not reception)]


def _known_type(session: Session, code: str) -> tuple[TypeInfo, AppointmentTypeRow]:
    """The type with this code and its stored row (a built-in type's row is made on first
    change; the fixed id makes every station make the same one)."""
    info = type_infos(session).get(code)
    if info is None:
        raise ValidationFailed(f"Type de rendez-vous inconnu : {code}")
    row: AppointmentTypeRow | None
    if info.builtin:
        row = session.get(AppointmentTypeRow, type_row_id(code))
        if row is None:
            row = _type_row(AppointmentType(code))
            session.add(row)
    else:
        row = session.scalars(
            select(AppointmentTypeRow).where(
                AppointmentTypeRow.code == code, AppointmentTypeRow.deleted.is_(False)
            )
        ).one()
    return info, row


@requires(Permission.SETTINGS_MANAGE)
def set_appointment_type_retired(ws: Workspace, actor: Actor, code: str, retired: bool) -> None:
    """Retire a type (no longer offered nor bookable; appointments already booked keep it)
    or put it back in service."""
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        _info, row = _known_type(session, code)
        if retired:
            others = [t for t in type_infos(session).values() if t.active and t.code != code]
            if not others:
                raise ValidationFailed("Gardez au moins un type de rendez-vous en service.")
        row.active = not retired
        session.flush()
        _audit(
            ws,
            session,
            actor,
            "appointment_type_retired" if retired else "appointment_type_restored",
            "appointment_type",
            row.id,
        )


# Bounds of a type's default length: shorter is not an appointment, longer is not a day's
# consulting range (a whole-day closure is a closure, not a type).
MIN_TYPE_MINUTES, MAX_TYPE_MINUTES = 5, 480
MAX_TYPE_LABEL = 60


@dataclass(frozen=True)
class TypeChange:
    """What a person typed for one appointment type (label, default length, colour)."""

    code: str
    label: str
    minutes: int
    colour: str


@dataclass(frozen=True)
class NewAppointmentType:
    """A type the centre adds: what it is called and shown as, and the rules it follows."""

    label: str
    minutes: int
    colour: str
    needs_room: bool = True
    reception_books: bool = True
    unscheduled_care: bool = False  # released to reception on the day itself only
    in_centre_hours: bool = True
    in_practitioner_ranges: bool = True


def _check_type_fields(label: str, minutes: int, colour: str, shown_as: str) -> str:
    """The trimmed label, or a French refusal naming the type (`shown_as`)."""
    clean = label.strip()
    if not clean:
        raise ValidationFailed(
            f"Donnez un libellé au type « {shown_as} »."
            if shown_as
            else "Donnez un libellé au nouveau type."
        )
    if len(clean) > MAX_TYPE_LABEL:
        raise ValidationFailed(
            f"Libellé trop long pour « {shown_as} » ({MAX_TYPE_LABEL} caractères)."
        )
    if not MIN_TYPE_MINUTES <= minutes <= MAX_TYPE_MINUTES:
        raise ValidationFailed(
            f"Durée de « {clean} » : de {MIN_TYPE_MINUTES} à {MAX_TYPE_MINUTES} minutes."
        )
    if not COLOUR_FORMAT.match(colour):
        raise ValidationFailed(f"Couleur de « {clean} » : au format #RRVVBB (ex. #4f81bd).")
    return clean


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _refuse_duplicate_labels(labels: dict[str, str]) -> None:
    """Two types with one label could not be told apart in the agenda or the booking list
    (retired ones included: history shows them)."""
    seen: dict[str, tuple[str, str]] = {}
    for code, label in labels.items():
        key = _label_key(label)
        if key in seen and seen[key][0] != code:
            raise ValidationFailed(f"Un type de rendez-vous s'appelle déjà « {seen[key][1]} ».")
        seen[key] = (code, label)


@requires(Permission.SETTINGS_MANAGE)
def add_appointment_type(ws: Workspace, actor: Actor, new: NewAppointmentType) -> TypeInfo:
    """A type of the centre's own (e.g. « Entretien addictologie »), bookable at once."""
    actor.require(Permission.SETTINGS_MANAGE)
    label = _check_type_fields(new.label, new.minutes, new.colour, new.label.strip())
    with ws.store.write() as session:
        infos = type_infos(session)
        code = f"centre_{uuid.uuid4().hex[:16]}"
        _refuse_duplicate_labels({**{c: i.label for c, i in infos.items()}, code: label})
        row = AppointmentTypeRow(
            code=code,
            label=label,
            default_minutes=new.minutes,
            colour=new.colour.lower(),
            needs_room=new.needs_room,
            in_centre_hours=new.in_centre_hours,
            in_practitioner_ranges=new.in_practitioner_ranges,
            reception_books=new.reception_books,
            released_same_day=new.unscheduled_care,
            home_visit=not (new.needs_room or new.in_centre_hours),
            blocks_time=False,
        )
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "appointment_type_added", "appointment_type", row.id)
        return type_from_row(row)


@requires(Permission.SETTINGS_MANAGE)
def update_appointment_type(
    ws: Workspace, actor: Actor, code: str, label: str, minutes: int, colour: str
) -> None:
    """Change the label, default length or colour of a type (its code and rules stay)."""
    update_appointment_types(ws, actor, [TypeChange(code, label, minutes, colour)])


@requires(Permission.SETTINGS_MANAGE)
def update_appointment_types(ws: Workspace, actor: Actor, changes: list[TypeChange]) -> None:
    """Several types in one transaction: every change is checked first, so a refused one
    leaves all of them as they were. Appointments already booked keep their length."""
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        infos = type_infos(session)
        labels = {code: info.label for code, info in infos.items()}
        clean: dict[str, str] = {}
        for change in changes:
            info = infos.get(change.code)
            if info is None:
                raise ValidationFailed(f"Type de rendez-vous inconnu : {change.code}")
            clean[change.code] = _check_type_fields(
                change.label, change.minutes, change.colour, info.label
            )
            labels[change.code] = clean[change.code]
        _refuse_duplicate_labels(labels)
        for change in changes:
            _info, row = _known_type(session, change.code)
            row.label = clean[change.code]
            row.default_minutes = change.minutes
            row.colour = change.colour.lower()
            session.flush()
            _audit(ws, session, actor, "appointment_type_changed", "appointment_type", row.id)


def _type_row(kind: AppointmentType) -> AppointmentTypeRow:
    return AppointmentTypeRow(
        id=type_row_id(kind.value),
        code=kind.value,
        label=kind.label,
        default_minutes=kind.default_minutes,
        colour=kind.colour,
        released_same_day=kind.released_same_day,
        home_visit=kind == AppointmentType.HOME_VISIT,
        blocks_time=kind.blocks_time,
        needs_room=kind.needs_room,
        in_centre_hours=kind.in_centre_hours,
        in_practitioner_ranges=kind.in_practitioner_ranges,
        reception_books=kind.reception_books,
    )


def seed_appointment_types(session: Session) -> None:
    """Store the default types once (fixed ids: every station seeds the same rows)."""
    for kind in AppointmentType:
        if session.get(AppointmentTypeRow, type_row_id(kind.value)) is None:
            session.add(_type_row(kind))
