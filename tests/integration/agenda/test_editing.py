"""Changing an appointment's details and withdrawing a practitioner's absence: permissions,
refusals with the booking's French reasons, audit and op-log entries in the same transaction.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from cms_desktop.domain.agenda.appointments import IssueCode
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.agenda import booking, resources
from cms_desktop.services.agenda.booking import BookingRefused, BookingRequest
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.storage.models import AuditEntry, OpLogRow
from tests.conftest import ADMIN_PASSWORD
from tests.integration.agenda.conftest import MONDAY, NOW, Agenda, at, utc


def _book(a: Agenda, hour: int, minute: int = 0, patient: str | None = None, **kw):
    req = BookingRequest(a.doctor_id, at(MONDAY, hour, minute), patient_id=patient or a.patient_a)
    return booking.book(a.ws, a.reception, req, now=NOW, **kw)


def _trail(a: Agenda, row_id: str, entity: str) -> tuple[list[str], list[str]]:
    """Audit actions about the row, and op-log operations of the row, oldest first."""
    with a.ws.store.read() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_id == row_id)
                .order_by(AuditEntry.seq)
            )
        )
        ops = list(
            s.scalars(
                select(OpLogRow.op)
                .where(OpLogRow.row_id == row_id, OpLogRow.entity == entity)
                .order_by(OpLogRow.seq)
            )
        )
    return actions, ops


def test_reason_note_and_length_change_with_audit_and_op_log(agenda: Agenda) -> None:
    appt = _book(agenda, 9)
    changed = booking.update_details(
        agenda.ws,
        agenda.reception,
        appt.id,
        reason="Renouvellement",
        note="Apporter les analyses",
        type_code="long_consultation",
        minutes=40,
        now=NOW,
    )
    assert (changed.reason, changed.note, changed.type_code) == (
        "Renouvellement",
        "Apporter les analyses",
        "long_consultation",
    )
    assert changed.start == appt.start and changed.end == at(MONDAY, 9, 40)
    assert changed.room_id == agenda.room1
    actions, ops = _trail(agenda, appt.id, "appointments")
    assert actions == ["appointment_booked", "appointment_changed"]
    assert len(ops) == 2  # the insert, then this update, in the op-log


def test_longer_appointment_meeting_the_next_one_is_refused_and_nothing_changes(
    agenda: Agenda,
) -> None:
    first = _book(agenda, 10)
    _book(agenda, 10, 20, patient=agenda.patient_b)
    with pytest.raises(BookingRefused) as err:
        booking.update_details(
            agenda.ws, agenda.reception, first.id, reason="Bilan", note="", minutes=40, now=NOW
        )
    assert err.value.issues[0].code == IssueCode.PRACTITIONER_OVERLAP
    assert "Chevauche le rendez-vous de 10:20–10:40 du Dr Jeanne Test" in str(err.value)
    unchanged = booking.update_details(
        agenda.ws, agenda.reception, first.id, reason="", note="", now=NOW
    )
    assert unchanged.end == at(MONDAY, 10, 20) and unchanged.reason == ""


def test_type_change_follows_the_type_rules(agenda: Agenda) -> None:
    appt = _book(agenda, 15)
    # Reception cannot turn a future appointment into an unscheduled-care slot.
    with pytest.raises(BookingRefused, match="que le jour même"):
        booking.update_details(
            agenda.ws, agenda.reception, appt.id, reason="", note="", type_code="unscheduled"
        )
    home = booking.update_details(
        agenda.ws, agenda.reception, appt.id, reason="", note="", type_code="home_visit", now=NOW
    )
    assert home.room_id is None and home.minutes == 20
    with pytest.raises(ValidationFailed, match="Type de rendez-vous inconnu"):
        booking.update_details(
            agenda.ws, agenda.reception, appt.id, reason="", note="", type_code="massage"
        )


def test_started_or_cancelled_appointments_keep_their_length(agenda: Agenda) -> None:
    arrived = _book(agenda, 11)
    from cms_desktop.services.agenda import waiting_room

    waiting_room.mark_arrived(agenda.ws, agenda.reception, arrived.id, at=utc(at(MONDAY, 10, 55)))
    with pytest.raises(ValidationFailed, match="Seuls le motif et la note"):
        booking.update_details(
            agenda.ws, agenda.reception, arrived.id, reason="", note="", minutes=30, now=NOW
        )
    noted = booking.update_details(
        agenda.ws, agenda.reception, arrived.id, reason="Douleur", note="", now=NOW
    )
    assert noted.reason == "Douleur"
    cancelled = _book(agenda, 14, patient=agenda.patient_b)
    booking.cancel(agenda.ws, agenda.reception, cancelled.id, "Patient empêché")
    with pytest.raises(ValidationFailed, match="annulé ne peut plus être modifié"):
        booking.update_details(agenda.ws, agenda.reception, cancelled.id, reason="x", note="")


def test_update_details_needs_agenda_write_and_an_existing_appointment(agenda: Agenda) -> None:
    appt = _book(agenda, 16)
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            booking.update_details(ws, admin, appt.id, reason="x", note="")
    finally:
        ws.close()
    with pytest.raises(NotFound):
        booking.update_details(agenda.ws, agenda.reception, "nope", reason="", note="")


def test_an_absence_can_be_withdrawn_and_booking_opens_again(agenda: Agenda) -> None:
    absence = resources.add_absence(
        agenda.ws,
        agenda.reception,
        agenda.doctor_id,
        at(MONDAY, 0),
        at(MONDAY + timedelta(days=1), 0),
        "Formation",
    )
    with pytest.raises(BookingRefused, match="Praticien absent"):
        _book(agenda, 9)
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            resources.remove_absence(ws, admin, absence)
    finally:
        ws.close()
    resources.remove_absence(agenda.ws, agenda.reception, absence)
    assert resources.list_absences(agenda.ws, agenda.reception, agenda.doctor_id) == []
    assert _book(agenda, 9).start == at(MONDAY, 9)
    with pytest.raises(NotFound, match="Absence introuvable"):
        resources.remove_absence(agenda.ws, agenda.reception, absence)
    with agenda.ws.store.read() as s:
        removed = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_id == agenda.doctor_id,
                AuditEntry.action == "practitioner_absence_removed",
            )
        ).all()
        ops = s.scalars(
            select(OpLogRow.values_json).where(
                OpLogRow.row_id == absence, OpLogRow.entity == "practitioner_absences"
            )
        ).all()
    assert len(removed) == 1
    assert len(ops) == 2 and json.loads(ops[-1])["deleted"] is True
