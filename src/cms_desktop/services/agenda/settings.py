"""The centre's agenda settings: opening hours, Saturday rota, holiday zone and closures.

Until the hours are saved once, the Alençon defaults apply (Monday, Tuesday, Thursday,
Friday 9:00–12:40 and 13:40–19:00, Wednesday closed, the first three Saturdays 9:00–12:00).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.hours import Closure, TimeRange, WeeklyHours
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    DEFAULT_SATURDAY_RANKS,
    HOLIDAY_ZONE_LABELS,
    HOLIDAY_ZONES,
    SETTINGS_ID,
    default_hours_json,
    domain_errors,
    hhmm,
    require_any,
    settings_row,
    tombstone,
    weekly_hours_from_json,
)
from cms_desktop.services.agenda.resources import seed_appointment_types
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import AgendaClosure, AgendaSettings


@dataclass(frozen=True)
class AgendaSettingsView:
    hours: dict[int, tuple[tuple[time, time], ...]]  # weekday (Monday = 0) -> ranges
    saturday_ranks: frozenset[int]  # empty: every Saturday
    holiday_zone: str
    holiday_zone_label: str


@dataclass(frozen=True)
class ClosureView:
    id: str
    first_day: date
    last_day: date
    label: str


def _view(row: AgendaSettings | None) -> AgendaSettingsView:
    hours = weekly_hours_from_json(row.hours_json if row else default_hours_json())
    ranks_text = row.saturday_ranks if row else DEFAULT_SATURDAY_RANKS
    zone = row.holiday_zone if row else "metropole"
    return AgendaSettingsView(
        {wd: tuple((r.start, r.end) for r in hours.ranges_for(wd)) for wd in range(7)},
        frozenset(int(r) for r in ranks_text.split(",") if r.strip()),
        zone,
        HOLIDAY_ZONE_LABELS.get(zone, zone),
    )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def get_settings(ws: Workspace, actor: Actor) -> AgendaSettingsView:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        return _view(settings_row(session))


def ensure_defaults(session: Session) -> AgendaSettings:
    """The settings row and the appointment types, created with the defaults if missing."""
    row = settings_row(session)
    if row is None:
        row = AgendaSettings(
            id=SETTINGS_ID,
            hours_json=default_hours_json(),
            saturday_ranks=DEFAULT_SATURDAY_RANKS,
            holiday_zone="metropole",
        )
        session.add(row)
    seed_appointment_types(session)
    session.flush()
    return row


@requires(Permission.SETTINGS_MANAGE)
def save_settings(
    ws: Workspace,
    actor: Actor,
    hours: Mapping[int, Sequence[tuple[time, time]]],
    saturday_ranks: frozenset[int] = frozenset({1, 2, 3}),
    holiday_zone: str = "metropole",
) -> AgendaSettingsView:
    """Replace the opening hours; ranges ending before they start or overlapping are refused."""
    actor.require(Permission.SETTINGS_MANAGE)
    if holiday_zone not in HOLIDAY_ZONES:
        raise ValidationFailed(f"Zone de jours fériés inconnue : {holiday_zone}")
    if not saturday_ranks <= {1, 2, 3, 4, 5}:
        raise ValidationFailed("Les samedis ouverts se numérotent de 1 à 5.")
    with domain_errors():
        checked = WeeklyHours(
            {wd: [TimeRange(a, b) for a, b in ranges] for wd, ranges in hours.items()}
        )
    payload = {
        str(wd): [[hhmm(r.start), hhmm(r.end)] for r in checked.ranges_for(wd)]
        for wd in range(7)
        if checked.ranges_for(wd)
    }
    with ws.store.write() as session:
        row = ensure_defaults(session)
        row.hours_json = json.dumps(payload)
        row.saturday_ranks = ",".join(str(r) for r in sorted(saturday_ranks))
        row.holiday_zone = holiday_zone
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "agenda_settings_changed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="agenda_settings",
            target_id=row.id,
        )
        return _view(row)


@requires(Permission.SETTINGS_MANAGE)
def add_closure(ws: Workspace, actor: Actor, first_day: date, last_day: date, label: str) -> str:
    actor.require(Permission.SETTINGS_MANAGE)
    if not label.strip():
        raise ValidationFailed("Indiquez le motif de la fermeture.")
    with domain_errors():
        Closure(first_day, last_day, label)
    with ws.store.write() as session:
        row = AgendaClosure(first_day=first_day, last_day=last_day, label=label.strip()[:200])
        session.add(row)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "agenda_closure_added",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="agenda_closure",
            target_id=row.id,
        )
        return row.id


@requires(Permission.SETTINGS_MANAGE)
def remove_closure(ws: Workspace, actor: Actor, closure_id: str) -> None:
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        row = tombstone(session, AgendaClosure, closure_id, "Fermeture introuvable.")
        audit.append(
            session,
            ws.store.station_id,
            "agenda_closure_removed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="agenda_closure",
            target_id=row.id,
        )


@requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
def list_closures(ws: Workspace, actor: Actor) -> list[ClosureView]:
    require_any(actor, Permission.AGENDA_READ, Permission.AGENDA_OWN, Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        rows = session.scalars(
            select(AgendaClosure)
            .where(AgendaClosure.deleted.is_(False))
            .order_by(AgendaClosure.first_day)
        )
        return [ClosureView(c.id, c.first_day, c.last_day, c.label) for c in rows]
