"""Agenda printouts as PDF bytes (the UI previews and prints them, never a temp file):
the day list of a practitioner or a room, and the patient's appointment card. Audited.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cms_desktop.domain.permissions import Permission
from cms_desktop.printing.agenda import render_appointment_card, render_day_list
from cms_desktop.printing.dto import AppointmentCardDoc, CentreInfo, DayListDoc, DayListRow
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import (
    ViewContext,
    appointment_view,
    display_name,
    get_practitioner,
)
from cms_desktop.services.agenda.views import _appointments
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, repositories
from cms_desktop.storage.models import Appointment, Practitioner, Room


def centre_info(session: Session) -> CentreInfo:
    c = repositories.centre(session)
    if c is None:
        return CentreInfo("Centre municipal de santé", (), "", "")
    lines = tuple(x for x in (c.address, f"{c.postcode} {c.city}".strip()) if x)
    return CentreInfo(c.name, lines, c.phone, c.finess, c.logo_png)


@requires(
    Permission.PRINT_ADMIN, Permission.AGENDA_READ, note="one's own day: agenda.own is enough"
)
def day_list_pdf(
    ws: Workspace,
    actor: Actor,
    day: date,
    *,
    practitioner_id: str | None = None,
    room_id: str | None = None,
) -> bytes:
    """The day's appointments of one practitioner or one room (cancelled ones left out)."""
    actor.require(Permission.PRINT_ADMIN)
    if (practitioner_id is None) == (room_id is None):
        raise ValidationFailed("Choisissez un praticien ou une salle.")
    with ws.store.write() as session:
        if practitioner_id is not None:
            p = get_practitioner(session, practitioner_id)
            if not actor.can(Permission.AGENDA_READ) and p.user_id != actor.user_id:
                actor.require(Permission.AGENDA_READ)
            subject = display_name(p)
            rows = _appointments(session, day, day, practitioner_ids=[p.id])
        else:
            actor.require(Permission.AGENDA_READ)
            room = session.get(Room, room_id)
            if room is None or room.deleted:
                raise NotFound("Salle introuvable.")
            subject = room.name
            rows = _appointments(session, day, day, room_ids=[room.id])
        ctx = ViewContext.load(session, rows)
        views = [appointment_view(r, ctx) for r in rows]
        doc = DayListDoc(
            day,
            subject,
            tuple(
                DayListRow(
                    v.start.time(),
                    v.end.time(),
                    v.patient_name or "—",
                    v.type_label,
                    v.reason,
                    v.status_label,
                )
                for v in views
                if not v.cancelled
            ),
        )
        pdf = render_day_list(centre_info(session), doc)
        audit.append(
            session,
            ws.store.station_id,
            "print_day_list",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="practitioner" if practitioner_id else "room",
            target_id=practitioner_id or room_id or "",
            details={"day": day.isoformat(), "rows": len(doc.rows)},
        )
        return pdf


@requires(Permission.PRINT_ADMIN, Permission.AGENDA_READ)
def appointment_card_pdf(ws: Workspace, actor: Actor, appointment_id: str) -> bytes:
    """The card handed to the patient: date, time, practitioner, room, centre's address."""
    actor.require(Permission.PRINT_ADMIN)
    actor.require(Permission.AGENDA_READ)
    with ws.store.write() as session:
        row = session.get(Appointment, appointment_id)
        if row is None or row.deleted:
            raise NotFound("Rendez-vous introuvable.")
        if row.patient_id is None:
            raise ValidationFailed("Ce créneau n'a pas de patient : pas de carte de rendez-vous.")
        view = appointment_view(row, ViewContext.load(session, [row]))
        if view.cancelled:
            raise ValidationFailed("Ce rendez-vous est annulé.")
        p = session.get(Practitioner, row.practitioner_id)
        who = display_name(p) if p is not None else view.practitioner_name
        place = view.room_name or None
        pdf = render_appointment_card(
            centre_info(session),
            AppointmentCardDoc(view.patient_name, who, view.start, place),
        )
        audit.append(
            session,
            ws.store.station_id,
            "print_appointment_card",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="appointment",
            target_id=row.id,
        )
        return pdf
