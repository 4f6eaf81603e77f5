"""Appointment types, interval overlap and the booking check."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.agenda.appointments import (
    AppointmentCandidate,
    AppointmentType,
    BookedAppointment,
    BookingCheck,
    Interval,
    IssueCode,
    can_reception_book_unscheduled,
    check_booking,
)
from cms_desktop.domain.agenda.errors import InvalidRangeError
from cms_desktop.domain.agenda.hours import Weekday, alencon_calendar, time_range
from cms_desktop.domain.agenda.practitioner import (
    Absence,
    ConsultingRange,
    EveryWeek,
    PractitionerSchedule,
)

CENTRE = alencon_calendar()
NOW = datetime(2027, 1, 4, 8, 0)
MONDAY = date(2027, 6, 7)
DOCTOR = PractitionerSchedule(
    "p1",
    "Dr Martin",
    tuple(
        ConsultingRange(EveryWeek(wd), time_range("9:00", "19:00"), "room1")
        for wd in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.FRIDAY)
    ),
    absences=(Absence.whole_days(date(2027, 6, 21), date(2027, 6, 25), "congés"),),
)


def at(h: int, m: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, h, m)


def candidate(
    start: datetime,
    minutes: int = 20,
    kind: AppointmentType = AppointmentType.CONSULTATION,
    room: str | None = "room1",
    patient: str | None = "pat1",
    appointment_id: str | None = None,
) -> AppointmentCandidate:
    return AppointmentCandidate(
        Interval.of(start, timedelta(minutes=minutes)), kind, "p1", room, patient, appointment_id
    )


def booked(
    ident: str,
    start: datetime,
    minutes: int = 20,
    *,
    practitioner: str = "p1",
    name: str = "Dr Martin",
    room: str | None = "room1",
    patient: str | None = "other",
) -> BookedAppointment:
    return BookedAppointment(
        ident, Interval.of(start, timedelta(minutes=minutes)), practitioner, name, room, patient
    )


def check(
    cand: AppointmentCandidate,
    existing: list[BookedAppointment] | None = None,
    *,
    schedule: PractitionerSchedule = DOCTOR,
    now: datetime = NOW,
    reception: bool = False,
) -> BookingCheck:
    rows = existing or []
    return check_booking(
        cand,
        centre=CENTRE,
        practitioner_schedule=schedule,
        existing_for_practitioner=[b for b in rows if b.practitioner_id == cand.practitioner_id],
        existing_for_room=[b for b in rows if b.room_id == cand.room_id],
        existing_for_patient=[b for b in rows if b.patient_id == cand.patient_id],
        now=now,
        booked_by_reception=reception,
    )


def messages(result: BookingCheck) -> list[str]:
    return [i.message for i in result.errors]


def test_every_type_has_label_length_and_colour() -> None:
    for kind in AppointmentType:
        assert kind.label and kind.default_minutes > 0
        assert len(kind.colour) == 7 and kind.colour.startswith("#")
        int(kind.colour[1:], 16)
    assert AppointmentType("unscheduled").label == "Soin non programmé"
    assert not AppointmentType.HOME_VISIT.needs_room


def test_interval_refuses_end_before_start() -> None:
    with pytest.raises(InvalidRangeError):
        Interval(at(10), at(10))


minutes = st.integers(min_value=0, max_value=600)


@given(minutes, st.integers(1, 120), minutes, st.integers(1, 120))
def test_interval_overlap_is_sharing_a_minute(a: int, la: int, b: int, lb: int) -> None:
    base = at(0)
    first = Interval(base + timedelta(minutes=a), base + timedelta(minutes=a + la))
    second = Interval(base + timedelta(minutes=b), base + timedelta(minutes=b + lb))
    shared = set(range(a, a + la)) & set(range(b, b + lb))
    assert first.overlaps(second) == bool(shared) == second.overlaps(first)


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12)), max_size=8),
    st.integers(0, 40),
    st.integers(1, 12),
)
def test_an_overlapping_appointment_is_never_reported_free(
    existing: list[tuple[int, int]], start: int, length: int
) -> None:
    # Work on a 5-minute grid inside Monday morning's opening range.
    def t(k: int) -> datetime:
        return at(9) + timedelta(minutes=5 * k)

    rows = [booked(f"b{i}", t(s), 5 * n, room="roomX") for i, (s, n) in enumerate(existing)]
    result = check(candidate(t(start), 5 * length), rows)
    mine = set(range(start, start + length))
    clashing = [s for s, n in existing if mine & set(range(s, s + n))]
    overlaps = [i for i in result.errors if i.code == IssueCode.PRACTITIONER_OVERLAP]
    assert len(overlaps) == len(clashing)


def test_overlap_message_names_the_other_appointment() -> None:
    result = check(candidate(at(10, 10)), [booked("b1", at(10, 0))])
    assert not result.ok
    assert "Chevauche le rendez-vous de 10:00–10:20 du Dr Martin" in messages(result)


def test_back_to_back_appointments_are_fine() -> None:
    result = check(candidate(at(10, 20)), [booked("b1", at(10, 0))])
    assert result.ok, messages(result)


def test_moving_an_appointment_does_not_clash_with_itself() -> None:
    result = check(candidate(at(10, 10), appointment_id="b1"), [booked("b1", at(10, 0))])
    assert result.ok, messages(result)


def test_room_taken_by_another_practitioner() -> None:
    other = booked("b2", at(11), practitioner="p2", name="Mme Durand")
    result = check(candidate(at(11, 5)), [other])
    assert result.has(IssueCode.ROOM_OVERLAP)
    assert "Salle occupée par le rendez-vous de 11:00–11:20 de Mme Durand" in messages(result)


def test_patient_booked_elsewhere_is_only_a_warning() -> None:
    elsewhere = booked(
        "b3", at(11), practitioner="p2", name="Dr Leroy", room="room2", patient="pat1"
    )
    result = check(candidate(at(11, 10)), [elsewhere])
    assert result.ok
    assert [w.message for w in result.warnings] == [
        "Patient déjà attendu de 11:00–11:20 chez le Dr Leroy"
    ]


def test_outside_opening_hours() -> None:
    result = check(candidate(at(12, 30)))
    assert messages(result) == ["Hors des heures d'ouverture"]


def test_holiday_is_named() -> None:
    result = check(candidate(at(10, day=date(2027, 7, 14)), kind=AppointmentType.CONSULTATION))
    assert "Jour férié : Fête nationale" in messages(result)


def test_closed_weekday_is_named() -> None:
    result = check(candidate(at(10, day=date(2027, 6, 9))))
    assert messages(result) == ["Centre fermé le mercredi"]


def test_outside_practitioner_ranges() -> None:
    thursday = date(2027, 6, 10)
    result = check(candidate(at(10, day=thursday)))
    assert messages(result) == ["Hors des plages de consultation du Dr Martin"]


def test_absent_practitioner() -> None:
    result = check(candidate(at(10, day=date(2027, 6, 22))))
    assert messages(result) == ["Praticien absent : congés"]


def test_past_and_inactive() -> None:
    inactive = PractitionerSchedule("p1", "Dr Martin", DOCTOR.ranges, active=False)
    result = check(candidate(at(10)), schedule=inactive, now=at(11))
    assert set(messages(result)) >= {"Rendez-vous dans le passé", "Praticien désactivé"}


def test_room_is_required_for_a_consultation() -> None:
    assert check(candidate(at(10), room=None)).has(IssueCode.ROOM_MISSING)


def test_home_visit_needs_no_room_and_may_be_outside_centre_hours() -> None:
    wednesday = date(2027, 6, 9)  # centre closed, practitioner consulting
    visit = candidate(at(15, day=wednesday), 45, AppointmentType.HOME_VISIT, room=None)
    assert check(visit).ok, messages(check(visit))
    thursday = date(2027, 6, 10)  # no practitioner range
    visit = candidate(at(15, day=thursday), 45, AppointmentType.HOME_VISIT, room=None)
    assert check(visit).has(IssueCode.OUTSIDE_PRACTITIONER_RANGES)


def test_blocked_time_ignores_hours_but_not_overlaps() -> None:
    block = candidate(at(12, 40), 60, AppointmentType.BLOCKED, room=None, patient=None)
    assert check(block).ok
    assert check(block, [booked("b1", at(12, 30))]).has(IssueCode.PRACTITIONER_OVERLAP)


def test_unscheduled_slots_reach_reception_on_the_day_only() -> None:
    assert can_reception_book_unscheduled(MONDAY, MONDAY)
    assert not can_reception_book_unscheduled(MONDAY, MONDAY - timedelta(days=1))
    slot = candidate(at(17), 15, AppointmentType.UNSCHEDULED)
    assert check(slot, reception=True, now=at(8)).ok
    early = check(slot, reception=True, now=at(8) - timedelta(days=1))
    assert early.has(IssueCode.UNSCHEDULED_NOT_RELEASED)
    assert check(slot, reception=False, now=at(8) - timedelta(days=1)).ok


def test_appointment_across_midnight_is_refused() -> None:
    late = candidate(at(23, 50), 30, AppointmentType.BLOCKED, room=None, patient=None)
    assert check(late).has(IssueCode.SPANS_DAYS)
