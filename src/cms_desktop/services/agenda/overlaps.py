"""Overlapping bookings, which only a merge can create (two stations booking while cut off).

The sync layer calls `find_overlaps` after every merge; reception sees the list and decides.
Nothing is cancelled automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    AppointmentView,
    ViewContext,
    appointment_view,
    days_utc,
)
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Appointment


@dataclass(frozen=True)
class Overlap:
    """Two active appointments sharing a practitioner or a room over [start, end) (UTC)."""

    resource: str  # "practitioner" or "room"
    resource_id: str
    first_id: str
    second_id: str
    start: datetime
    end: datetime


def _sweep(resource: str, rows: list[Appointment], key: str) -> list[Overlap]:
    found: list[Overlap] = []
    groups: dict[str, list[Appointment]] = {}
    for row in rows:
        rid = getattr(row, key)
        if rid is not None:
            groups.setdefault(rid, []).append(row)
    for rid, group in groups.items():
        group.sort(key=lambda r: (r.start_at, r.end_at))
        open_rows: list[Appointment] = []
        for row in group:
            open_rows = [o for o in open_rows if o.end_at > row.start_at]
            for other in open_rows:
                found.append(
                    Overlap(
                        resource, rid, other.id, row.id, row.start_at, min(other.end_at, row.end_at)
                    )
                )
            open_rows.append(row)
    return found


def find_overlaps(session: Session, start: datetime, end: datetime) -> list[Overlap]:
    """Every pair of active appointments meeting [start, end) that share a practitioner or
    a room (aware datetimes). Run by the sync helper after each merge.
    """
    rows = list(
        session.scalars(
            select(Appointment).where(
                Appointment.deleted.is_(False),
                Appointment.status != VisitStatus.CANCELLED.value,
                Appointment.start_at < end,
                Appointment.end_at > start,
            )
        )
    )
    overlaps = _sweep("practitioner", rows, "practitioner_id") + _sweep("room", rows, "room_id")
    # A clash of both practitioner and room is one problem: report it once.
    seen: set[tuple[str, str]] = set()
    unique = []
    for o in sorted(overlaps, key=lambda o: (o.start, o.resource != "practitioner")):
        pair = (o.first_id, o.second_id)
        if pair not in seen:
            seen.add(pair)
            unique.append(o)
    return unique


@dataclass(frozen=True)
class OverlapView:
    resource: str
    first: AppointmentView
    second: AppointmentView

    @property
    def message(self) -> str:
        who = (
            self.first.practitioner_name
            if self.resource == "practitioner"
            else f"salle {self.first.room_name}"
        )
        return (
            f"Double réservation ({who}) le {self.first.start:%d/%m/%Y} : "
            f"{_slot(self.first)} et {_slot(self.second)}"
        )

    @property
    def day(self) -> date:
        return self.first.start.date()


def _slot(appt: AppointmentView) -> str:
    """« 10:00 DELORME Gabrielle »: whom reception calls to move one of the two."""
    who = f" {appt.patient_name}" if appt.patient_name else ""
    return f"{appt.start:%H:%M}{who}"


@requires(Permission.AGENDA_READ)
def list_overlaps(ws: Workspace, actor: Actor, first: date, last: date) -> list[OverlapView]:
    """Overlaps over these days, for reception to sort out after a merge."""
    actor.require(Permission.AGENDA_READ)
    start, end = days_utc(first, last)
    with ws.store.read() as session:
        found = find_overlaps(session, start, end)
        ids = {i for o in found for i in (o.first_id, o.second_id)}
        rows = {
            r.id: r for r in session.scalars(select(Appointment).where(Appointment.id.in_(ids)))
        }
        ctx = ViewContext.load(session, list(rows.values()))
        return [
            OverlapView(
                o.resource,
                appointment_view(rows[o.first_id], ctx),
                appointment_view(rows[o.second_id], ctx),
            )
            for o in found
        ]
