"""Practitioner consulting ranges, visiting rules, absences and available time."""

from datetime import date, datetime, time, timedelta

import pytest

from cms_desktop.domain.agenda.errors import InvalidRangeError, OverlappingRangesError
from cms_desktop.domain.agenda.hours import Closure, Weekday, alencon_calendar, time_range
from cms_desktop.domain.agenda.practitioner import (
    Absence,
    ConsultingRange,
    EveryNWeeks,
    EveryWeek,
    MonthlyNthWeekday,
    PractitionerSchedule,
)

CENTRE = alencon_calendar()
MONDAY = date(2027, 6, 7)


def _spans(
    schedule: PractitionerSchedule, day: date, **kw: bool
) -> list[tuple[str, str, str | None]]:
    return [
        (f"{r.start:%H:%M}", f"{r.end:%H:%M}", r.room_id)
        for r in schedule.available_ranges(day, CENTRE, **kw)
    ]


def test_third_wednesday_of_the_month() -> None:
    rule = MonthlyNthWeekday(n=3, weekday=Weekday.WEDNESDAY)
    june_wednesdays = [date(2027, 6, d) for d in (2, 9, 16, 23, 30)]
    assert [rule.matches(d) for d in june_wednesdays] == [False, False, True, False, False]
    assert not rule.matches(date(2027, 6, 17))
    assert rule.describe() == "le 3e mercredi du mois"


def test_last_weekday_of_the_month() -> None:
    rule = MonthlyNthWeekday(n=-1, weekday=Weekday.TUESDAY)
    assert rule.matches(date(2027, 6, 29))
    assert not rule.matches(date(2027, 6, 22))
    with pytest.raises(InvalidRangeError):
        MonthlyNthWeekday(n=6, weekday=1)


def test_every_other_week_rota() -> None:
    rule = EveryNWeeks(weekday=Weekday.TUESDAY, interval=2, anchor=date(2027, 6, 1))
    tuesdays = [date(2027, 6, d) for d in (1, 8, 15, 22, 29)]
    assert [rule.matches(d) for d in tuesdays] == [True, False, True, False, True]


def test_available_ranges_intersect_the_centre_hours() -> None:
    doctor = PractitionerSchedule(
        "p1",
        "Dr Martin",
        (ConsultingRange(EveryWeek(Weekday.MONDAY), time_range("8:00", "18:00"), "room1"),),
    )
    assert _spans(doctor, MONDAY) == [("09:00", "12:40", "room1"), ("13:40", "18:00", "room1")]
    assert _spans(doctor, date(2027, 6, 8)) == []  # no range on Tuesday


def test_visiting_team_on_a_closed_wednesday_needs_its_own_hours() -> None:
    # Alençon closes on Wednesdays, yet the mobile vaccination team comes every third one.
    def team(own_hours: bool) -> PractitionerSchedule:
        rule = MonthlyNthWeekday(3, Weekday.WEDNESDAY)
        hours = time_range("9:00", "12:00")
        return PractitionerSchedule(
            "vac", "Équipe mobile", (ConsultingRange(rule, hours, "r6", own_hours=own_hours),)
        )

    third_wednesday = date(2027, 6, 16)
    assert [r.room_id for r in team(False).consulting_ranges_on(third_wednesday)] == ["r6"]
    assert _spans(team(False), third_wednesday) == []
    assert _spans(team(True), third_wednesday) == [("09:00", "12:00", "r6")]
    assert _spans(team(True), date(2027, 6, 9)) == []
    # Holidays and closures still win: 15 August 2029 is a third Wednesday.
    assert _spans(team(True), date(2029, 8, 15)) == []
    closed = alencon_calendar(closures=[Closure(third_wednesday, third_wednesday, "travaux")])
    assert team(True).available_ranges(third_wednesday, closed) == []


def test_tuesday_afternoon_four_hours() -> None:
    social_worker = PractitionerSchedule(
        "ccas",
        "M. Durand",
        (ConsultingRange(EveryWeek(Weekday.TUESDAY), time_range("14:00", "18:00"), "r5"),),
    )
    spans = _spans(social_worker, date(2027, 6, 8))
    assert spans == [("14:00", "18:00", "r5")]


