"""Opening hours, the Saturday rota, closures and French public holidays."""

from datetime import date, datetime, time, timedelta

import pytest

from cms_desktop.domain.agenda.errors import (
    InvalidRangeError,
    OverlappingRangesError,
    UnknownSubdivisionError,
)
from cms_desktop.domain.agenda.hours import (
    DEFAULT_ALENCON_HOURS,
    CentreCalendar,
    Closure,
    NthSaturdaysOfMonth,
    SaturdayRotation,
    TimeRange,
    Weekday,
    WeeklyHours,
    alencon_calendar,
    time_range,
)

METROPOLE = alencon_calendar()


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 1), "Jour de l'an"),
        (date(2027, 3, 29), "Lundi de Pâques"),
        (date(2027, 5, 1), "Fête du Travail"),
        (date(2027, 5, 6), "Ascension"),
        (date(2027, 5, 8), "Fête de la Victoire"),
        (date(2027, 5, 17), "Lundi de Pentecôte"),
        (date(2027, 7, 14), "Fête nationale"),
        (date(2027, 8, 15), "Assomption"),
        (date(2027, 11, 1), "Toussaint"),
        (date(2027, 11, 11), "Armistice"),
        (date(2027, 12, 25), "Noël"),
    ],
)
def test_metropolitan_public_holidays_close_the_centre(day: date, name: str) -> None:
    assert METROPOLE.holiday_name(day) == name
    assert METROPOLE.closure_reason(day) == f"Jour férié : {name}"
    assert METROPOLE.opening_ranges_on(day) == ()


def test_easter_monday_2027_is_29_march() -> None:
    assert METROPOLE.holiday_name(date(2027, 3, 29)) == "Lundi de Pâques"
    assert METROPOLE.holiday_name(date(2027, 3, 22)) is None
    # The Monday after is an ordinary Monday with both ranges.
    assert len(METROPOLE.opening_ranges_on(date(2027, 4, 5))) == 2


@pytest.mark.parametrize("subdivision", ["57", "67", "68", "6AE", "Moselle", "Alsace-Moselle"])
def test_good_friday_and_26_december_only_in_alsace_moselle(subdivision: str) -> None:
    alsace = CentreCalendar(DEFAULT_ALENCON_HOURS, subdivision=subdivision)
    assert alsace.closure_reason(date(2027, 3, 26)) == "Jour férié : Vendredi saint"
    assert alsace.closure_reason(date(2027, 12, 26)) == "Jour férié : Saint-Étienne"
    assert alsace.holiday_name(date(2027, 3, 29)) == "Lundi de Pâques"


def test_metropole_has_no_good_friday_nor_26_december() -> None:
    assert METROPOLE.holiday_name(date(2027, 3, 26)) is None
    assert METROPOLE.holiday_name(date(2026, 12, 26)) is None
    # Friday 26 March 2027 is an ordinary Friday in Alençon.
    assert METROPOLE.opening_ranges_on(date(2027, 3, 26)) == DEFAULT_ALENCON_HOURS.ranges_for(
        Weekday.FRIDAY
    )


def test_overseas_subdivision_adds_its_own_days() -> None:
    reunion = CentreCalendar(DEFAULT_ALENCON_HOURS, subdivision="974")
    assert reunion.holiday_name(date(2027, 12, 20)) is not None
    assert METROPOLE.holiday_name(date(2027, 12, 20)) is None


def test_unknown_subdivision_is_refused_in_french() -> None:
    with pytest.raises(UnknownSubdivisionError, match="Territoire inconnu"):
        CentreCalendar(DEFAULT_ALENCON_HOURS, subdivision="99")


def test_alencon_default_weekdays() -> None:
    monday = date(2027, 6, 7)
    assert [str(r) for r in METROPOLE.opening_ranges_on(monday)] == [
        "09:00–12:40",
        "13:40–19:00",
    ]
    for offset in (1, 3, 4):  # Tuesday, Thursday, Friday
        day = date(2027, 6, 7 + offset)
        assert METROPOLE.opening_ranges_on(day) == METROPOLE.opening_ranges_on(monday)
    assert METROPOLE.closure_reason(date(2027, 6, 9)) == "Centre fermé le mercredi"
    assert METROPOLE.closure_reason(date(2027, 6, 13)) == "Centre fermé le dimanche"


