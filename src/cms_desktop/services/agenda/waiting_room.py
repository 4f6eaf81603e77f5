"""The waiting room: arrival, call-in, seen, no-show and cancellation, each with its time.

The status machine is domain.agenda.waiting_room; each change is stored in the
appointment's own timestamp column and audited (ids only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.waiting_room import StatusChange, VisitState, VisitStatus
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    AppointmentView,
    ViewContext,
    appointment_view,
    days_utc,
    domain_errors,
    local_now,
    require_any,
    to_local,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Appointment

_COLUMN = {
    VisitStatus.ARRIVED: "arrived_at",
    VisitStatus.IN_CONSULTATION: "called_at",
    VisitStatus.SEEN: "seen_at",
    VisitStatus.NO_SHOW: "no_show_at",
    VisitStatus.CANCELLED: "cancelled_at",
}
_ACTION = {
    VisitStatus.ARRIVED: "patient_arrived",
    VisitStatus.IN_CONSULTATION: "patient_called_in",
    VisitStatus.SEEN: "patient_seen",
    VisitStatus.NO_SHOW: "patient_no_show",
    VisitStatus.CANCELLED: "appointment_cancelled",
}


def visit_state(row: Appointment) -> VisitState:
    """The stored timestamps as the domain's status history."""
    changes = [StatusChange(VisitStatus.BOOKED, row.booked_at)]
    for status, column in _COLUMN.items():
        at = getattr(row, column)
        if at is not None:
            changes.append(StatusChange(status, at))
    changes.sort(key=lambda c: c.at)
    # The stored status is authoritative (a merge may leave times in any order).
    if changes[-1].status != VisitStatus(row.status):
        last = next((c for c in changes if c.status == VisitStatus(row.status)), None)
        if last is not None:
            changes.remove(last)
            changes.append(StatusChange(last.status, max(c.at for c in changes)))
    return VisitState(tuple(changes))


@requires(Permission.WAITINGROOM_MANAGE, note="cancelling: agenda.write")
def change_status(
    ws: Workspace,
    actor: Actor,
    appointment_id: str,
    to: VisitStatus,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> AppointmentView:
    """Move the visit on; refuses a change the status machine forbids, with the reason."""
    if to == VisitStatus.CANCELLED:
        actor.require(Permission.AGENDA_WRITE)
    else:
        actor.require(Permission.WAITINGROOM_MANAGE)
    moment = at if at is not None else datetime.now(UTC)
    with ws.store.write() as session:
        row = session.get(Appointment, appointment_id)
        if row is None or row.deleted:
            raise NotFound("Rendez-vous introuvable.")
        if to == VisitStatus.NO_SHOW and moment < row.start_at:
            raise ValidationFailed(
                "Le rendez-vous n'a pas encore commencé : le patient ne peut pas être noté absent."
            )
        if to in (VisitStatus.ARRIVED, VisitStatus.IN_CONSULTATION) and (
            to_local(row.start_at).date() != to_local(moment).date()
        ):
            raise ValidationFailed("Seuls les rendez-vous du jour passent en salle d'attente.")
        if row.patient_id is None and to != VisitStatus.CANCELLED:
            raise ValidationFailed("Ce créneau n'a pas de patient.")
        with domain_errors():
            state = visit_state(row).transition(to, moment, reason)
        row.status = to.value
        setattr(row, _COLUMN[to], moment)
        if to == VisitStatus.CANCELLED:
            row.cancel_reason = (state.history[-1].reason or "")[:200]
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            _ACTION[to],
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="appointment",
            target_id=row.id,
        )
        return appointment_view(row, ViewContext.load(session, [row]))


@requires(Permission.WAITINGROOM_MANAGE)
def mark_arrived(
    ws: Workspace, actor: Actor, appointment_id: str, *, at: datetime | None = None
) -> AppointmentView:
    return change_status(ws, actor, appointment_id, VisitStatus.ARRIVED, at=at)


@requires(Permission.WAITINGROOM_MANAGE)
def call_in(
    ws: Workspace, actor: Actor, appointment_id: str, *, at: datetime | None = None
) -> AppointmentView:
    return change_status(ws, actor, appointment_id, VisitStatus.IN_CONSULTATION, at=at)


@requires(Permission.WAITINGROOM_MANAGE)
def mark_seen(
    ws: Workspace, actor: Actor, appointment_id: str, *, at: datetime | None = None
) -> AppointmentView:
    return change_status(ws, actor, appointment_id, VisitStatus.SEEN, at=at)


@requires(Permission.WAITINGROOM_MANAGE)
def mark_no_show(
    ws: Workspace, actor: Actor, appointment_id: str, *, at: datetime | None = None
) -> AppointmentView:
    return change_status(ws, actor, appointment_id, VisitStatus.NO_SHOW, at=at)


@dataclass(frozen=True)
class WaitingRoomEntry:
    appointment: AppointmentView
    waiting_minutes: int | None  # since arrival, until called in (or now)
    no_shows: int  # the patient's no-shows so far


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)
def waiting_room(
    ws: Workspace,
    actor: Actor,
    day: date | None = None,
    practitioner_id: str | None = None,
    *,
    now: datetime | None = None,
) -> list[WaitingRoomEntry]:
    """The day's patient appointments (cancelled left out) in time order, with waiting times."""
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN)
    moment = now if now is not None else local_now()
    day = day or moment.date()
    start, end = days_utc(day, day)
    with ws.store.read() as session:
        query = select(Appointment).where(
            Appointment.deleted.is_(False),
            Appointment.patient_id.is_not(None),
            Appointment.status != VisitStatus.CANCELLED.value,
            Appointment.start_at >= start,
            Appointment.start_at < end,
        )
        if practitioner_id is not None:
            query = query.where(Appointment.practitioner_id == practitioner_id)
        rows = list(session.scalars(query.order_by(Appointment.start_at)))
        ctx = ViewContext.load(session, rows)
        counts = _no_show_counts(session, [r.patient_id for r in rows if r.patient_id])
        entries = []
        for row in rows:
            view = appointment_view(row, ctx)
            waited = None
            if view.arrived_at is not None:
                until = view.called_at or moment
                waited = max(0, int((until - view.arrived_at).total_seconds() // 60))
            entries.append(WaitingRoomEntry(view, waited, counts.get(row.patient_id or "", 0)))
        return entries


def _no_show_counts(session: Session, patient_ids: list[str]) -> dict[str, int]:
    if not patient_ids:
        return {}
    rows = session.execute(
        select(Appointment.patient_id, func.count())
        .where(
            Appointment.patient_id.in_(set(patient_ids)),
            Appointment.status == VisitStatus.NO_SHOW.value,
            Appointment.deleted.is_(False),
        )
        .group_by(Appointment.patient_id)
    )
    return {str(pid): int(n) for pid, n in rows}


@requires(Permission.AGENDA_READ)
def no_show_count(ws: Workspace, actor: Actor, patient_id: str) -> int:
    """How many appointments this patient missed without warning."""
    actor.require(Permission.AGENDA_READ)
    with ws.store.read() as session:
        return _no_show_counts(session, [patient_id]).get(patient_id, 0)
