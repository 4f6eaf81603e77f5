"""Waiting room times and no-shows, the waiting list's conversion, overlaps after a merge,
the iCalendar export (no patient data) and the printouts.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.agenda import booking, overlaps, printouts, waiting_list, waiting_room
from cms_desktop.services.agenda.booking import BookingRefused, BookingRequest
from cms_desktop.services.agenda.common import to_utc
from cms_desktop.services.agenda.ical import export_ical
from cms_desktop.services.agenda.lookup import search_patients_for_booking
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models import Appointment
from tests.integration.agenda.conftest import MONDAY, NOW, Agenda, at


def _book(a: Agenda, hour: int, minute: int = 0, patient: str | None = None, reason: str = ""):
    return booking.book(
        a.ws,
        a.reception,
        BookingRequest(
            a.doctor_id, at(MONDAY, hour, minute), patient_id=patient or a.patient_a, reason=reason
        ),
        now=NOW,
    )


def _aware(moment: datetime) -> datetime:
    return to_utc(moment)


def test_waiting_room_keeps_the_times_and_the_waiting_minutes(agenda: Agenda) -> None:
    appt = _book(agenda, 9)
    waiting_room.mark_arrived(agenda.ws, agenda.reception, appt.id, at=_aware(at(MONDAY, 8, 50)))
    entries = waiting_room.waiting_room(agenda.ws, agenda.reception, MONDAY, now=at(MONDAY, 9, 5))
    assert entries[0].appointment.status == VisitStatus.ARRIVED
    assert entries[0].waiting_minutes == 15
    ws, doctor = agenda.centre.login("dr.test")
    try:
        called = waiting_room.call_in(ws, doctor, appt.id, at=_aware(at(MONDAY, 9, 12)))
        with pytest.raises(ValidationFailed, match="Passage impossible"):
            waiting_room.mark_arrived(ws, doctor, appt.id, at=_aware(at(MONDAY, 9, 13)))
        seen = waiting_room.mark_seen(ws, doctor, appt.id, at=_aware(at(MONDAY, 9, 30)))
    finally:
        ws.close()
    assert called.called_at == at(MONDAY, 9, 12)
    assert seen.status == VisitStatus.SEEN and seen.seen_at == at(MONDAY, 9, 30)
    later = waiting_room.waiting_room(agenda.ws, agenda.reception, MONDAY, now=at(MONDAY, 11))
    assert later[0].waiting_minutes == 22  # until called in, not until now


def test_no_show_is_counted_per_patient_and_not_before_the_time(agenda: Agenda) -> None:
    first = _book(agenda, 9)
    second = _book(agenda, 10)
    with pytest.raises(ValidationFailed, match="pas encore commencé"):
        waiting_room.mark_no_show(
            agenda.ws, agenda.reception, first.id, at=_aware(at(MONDAY, 8, 30))
        )
    for appt in (first, second):
        waiting_room.mark_no_show(agenda.ws, agenda.reception, appt.id, at=_aware(at(MONDAY, 11)))
    assert waiting_room.no_show_count(agenda.ws, agenda.reception, agenda.patient_a) == 2
    assert waiting_room.no_show_count(agenda.ws, agenda.reception, agenda.patient_b) == 0


def test_waiting_list_conversion_creates_a_patient_with_a_first_appointment(agenda: Agenda) -> None:
    entry = waiting_list.register(
        agenda.ws,
        agenda.reception,
        waiting_list.WaitingListDraft("Fontaine", "Marc", date(1958, 2, 3), "06 12 34 56 78"),
        today=date(2030, 1, 10),
    )
    urgent = waiting_list.register(
        agenda.ws,
        agenda.reception,
        waiting_list.WaitingListDraft("Aubert", "Lina", date(2029, 11, 1), priority=3),
        today=date(2030, 1, 12),
    )
    waiting_list.set_priority(agenda.ws, agenda.reception, urgent.id, 1)
    listed = waiting_list.list_waiting(agenda.ws, agenda.reception)
    assert [e.id for e in listed] == [urgent.id, entry.id]
    assert listed[1].phone == "+33612345678"
    # A refused first appointment leaves nothing behind.
    with pytest.raises(BookingRefused):
        waiting_list.convert(
            agenda.ws,
            agenda.reception,
            entry.id,
            "M",
            BookingRequest(agenda.doctor_id, at(MONDAY, 7)),
            now=NOW,
        )
    assert search_patients_for_booking(agenda.ws, agenda.reception, "fontaine") == []
    done = waiting_list.convert(
        agenda.ws,
        agenda.reception,
        entry.id,
        "M",
        BookingRequest(agenda.doctor_id, at(MONDAY, 9)),
        now=NOW,
    )
    assert done.appointment is not None and done.appointment.patient_id == done.patient_id
    found = search_patients_for_booking(agenda.ws, agenda.reception, "fontaine ma")
    assert [p.id for p in found] == [done.patient_id]
    assert [e.id for e in waiting_list.list_waiting(agenda.ws, agenda.reception)] == [urgent.id]
    with pytest.raises(ValidationFailed, match="déjà devenue patiente"):
        waiting_list.convert(agenda.ws, agenda.reception, entry.id, "M")


def test_overlaps_from_a_merge_are_found_not_cancelled(agenda: Agenda) -> None:
    kept = _book(agenda, 9)
    # As if another station had booked the same time while cut off (a merge bypasses checks).
    with agenda.ws.store.write() as s:
        s.add(
            Appointment(
                practitioner_id=agenda.doctor_id,
                room_id=agenda.room1,
                patient_id=agenda.patient_b,
                type_code="consultation",
                start_at=to_utc(at(MONDAY, 9, 10)),
                end_at=to_utc(at(MONDAY, 9, 30)),
                booked_at=datetime.now(UTC),
                provisional=True,
            )
        )
    with agenda.ws.store.read() as s:
        found = overlaps.find_overlaps(s, to_utc(at(MONDAY, 0)), to_utc(at(MONDAY, 23)))
    assert len(found) == 1 and found[0].resource == "practitioner"
    assert found[0].first_id == kept.id
    shown = overlaps.list_overlaps(agenda.ws, agenda.reception, MONDAY, MONDAY)
    assert "Double réservation (Dr Jeanne Test)" in shown[0].message
    assert {shown[0].first.status, shown[0].second.status} == {VisitStatus.BOOKED}


def test_ical_export_has_no_patient_name_nor_reason(agenda: Agenda) -> None:
    _book(agenda, 9, reason="Renouvellement ordonnance")
    cancelled = _book(agenda, 10, patient=agenda.patient_b)
    booking.cancel(agenda.ws, agenda.reception, cancelled.id, "Empêchement")
    ws, doctor = agenda.centre.login("dr.test")
    try:
        data = export_ical(ws, doctor, agenda.doctor_id, MONDAY, MONDAY + timedelta(days=6))
    finally:
        ws.close()
    text = data.decode("utf-8")
    assert "MARTINEAU" not in text.upper() and "ROCHE" not in text.upper()
    assert "Renouvellement" not in text
    events = Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["summary"]) == "Rendez-vous — Consultation"
    assert str(events[0]["location"]) == "Cabinet 1"
    assert events[0].decoded("dtstart") == to_utc(at(MONDAY, 9))


def test_day_list_and_card_pdfs_hold_the_right_names(agenda: Agenda) -> None:
    appt = _book(agenda, 9)
    pdf = printouts.day_list_pdf(
        agenda.ws, agenda.reception, MONDAY, practitioner_id=agenda.doctor_id
    )
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Dr Jeanne Test" in text and "MARTINEAU Lucie" in text
    card = printouts.appointment_card_pdf(agenda.ws, agenda.reception, appt.id)
    card_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(card)).pages)
    assert "MARTINEAU Lucie" in card_text and "Dr Jeanne Test" in card_text
    room_pdf = printouts.day_list_pdf(agenda.ws, agenda.reception, MONDAY, room_id=agenda.room1)
    assert "Cabinet 1" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(room_pdf)).pages)


def test_administrator_cannot_export_a_calendar(agenda: Agenda) -> None:
    from tests.conftest import ADMIN_PASSWORD

    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            export_ical(ws, admin, agenda.doctor_id, MONDAY, MONDAY)
    finally:
        ws.close()