def test_absences_are_cut_out_of_the_available_ranges() -> None:
    doctor = PractitionerSchedule(
        "p1",
        "Dr Martin",
        (ConsultingRange(EveryWeek(Weekday.MONDAY), time_range("9:00", "19:00"), "room1"),),
        absences=(
            Absence(datetime(2027, 6, 7, 10, 0), datetime(2027, 6, 7, 11, 0), "formation"),
            Absence.whole_days(date(2027, 6, 14), date(2027, 6, 18), "congés"),
        ),
    )
    assert _spans(doctor, MONDAY) == [
        ("09:00", "10:00", "room1"),
        ("11:00", "12:40", "room1"),
        ("13:40", "19:00", "room1"),
    ]
    assert _spans(doctor, date(2027, 6, 14)) == []
    absence = doctor.absence_during(datetime(2027, 6, 15, 9), datetime(2027, 6, 15, 9, 20))
    assert absence is not None and absence.reason == "congés"
    with pytest.raises(InvalidRangeError):
        Absence(datetime(2027, 6, 7, 11), datetime(2027, 6, 7, 10), "x")


def test_inactive_practitioner_has_no_time() -> None:
    doctor = PractitionerSchedule(
        "p1",
        "Dr Martin",
        (ConsultingRange(EveryWeek(Weekday.MONDAY), time_range("9:00", "12:00"), "room1"),),
        active=False,
    )
    assert _spans(doctor, MONDAY) == []


def test_home_visit_ranges_ignore_opening_hours_but_not_holidays() -> None:
    doctor = PractitionerSchedule(
        "p1",
        "Dr Martin",
        (ConsultingRange(EveryWeek(Weekday.WEDNESDAY), time_range("14:00", "17:00"), "room1"),),
    )
    wednesday = date(2027, 6, 9)
    assert _spans(doctor, wednesday) == []
    assert _spans(doctor, wednesday, at_centre=False) == [("14:00", "17:00", None)]
    assert _spans(doctor, date(2027, 7, 14), at_centre=False) == []  # Fête nationale


def test_overlapping_ranges_that_can_meet_are_refused() -> None:
    # Neither range has a start date: the message names the weekday, not an arbitrary date.
    with pytest.raises(OverlappingRangesError, match="Dr Martin se chevauchent le mardi :"):
        PractitionerSchedule(
            "p1",
            "Dr Martin",
            (
                ConsultingRange(EveryWeek(Weekday.TUESDAY), time_range("9:00", "12:00"), "r1"),
                ConsultingRange(
                    MonthlyNthWeekday(2, Weekday.TUESDAY), time_range("11:00", "13:00"), "r2"
                ),
            ),
        )


def test_ranges_on_days_that_never_meet_are_accepted() -> None:
    schedule = PractitionerSchedule(
        "p1",
        "Dr Martin",
        (
            ConsultingRange(
                MonthlyNthWeekday(1, Weekday.TUESDAY), time_range("9:00", "12:00"), "r1"
            ),
            ConsultingRange(
                MonthlyNthWeekday(3, Weekday.TUESDAY), time_range("9:00", "12:00"), "r2"
            ),
            ConsultingRange(
                EveryWeek(Weekday.THURSDAY),
                time_range("9:00", "12:00"),
                "r3",
                valid_until=date(2027, 6, 30),
            ),
            ConsultingRange(
                EveryWeek(Weekday.THURSDAY),
                time_range("9:00", "12:00"),
                "r4",
                valid_from=date(2027, 7, 1),
            ),
        ),
    )
    assert [r.room_id for r in schedule.consulting_ranges_on(date(2027, 6, 15))] == ["r2"]
    assert [r.room_id for r in schedule.consulting_ranges_on(date(2027, 6, 24))] == ["r3"]
    assert [r.room_id for r in schedule.consulting_ranges_on(date(2027, 7, 1))] == ["r4"]
    assert schedule.consulting_ranges_on(date(2027, 6, 22)) == []


def test_time_of_the_day_is_not_confused_with_a_date() -> None:
    assert time_range("13:40", "19:00").on(MONDAY) == (
        datetime.combine(MONDAY, time(13, 40)),
        datetime.combine(MONDAY, time(19, 0)),
    )


def test_overlap_of_dated_ranges_names_the_first_day_they_meet() -> None:
    with pytest.raises(OverlappingRangesError, match="se chevauchent le 14/06/2027 :"):
        PractitionerSchedule(
            "p1",
            "Dr Martin",
            (
                ConsultingRange(EveryWeek(Weekday.MONDAY), time_range("9:00", "12:00"), "r1"),
                ConsultingRange(
                    EveryWeek(Weekday.MONDAY),
                    time_range("11:00", "13:00"),
                    "r2",
                    valid_from=MONDAY + timedelta(days=3),
                ),
            ),
        )
