"""iCalendar export of a practitioner's agenda, for his or her phone.

Deliberately without any patient data: each event is "Rendez-vous — <type>" in the room,
with no patient name, no reason and no note (a phone calendar leaves the centre's control).
Cancelled appointments are left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar, Event

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    display_name,
    get_practitioner,
    room_names,
    type_infos,
)
from cms_desktop.services.agenda.views import _appointments
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit

MAX_DAYS = 400


@requires(Permission.AGENDA_READ, note="one's own agenda: agenda.own is enough")
def export_ical(ws: Workspace, actor: Actor, practitioner_id: str, start: date, end: date) -> bytes:
    """The practitioner's appointments from `start` to `end` included, as an .ics file."""
    if end < start:
        raise ValidationFailed("La date de fin précède la date de début.")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(f"Exportez au plus {MAX_DAYS} jours à la fois.")
    with ws.store.write() as session:
        p = get_practitioner(session, practitioner_id)
        if p.user_id != actor.user_id or not actor.can(Permission.AGENDA_OWN):
            actor.require(Permission.AGENDA_READ)
        rooms = room_names(session)
        types = type_infos(session)
        cal = Calendar()
        cal.add("prodid", "-//cms-desktop//Agenda//FR")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", f"Agenda {display_name(p)}")
        stamp = datetime.now(UTC)
        count = 0
        for row in _appointments(session, start, end, practitioner_ids=[p.id]):
            if row.status == VisitStatus.CANCELLED.value:
                continue
            event = Event()
            info = types.get(row.type_code)
            label = info.label if info is not None else row.type_code
            event.add("uid", f"{row.id}@cms-desktop")
            event.add("dtstamp", stamp)
            event.add("dtstart", row.start_at.astimezone(UTC))
            event.add("dtend", row.end_at.astimezone(UTC))
            event.add("summary", f"Rendez-vous — {label}")
            if row.room_id:
                event.add("location", rooms.get(row.room_id, ""))
            cal.add_component(event)
            count += 1
        audit.append(
            session,
            ws.store.station_id,
            "agenda_export_ical",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="practitioner",
            target_id=p.id,
            details={"from": start.isoformat(), "to": end.isoformat(), "events": count},
        )
        return bytes(cal.to_ical())
