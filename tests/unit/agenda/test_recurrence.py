"""Recurring series and their per-occurrence booking checks."""

from datetime import date, datetime, timedelta

import pytest

from cms_desktop.domain.agenda.appointments import (
    AppointmentCandidate,
    AppointmentType,
    BookedAppointment,
    Interval,
    IssueCode,
)
from cms_desktop.domain.agenda.errors import InvalidRecurrenceError
from cms_desktop.domain.agenda.hours import Weekday, alencon_calendar, time_range
from cms_desktop.domain.agenda.practitioner import ConsultingRange, EveryWeek, PractitionerSchedule
from cms_desktop.domain.agenda.recurrence import (
    MAX_OCCURRENCES,
    Frequency,
    SeriesRule,
    occurrences,
    plan_series,
)

CENTRE = alencon_calendar()
NURSE = PractitionerSchedule(
    "n1",
    "Mme Petit",
    tuple(
        ConsultingRange(EveryWeek(wd), time_range("9:00", "12:00"), "soins")
        for wd in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.THURSDAY, Weekday.FRIDAY)
    ),
)


def first(day: date, hour: int = 10) -> Interval:
    start = datetime(day.year, day.month, day.day, hour)
    return Interval(start, start + timedelta(minutes=15))


def test_every_monday_for_six_weeks_keeps_the_time() -> None:
    # Crosses the switch to summer time (28 March 2027): wall-clock time stays 10:00.
    result = occurrences(first(date(2027, 3, 15)), SeriesRule.weekly(6))
    assert [iv.start for iv in result] == [
        datetime(2027, 3, 15, 10) + timedelta(weeks=k) for k in range(6)
    ]
    assert all(iv.length == timedelta(minutes=15) for iv in result)


def test_every_other_day_until_a_date() -> None:
    rule = SeriesRule(Frequency.DAILY, interval=2, until=date(2027, 6, 15))
    days = [iv.start.date() for iv in occurrences(first(date(2027, 6, 7)), rule)]
    assert days == [date(2027, 6, d) for d in (7, 9, 11, 13, 15)]


def test_several_weekdays_each_week() -> None:
    rule = SeriesRule(Frequency.WEEKLY, count=7, weekdays=frozenset({0, 2, 4}))
    days = [iv.start.date() for iv in occurrences(first(date(2027, 6, 9)), rule)]
    assert days == [date(2027, 6, d) for d in (9, 11, 14, 16, 18, 21, 23)]
    with pytest.raises(InvalidRecurrenceError, match="un des jours choisis"):
        occurrences(first(date(2027, 6, 8)), rule)


def test_every_two_weeks() -> None:
    rule = SeriesRule(Frequency.WEEKLY, interval=2, count=3)
    days = [iv.start.date() for iv in occurrences(first(date(2027, 6, 7)), rule)]
    assert days == [date(2027, 6, 7), date(2027, 6, 21), date(2027, 7, 5)]


def test_invalid_rules_are_refused_in_french() -> None:
    with pytest.raises(InvalidRecurrenceError, match="nombre de rendez-vous ou une date de fin"):
        SeriesRule(Frequency.WEEKLY)
    with pytest.raises(InvalidRecurrenceError):
        SeriesRule(Frequency.DAILY, interval=0, count=3)
    with pytest.raises(InvalidRecurrenceError):
        SeriesRule(Frequency.DAILY, count=MAX_OCCURRENCES + 1)
    with pytest.raises(InvalidRecurrenceError, match="dépasserait"):
        occurrences(first(date(2027, 1, 4)), SeriesRule(Frequency.DAILY, until=date(2030, 1, 1)))
    with pytest.raises(InvalidRecurrenceError, match="précède"):
        occurrences(first(date(2027, 6, 7)), SeriesRule(Frequency.DAILY, until=date(2027, 6, 1)))


def test_series_crossing_easter_monday_flags_that_occurrence() -> None:
    candidate = AppointmentCandidate(
        first(date(2027, 3, 15)), AppointmentType.NURSING_CARE, "n1", "soins", "pat1"
    )
    clash = BookedAppointment(
        "b1", first(date(2027, 4, 12), hour=10), "n1", "Mme Petit", "soins", "pat9"
    )
    planned = plan_series(
        candidate,
        SeriesRule.weekly(6),
        centre=CENTRE,
        practitioner_schedule=NURSE,
        existing_for_practitioner=[clash],
        existing_for_room=[clash],
        existing_for_patient=[],
        now=datetime(2027, 3, 1),
    )
    by_day = {p.candidate.interval.start.date(): p for p in planned}
    assert len(planned) == 6
    easter = by_day[date(2027, 3, 29)]
    assert not easter.ok
    assert [i.message for i in easter.check.errors] == ["Jour férié : Lundi de Pâques"]
    assert by_day[date(2027, 4, 12)].check.has(IssueCode.PRACTITIONER_OVERLAP)
    assert [d for d, p in by_day.items() if p.ok] == [
        date(2027, 3, 15),
        date(2027, 3, 22),
        date(2027, 4, 5),
        date(2027, 4, 19),
    ]
