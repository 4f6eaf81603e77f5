"""The centre's rooms: add, rename, order and deactivate them (never delete: appointments
and ranges point at them, and the history keeps showing their name).

Deactivating a room that still has appointments to come is refused with their count,
unless the caller names another room to move them (and the ranges naming it) to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.rooms import (
    InvalidRoom,
    RoomDraft,
    RoomKind,
    check_layout,
    clean_room_name,
    room_kind_label,
    room_name_key,
)
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import require_any
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Appointment, PractitionerRange, Room


@dataclass(frozen=True)
class RoomInfo:
    id: str
    name: str
    kind: str
    kind_label: str
    active: bool
    sort_order: int
    upcoming: int  # appointments to come in this room (not cancelled)


@dataclass(frozen=True)
class RoomDisabled:
    """What deactivating did: appointments and ranges moved to `moved_to` (if any)."""

    room: RoomInfo
    moved_appointments: int = 0
    moved_ranges: int = 0
    ranges_left: int = 0  # ranges still naming the deactivated room (no room any more)


def _kind(code: str) -> RoomKind:
    try:
        return RoomKind(code)
    except ValueError:
        raise ValidationFailed(f"Type de salle inconnu : {code}") from None


def _name(name: str) -> str:
    try:
        return clean_room_name(name)
    except InvalidRoom as exc:
        raise ValidationFailed(str(exc)) from None


def _live(session: Session) -> list[Room]:
    return list(
        session.scalars(
            select(Room).where(Room.deleted.is_(False)).order_by(Room.sort_order, Room.name)
        )
    )


def _check_unique(session: Session, name: str, except_id: str | None = None) -> None:
    key = room_name_key(name)
    for room in _live(session):
        if room.id != except_id and room_name_key(room.name) == key:
            state = "" if room.active else " (désactivée)"
            raise ValidationFailed(f"Une salle « {room.name} »{state} existe déjà.")


def _upcoming_query(room_ids: Iterable[str], now: datetime) -> Select[Appointment]:
    return select(Appointment).where(
        Appointment.room_id.in_(list(room_ids)),
        Appointment.deleted.is_(False),
        Appointment.status == VisitStatus.BOOKED.value,
        Appointment.end_at > now,
    )


def _upcoming_counts(session: Session, now: datetime) -> dict[str, int]:
    rows = session.execute(
        select(Appointment.room_id, func.count())
        .where(
            Appointment.room_id.is_not(None),
            Appointment.deleted.is_(False),
            Appointment.status == VisitStatus.BOOKED.value,
            Appointment.end_at > now,
        )
        .group_by(Appointment.room_id)
    )
    return {str(room_id): int(count) for room_id, count in rows}


def _info(room: Room, upcoming: int = 0) -> RoomInfo:
    return RoomInfo(
        room.id,
        room.name,
        room.kind,
        room_kind_label(room.kind),
        room.active,
        room.sort_order,
        upcoming,
    )


def _audit(ws: Workspace, session: Session, actor: Actor, action: str, room_id: str) -> None:
    audit.append(
        session,
        ws.store.station_id,
        action,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="room",
        target_id=room_id,
    )


def _utc_now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


@requires_any(Permission.SETTINGS_MANAGE, Permission.AGENDA_READ, Permission.AGENDA_OWN)
def list_all_rooms(ws: Workspace, actor: Actor, *, now: datetime | None = None) -> list[RoomInfo]:
    """Every room, active or not, in the agenda's order, with its appointments to come."""
    require_any(actor, Permission.SETTINGS_MANAGE, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    with ws.store.read() as session:
        counts = _upcoming_counts(session, _utc_now(now))
        return [_info(r, counts.get(r.id, 0)) for r in _live(session)]


def add_rooms_in_session(session: Session, rooms: Iterable[RoomDraft]) -> list[Room]:
    """Insert checked rooms after the existing ones (set-up and the administration screen)."""
    try:
        layout = check_layout(list(rooms))
    except InvalidRoom as exc:
        raise ValidationFailed(str(exc)) from None
    existing = _live(session)
    taken = {room_name_key(r.name): r for r in existing}
    for draft in layout:
        clash = taken.get(room_name_key(draft.name))
        if clash is not None:
            raise ValidationFailed(f"Une salle « {clash.name} » existe déjà.")
    order = max((r.sort_order for r in existing), default=0)
    added = []
    for draft in layout:
        order += 1
        row = Room(name=draft.name, kind=draft.kind.value, active=True, sort_order=order)
        session.add(row)
        added.append(row)
    session.flush()
    return added


@requires(Permission.SETTINGS_MANAGE)
def add_room(ws: Workspace, actor: Actor, name: str, kind: str = RoomKind.CONSULTING) -> RoomInfo:
    actor.require(Permission.SETTINGS_MANAGE)
    draft = RoomDraft(_name(name), _kind(kind))
    with ws.store.write() as session:
        (row,) = add_rooms_in_session(session, [draft])
        _audit(ws, session, actor, "room_added", row.id)
        return _info(row)


def _get(session: Session, room_id: str) -> Room:
    row = session.get(Room, room_id)
    if row is None or row.deleted:
        raise NotFound("Salle introuvable.")
    return row


@requires(Permission.SETTINGS_MANAGE)
def update_room(
    ws: Workspace, actor: Actor, room_id: str, *, name: str | None = None, kind: str | None = None
) -> RoomInfo:
    """Rename a room or change its kind; appointments keep pointing at it (new name shown)."""
    actor.require(Permission.SETTINGS_MANAGE)
    new_name = _name(name) if name is not None else None
    new_kind = _kind(kind) if kind is not None else None
    with ws.store.write() as session:
        row = _get(session, room_id)
        if new_name is not None and new_name != row.name:
            _check_unique(session, new_name, except_id=row.id)
            row.name = new_name
        if new_kind is not None:
            row.kind = new_kind.value
        session.flush()
        _audit(ws, session, actor, "room_changed", row.id)
        return _info(row)


@requires(Permission.SETTINGS_MANAGE)
def move_room(ws: Workspace, actor: Actor, room_id: str, offset: int) -> list[RoomInfo]:
    """Move a room up (offset -1) or down (+1) in the agenda's order; renumbers 1..n."""
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        rooms = _live(session)
        index = next((i for i, r in enumerate(rooms) if r.id == room_id), None)
        if index is None:
            raise NotFound("Salle introuvable.")
        target = max(0, min(len(rooms) - 1, index + offset))
        rooms.insert(target, rooms.pop(index))
        for position, room in enumerate(rooms, start=1):
            if room.sort_order != position:
                room.sort_order = position
        session.flush()
        _audit(ws, session, actor, "room_reordered", room_id)
        return [_info(r) for r in rooms]


@requires(Permission.SETTINGS_MANAGE)
def disable_room(
    ws: Workspace,
    actor: Actor,
    room_id: str,
    *,
    move_to: str | None = None,
    now: datetime | None = None,
) -> RoomDisabled:
    """Deactivate a room. Appointments to come are refused with their count, or moved to
    `move_to` when every one of them fits there; ranges naming the room follow them."""
    actor.require(Permission.SETTINGS_MANAGE)
    moment = _utc_now(now)
    with ws.store.write() as session:
        row = _get(session, room_id)
        if not row.active:
            raise ValidationFailed(f"La salle « {row.name} » est déjà désactivée.")
        upcoming = list(session.scalars(_upcoming_query([row.id], moment)))
        target: Room | None = None
        if move_to is not None:
            target = _get(session, move_to)
            if target.id == row.id or not target.active:
                raise ValidationFailed("Choisissez une autre salle, active, où transférer.")
        if upcoming and target is None:
            plural = "s" if len(upcoming) > 1 else ""
            raise ValidationFailed(
                f"La salle « {row.name} » a {len(upcoming)} rendez-vous à venir : "
                f"transférez-le{plural} dans une autre salle ou déplacez-le{plural} "
                "avant de la désactiver."
            )
        moved = 0
        if target is not None and upcoming:
            busy = _busy_in(session, target.id, upcoming)
            if busy:
                raise ValidationFailed(
                    f"{busy} rendez-vous de la salle « {row.name} » tombent sur un moment "
                    f"où la salle « {target.name} » est occupée : rien n'a été transféré."
                )
            for appt in upcoming:
                appt.room_id = target.id
                moved += 1
        ranges = list(
            session.scalars(
                select(PractitionerRange).where(
                    PractitionerRange.room_id == row.id, PractitionerRange.deleted.is_(False)
                )
            )
        )
        if target is not None:
            for r in ranges:
                r.room_id = target.id
        row.active = False
        session.flush()
        _audit(ws, session, actor, "room_disabled", row.id)
        return RoomDisabled(
            _info(row),
            moved,
            len(ranges) if target is not None else 0,
            0 if target is not None else len(ranges),
        )


def _busy_in(session: Session, room_id: str, appointments: list[Appointment]) -> int:
    """How many of these appointments overlap a live booking already in `room_id`."""
    clashes = 0
    for appt in appointments:
        other = session.scalars(
            select(Appointment.id).where(
                Appointment.room_id == room_id,
                Appointment.deleted.is_(False),
                Appointment.status != VisitStatus.CANCELLED.value,
                Appointment.start_at < appt.end_at,
                Appointment.end_at > appt.start_at,
            )
        ).first()
        clashes += other is not None
    return clashes


@requires(Permission.SETTINGS_MANAGE)
def enable_room(ws: Workspace, actor: Actor, room_id: str) -> RoomInfo:
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        row = _get(session, room_id)
        _check_unique(session, row.name, except_id=row.id)
        row.active = True
        session.flush()
        _audit(ws, session, actor, "room_enabled", row.id)
        return _info(row)
