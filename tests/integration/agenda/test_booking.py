"""Booking through the services: refusals with their French reasons, no double booking even
from two workspaces at once, moves, cancellations kept in history, series collisions.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cms_desktop.domain.agenda.appointments import IssueCode
from cms_desktop.domain.agenda.recurrence import Frequency, SeriesRule
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.agenda import booking, resources, settings, views
from cms_desktop.services.agenda.booking import BookingRefused, BookingRequest
from cms_desktop.services.errors import ValidationFailed
from tests.conftest import ADMIN_PASSWORD
from tests.integration.agenda.conftest import MONDAY, NOW, Agenda, at


def _req(a: Agenda, start, **kw) -> BookingRequest:
    return BookingRequest(a.doctor_id, start, patient_id=kw.pop("patient_id", a.patient_a), **kw)


def test_booking_takes_the_room_of_the_range_and_shows_in_the_day(agenda: Agenda) -> None:
    appt = booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    assert appt.room_id == agenda.room1
    assert appt.end - appt.start == timedelta(minutes=20)
    assert appt.patient_name == "MARTINEAU Lucie"
    day = views.day_agenda(agenda.ws, agenda.reception, MONDAY)
    column = next(c for c in day.columns if c.key == agenda.doctor_id)
    assert [x.id for x in column.appointments] == [appt.id]


def test_double_booking_of_the_practitioner_is_refused_with_the_reason(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 10)), now=NOW)
    with pytest.raises(BookingRefused) as err:
        booking.book(
            agenda.ws,
            agenda.reception,
            _req(agenda, at(MONDAY, 10, 10), patient_id=agenda.patient_b),
            now=NOW,
        )
    assert err.value.issues[0].code == IssueCode.PRACTITIONER_OVERLAP
    assert "Chevauche le rendez-vous de 10:00–10:20 du Dr Jeanne Test" in str(err.value)


def test_an_aware_start_is_read_as_the_same_instant_in_paris(agenda: Agenda) -> None:
    # 09:00 in Paris in winter is 08:00 UTC: an API caller passing UTC books 09:00.
    paris_nine = at(MONDAY, 9)
    utc = paris_nine.replace(tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
    appt = booking.book(agenda.ws, agenda.reception, _req(agenda, utc), now=NOW)
    assert appt.start == paris_nine
    with pytest.raises(BookingRefused):
        booking.book(
            agenda.ws,
            agenda.reception,
            _req(agenda, paris_nine, patient_id=agenda.patient_b),
            now=NOW,
        )
    moved = booking.move(agenda.ws, agenda.reception, appt.id, utc + timedelta(hours=1), now=NOW)
    assert moved.start == paris_nine + timedelta(hours=1)


def test_room_shared_with_a_visiting_practitioner_cannot_be_double_booked(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 11)), now=NOW)
    visitor = BookingRequest(agenda.visitor_id, at(MONDAY, 11, 5), patient_id=agenda.patient_b)
    with pytest.raises(BookingRefused) as err:
        booking.book(agenda.ws, agenda.reception, visitor, now=NOW)
    assert any(i.code == IssueCode.ROOM_OVERLAP for i in err.value.issues)
    assert "Salle occupée" in str(err.value)


def test_two_workspaces_booking_the_same_slot_at_once_only_one_wins(agenda: Agenda) -> None:
    sessions = [agenda.centre.login("accueil") for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(index: int) -> None:
        ws, actor = sessions[index]
        patient = agenda.patient_a if index == 0 else agenda.patient_b
        barrier.wait()
        try:
            booking.book(ws, actor, _req(agenda, at(MONDAY, 14), patient_id=patient), now=NOW)
            results.append("booked")
        except BookingRefused:
            results.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ws, _ in sessions:
        ws.close()
    assert sorted(results) == ["booked", "refused"]
    day = views.day_agenda(agenda.ws, agenda.reception, MONDAY)
    column = next(c for c in day.columns if c.key == agenda.doctor_id)
    assert len(column.appointments) == 1


@pytest.mark.parametrize(
    ("start", "code", "message"),
    [
        (at(date(2030, 4, 22), 10), IssueCode.HOLIDAY, "Jour férié : Lundi de Pâques"),
        (at(MONDAY, 7), IssueCode.OUTSIDE_OPENING_HOURS, "Hors des heures d'ouverture"),
        (at(MONDAY + timedelta(days=2), 10), IssueCode.CENTRE_CLOSED, "Centre fermé le mercredi"),
        (at(date(2030, 2, 25), 10), IssueCode.IN_THE_PAST, "Rendez-vous dans le passé"),
    ],
)
def test_calendar_refusals_name_the_reason(agenda: Agenda, start, code, message) -> None:
    with pytest.raises(BookingRefused) as err:
        booking.book(agenda.ws, agenda.reception, _req(agenda, start), now=NOW)
    assert err.value.issues[0].code == code
    assert message in str(err.value)


def test_absence_and_closure_refuse_bookings(agenda: Agenda) -> None:
    resources.add_absence(
        agenda.ws,
        agenda.reception,
        agenda.doctor_id,
        at(MONDAY, 0),
        at(MONDAY + timedelta(days=1), 0),
        "Formation",
    )
    with pytest.raises(BookingRefused, match="Praticien absent : Formation"):
        booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        settings.add_closure(
            ws, admin, MONDAY + timedelta(days=1), MONDAY + timedelta(days=1), "Inventaire"
        )
    finally:
        ws.close()
    with pytest.raises(BookingRefused, match="Fermeture : Inventaire"):
        booking.book(
            agenda.ws, agenda.reception, _req(agenda, at(MONDAY + timedelta(days=1), 9)), now=NOW
        )


def test_alsace_moselle_zone_adds_good_friday(agenda: Agenda) -> None:
    good_friday = date(2030, 4, 19)
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(good_friday, 9)), now=NOW)
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        current = settings.get_settings(ws, admin)
        settings.save_settings(ws, admin, current.hours, current.saturday_ranks, "alsace-moselle")
    finally:
        ws.close()
    with pytest.raises(BookingRefused, match="Jour férié"):
        booking.book(agenda.ws, agenda.reception, _req(agenda, at(good_friday, 10)), now=NOW)


def test_settings_refuse_a_range_ending_before_it_starts(agenda: Agenda) -> None:
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(ValidationFailed, match="se termine avant de commencer"):
            settings.save_settings(ws, admin, {0: [(time(12), time(9))]})
    finally:
        ws.close()
    with pytest.raises(PermissionDenied):
        settings.save_settings(agenda.ws, agenda.reception, {0: [(time(9), time(12))]})


def test_unscheduled_care_opens_to_reception_on_the_day_only(agenda: Agenda) -> None:
    request = _req(agenda, at(MONDAY, 15), type_code="unscheduled")
    with pytest.raises(BookingRefused, match="que le jour même"):
        booking.book(agenda.ws, agenda.reception, request, now=NOW)
    same_day = booking.book(agenda.ws, agenda.reception, request, now=at(MONDAY, 8))
    assert same_day.type_code == "unscheduled"
    doctor_ws, doctor = agenda.centre.login("dr.test")
    try:
        ahead = booking.book(
            doctor_ws, doctor, _req(agenda, at(MONDAY, 16), type_code="unscheduled"), now=NOW
        )
    finally:
        doctor_ws.close()
    assert ahead.start == at(MONDAY, 16)


def test_patient_booked_elsewhere_is_a_warning_not_a_refusal(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    other = BookingRequest(
        agenda.visitor_id,
        at(MONDAY, 9, 10),
        patient_id=agenda.patient_a,
        room_id=agenda.room2,
        type_code="consultation",
    )
    # The visitor's range is in Cabinet 1: booking elsewhere still needs the visitor free.
    appt = booking.book(agenda.ws, agenda.reception, other, now=NOW)
    assert any("Patient déjà attendu" in w for w in appt.warnings)


def test_move_checks_again_and_cancel_keeps_history(agenda: Agenda) -> None:
    first = booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    second = booking.book(
        agenda.ws,
        agenda.reception,
        _req(agenda, at(MONDAY, 9, 40), patient_id=agenda.patient_b),
        now=NOW,
    )
    with pytest.raises(BookingRefused):
        booking.move(agenda.ws, agenda.reception, first.id, at(MONDAY, 9, 30), now=NOW)
    moved = booking.move(agenda.ws, agenda.reception, first.id, at(MONDAY, 10), now=NOW)
    assert moved.start == at(MONDAY, 10)
    with pytest.raises(ValidationFailed, match="motif"):
        booking.cancel(agenda.ws, agenda.reception, second.id, "  ")
    cancelled = booking.cancel(agenda.ws, agenda.reception, second.id, "Patient empêché")
    assert cancelled.status == VisitStatus.CANCELLED
    assert cancelled.cancel_reason == "Patient empêché"
    day = views.day_agenda(agenda.ws, agenda.reception, MONDAY)
    column = next(c for c in day.columns if c.key == agenda.doctor_id)
    assert {a.id: a.cancelled for a in column.appointments} == {first.id: False, second.id: True}
    # The freed slot can be booked again.
    booking.book(
        agenda.ws,
        agenda.reception,
        _req(agenda, at(MONDAY, 9, 40), patient_id=agenda.patient_b),
        now=NOW,
    )


def test_series_lists_collisions_before_booking(agenda: Agenda) -> None:
    # Nursing care every Monday for 6 weeks crosses Easter Monday (22/04/2030) from 01/04.
    start = at(date(2030, 4, 1), 9)
    booking.book(
        agenda.ws,
        agenda.reception,
        _req(agenda, at(date(2030, 4, 8), 9), patient_id=agenda.patient_b),
        now=NOW,
    )
    request = _req(agenda, start)
    rule = SeriesRule(Frequency.WEEKLY, count=6)
    outcome = booking.book_series(agenda.ws, agenda.reception, request, rule, now=NOW)
    assert outcome.booked == ()
    assert [o.start.date() for o in outcome.collisions] == [date(2030, 4, 8), date(2030, 4, 22)]
    assert any("Lundi de Pâques" in e for o in outcome.collisions for e in o.errors)
    done = booking.book_series(agenda.ws, agenda.reception, request, rule, confirm=True, now=NOW)
    assert len(done.booked) == 4
    assert len({b.series_id for b in done.booked}) == 1


def test_refused_booking_saves_nothing(agenda: Agenda) -> None:
    with pytest.raises(BookingRefused):
        booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 7)), now=NOW)
    day = views.day_agenda(agenda.ws, agenda.reception, MONDAY)
    assert all(not c.appointments for c in day.columns)


def test_disabled_practitioner_cannot_be_booked(agenda: Agenda) -> None:
    resources.set_practitioner_active(agenda.ws, agenda.reception, agenda.visitor_id, False)
    with pytest.raises(BookingRefused, match="Praticien désactivé"):
        booking.book(
            agenda.ws,
            agenda.reception,
            BookingRequest(agenda.visitor_id, at(MONDAY, 9), patient_id=agenda.patient_a),
            now=NOW,
        )


def test_next_free_slot_skips_booked_time_and_closed_days(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    slots = views.next_free_slot(
        agenda.ws,
        agenda.reception,
        practitioner_id=agenda.doctor_id,
        from_dt=at(MONDAY, 9),
        now=NOW,
        limit=2,
    )
    assert [s.start for s in slots] == [at(MONDAY, 9, 20), at(MONDAY, 9, 40)]
    anyone = views.next_free_slot(
        agenda.ws, agenda.reception, from_dt=at(MONDAY + timedelta(2), 8), now=NOW, limit=1
    )
    assert anyone[0].start == at(MONDAY + timedelta(days=3), 9)  # Wednesday closed


def test_doctor_sees_own_day_reception_has_no_own_view(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9)), now=NOW)
    ws, doctor = agenda.centre.login("dr.test")
    try:
        mine = views.my_day(ws, doctor, MONDAY)
    finally:
        ws.close()
    assert [c.key for c in mine.columns] == [agenda.doctor_id]
    assert len(mine.columns[0].appointments) == 1
    with pytest.raises(PermissionDenied):
        views.my_day(agenda.ws, agenda.reception, MONDAY)
    ws, admin = agenda.centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            booking.book(ws, admin, _req(agenda, at(MONDAY, 11)), now=NOW)
    finally:
        ws.close()


def test_month_load_counts_booked_minutes(agenda: Agenda) -> None:
    booking.book(agenda.ws, agenda.reception, _req(agenda, at(MONDAY, 9), minutes=40), now=NOW)
    loads = {d.day: d for d in views.month_load(agenda.ws, agenda.reception, 2030, 3)}
    assert loads[MONDAY].booked_minutes == 40
    assert loads[MONDAY + timedelta(days=2)].available_minutes == 0