def test_alencon_opens_three_saturdays_a_month() -> None:
    # May 2027 has five Saturdays: 1, 8, 15, 22, 29.
    saturdays = [date(2027, 5, d) for d in (1, 8, 15, 22, 29)]
    open_days = [d for d in saturdays if METROPOLE.opening_ranges_on(d)]
    # 1 May (Fête du Travail) and 8 May (Victoire) are public holidays: only the 3rd opens.
    assert open_days == [date(2027, 5, 15)]
    assert METROPOLE.closure_reason(date(2027, 5, 1)) == "Jour férié : Fête du Travail"
    assert METROPOLE.closure_reason(date(2027, 5, 22)) == "Centre fermé le 4e samedi du mois"
    assert METROPOLE.closure_reason(date(2027, 5, 29)) == "Centre fermé le 5e samedi du mois"
    june_saturdays = [date(2027, 6, d) for d in (5, 12, 19, 26)]
    assert [bool(METROPOLE.opening_ranges_on(d)) for d in june_saturdays] == [
        True,
        True,
        True,
        False,
    ]
    assert [str(r) for r in METROPOLE.opening_ranges_on(date(2027, 6, 5))] == ["09:00–12:00"]


def test_saturday_rotation_closes_every_fourth_saturday() -> None:
    rota = SaturdayRotation(anchor=date(2027, 1, 2))
    saturdays = [date(2027, 1, 2) + timedelta(weeks=k) for k in range(8)]
    assert [rota.is_open(d) for d in saturdays] == [True, True, True, False] * 2
    with pytest.raises(InvalidRangeError):
        SaturdayRotation(anchor=date(2027, 1, 3))


def test_configurable_saturday_ranks() -> None:
    centre = CentreCalendar(
        DEFAULT_ALENCON_HOURS, saturday_rule=NthSaturdaysOfMonth(frozenset({2, 4}))
    )
    assert centre.opening_ranges_on(date(2027, 6, 5)) == ()
    assert centre.opening_ranges_on(date(2027, 6, 12)) != ()
    assert centre.closure_reason(date(2027, 6, 5)) == "Centre fermé le 1er samedi du mois"


def test_closure_takes_whole_days_and_names_its_label() -> None:
    centre = alencon_calendar(
        closures=[Closure(date(2027, 8, 2), date(2027, 8, 13), "congés d'été")]
    )
    assert centre.closure_reason(date(2027, 8, 2)) == "Fermeture : congés d'été"
    assert centre.closure_reason(date(2027, 8, 13)) == "Fermeture : congés d'été"
    assert centre.opening_ranges_on(date(2027, 8, 10)) == ()
    assert centre.closure_reason(date(2027, 8, 16)) is None
    with pytest.raises(InvalidRangeError):
        Closure(date(2027, 8, 2), date(2027, 8, 1), "x")


def test_time_range_refuses_end_before_start() -> None:
    with pytest.raises(InvalidRangeError, match="La plage se termine avant de commencer"):
        TimeRange(time(12, 0), time(9, 0))
    with pytest.raises(InvalidRangeError):
        TimeRange(time(9, 0), time(9, 0))
    assert time_range("9:00", "12:40").minutes == 220


def test_weekly_hours_refuse_overlapping_ranges() -> None:
    with pytest.raises(OverlappingRangesError, match=r"lundi.*09:00–12:40 et 12:00–14:00"):
        WeeklyHours({0: [time_range("9:00", "12:40"), time_range("12:00", "14:00")]})
    # Touching ranges share no minute: accepted.
    hours = WeeklyHours({0: [time_range("12:00", "14:00"), time_range("9:00", "12:00")]})
    assert [str(r) for r in hours.ranges_for(0)] == ["09:00–12:00", "12:00–14:00"]


def test_is_open_at_needs_one_whole_opening_range() -> None:
    monday = date(2027, 6, 7)

    def at(h: int, m: int) -> datetime:
        return datetime.combine(monday, time(h, m))

    assert METROPOLE.is_open_at(at(9, 0), at(9, 20))
    assert METROPOLE.is_open_at(at(12, 20), at(12, 40))
    assert not METROPOLE.is_open_at(at(12, 30), at(12, 50))  # runs into lunch
    assert not METROPOLE.is_open_at(at(12, 30), at(13, 50))  # spans the gap
    assert not METROPOLE.is_open_at(at(8, 50), at(9, 10))
    assert not METROPOLE.is_open_at(at(18, 50), at(19, 10))
    assert not METROPOLE.is_open_at(at(10, 0), at(10, 0))
    wednesday = datetime(2027, 6, 9, 10, 0)
    assert not METROPOLE.is_open_at(wednesday, wednesday.replace(minute=20))
