"""Opening hours of the centre: weekly ranges, the Saturday rota, closures and public holidays.

All times are naive wall-clock times in Europe/Paris; the storage layer converts to UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum
from itertools import pairwise
from typing import Protocol

import holidays
from holidays.countries.france import France

from cms_desktop.domain.agenda.errors import (
    InvalidRangeError,
    OverlappingRangesError,
    UnknownSubdivisionError,
)


class Weekday(IntEnum):
    """Day of the week, numbered as `date.weekday()` (Monday = 0)."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6

    @property
    def label(self) -> str:
        return _WEEKDAY_LABELS[self]


_WEEKDAY_LABELS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def format_time(t: time) -> str:
    """French short time, as shown in the agenda: 09:00."""
    return f"{t.hour:02d}:{t.minute:02d}"


def ordinal_fr(n: int) -> str:
    """French ordinal for a rank in the month: 1er, 2e, 3e…"""
    return "1er" if n == 1 else f"{n}e"


@dataclass(frozen=True, order=True)
class TimeRange:
    """A half-open range of wall-clock time within one day: [start, end)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRangeError("La plage se termine avant de commencer")

    @property
    def minutes(self) -> int:
        return (_seconds(self.end) - _seconds(self.start)) // 60

    def overlaps(self, other: TimeRange) -> bool:
        return self.start < other.end and other.start < self.end

    def on(self, day: date) -> tuple[datetime, datetime]:
        """The range as datetimes on a given day."""
        return datetime.combine(day, self.start), datetime.combine(day, self.end)

    def __str__(self) -> str:
        return f"{format_time(self.start)}–{format_time(self.end)}"


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def hm(text: str) -> time:
    """Parse "9:00" or "09h00" into a time; a convenience for literals and settings."""
    hours, _, minutes = text.replace("h", ":").partition(":")
    return time(int(hours), int(minutes or 0))


def time_range(start: str, end: str) -> TimeRange:
    """TimeRange from two literals, e.g. time_range("9:00", "12:40")."""
    return TimeRange(hm(start), hm(end))


def check_no_overlap(ranges: Iterable[TimeRange], what: str) -> tuple[TimeRange, ...]:
    """Sort the ranges and refuse any two that overlap; `what` names the day in the message."""
    ordered = tuple(sorted(ranges))
    for previous, current in pairwise(ordered):
        if previous.overlaps(current):
            raise OverlappingRangesError(
                f"Les plages du {what} se chevauchent : {previous} et {current}"
            )
    return ordered


@dataclass(frozen=True, init=False)
class WeeklyHours:
    """Opening ranges for each weekday; a weekday without ranges is closed."""

    by_weekday: tuple[tuple[TimeRange, ...], ...]

    def __init__(self, ranges: Mapping[int, Iterable[TimeRange]]) -> None:
        days: list[tuple[TimeRange, ...]] = [() for _ in Weekday]
        for weekday, day_ranges in ranges.items():
            wd = Weekday(weekday)
            days[wd] = check_no_overlap(day_ranges, wd.label)
        object.__setattr__(self, "by_weekday", tuple(days))

    def ranges_for(self, weekday: int) -> tuple[TimeRange, ...]:
        return self.by_weekday[weekday]


class SaturdayRule(Protocol):
    """Which Saturdays the centre opens ("three Saturdays out of four")."""

    def is_open(self, day: date) -> bool: ...

    def closed_label(self, day: date) -> str: ...


def nth_weekday_of_month(day: date) -> int:
    """Rank of this weekday in its month: 1 for the first Monday, 5 for a fifth one."""
    return (day.day - 1) // 7 + 1


@dataclass(frozen=True)
class NthSaturdaysOfMonth:
    """Open on the listed Saturdays of each month (1 = first Saturday); easy to tell patients."""

    open_ranks: frozenset[int]

    def is_open(self, day: date) -> bool:
        return nth_weekday_of_month(day) in self.open_ranks

    def closed_label(self, day: date) -> str:
        rank = ordinal_fr(nth_weekday_of_month(day))
        return f"Centre fermé le {rank} samedi du mois"


@dataclass(frozen=True)
class SaturdayRotation:
    """Open in a rota of `cycle` Saturdays counted from `anchor`, closed at `closed_positions`.

    Position 0 is the anchor Saturday itself; with cycle=4 and closed_positions={3}, the
    centre is open three Saturdays, closed the fourth, whatever the month.
    """

    anchor: date
    cycle: int = 4
    closed_positions: frozenset[int] = frozenset({3})

    def __post_init__(self) -> None:
        if self.anchor.weekday() != Weekday.SATURDAY:
            raise InvalidRangeError("La rotation des samedis doit partir d'un samedi")
        if self.cycle < 1:
            raise InvalidRangeError(
                "Le cycle de rotation des samedis doit compter au moins un samedi"
            )

    def is_open(self, day: date) -> bool:
        position = ((day - self.anchor).days // 7) % self.cycle
        return position not in self.closed_positions

    def closed_label(self, day: date) -> str:
        return "Centre fermé ce samedi (rotation)"


@dataclass(frozen=True)
class Closure:
    """The centre closed over whole days, first and last included (e.g. summer closure)."""

    first_day: date
    last_day: date
    label: str

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise InvalidRangeError("La fermeture se termine avant de commencer")

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


# Department numbers people type, mapped to the holidays package's own codes: since 2021 the
# package files Bas-Rhin and Haut-Rhin under the Collectivité européenne d'Alsace ("6AE").
_SUBDIVISION_ALIASES = {"67": "6AE", "68": "6AE", "ALSACE-MOSELLE": "57"}


def resolve_subdivision(subdivision: str | None) -> str | None:
    """The holidays-package subdivision code for a department or name; None = metropolitan."""
    if subdivision is None or subdivision.strip() == "":
        return None
    code = subdivision.strip()
    code = _SUBDIVISION_ALIASES.get(code.upper(), code)
    france = France
    if code in france.subdivisions:
        return code
    aliases: Mapping[str, str] = getattr(france, "subdivisions_aliases", {})
    if code in aliases:
        return aliases[code]
    raise UnknownSubdivisionError(f"Territoire inconnu pour les jours fériés : {subdivision}")


@dataclass(frozen=True)
class CentreCalendar:
    """When the centre is open: weekly hours, Saturday rota, closures and public holidays.

    Public holidays come from the `holidays` package (country FR); `subdivision` selects a
    territory with its own days, e.g. "57"/"67"/"68" for Alsace-Moselle (Good Friday,
    26 December) or "974" for La Réunion.
    """

    weekly_hours: WeeklyHours
    saturday_rule: SaturdayRule | None = None
    closures: tuple[Closure, ...] = ()
    subdivision: str | None = None
    _holidays: holidays.HolidayBase = field(init=False, repr=False, compare=False)
    # Slot searches ask for the same days once per practitioner; the answer never changes.
    _opening_cache: dict[date, tuple[TimeRange, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        calendar = holidays.country_holidays(
            "FR", subdiv=resolve_subdivision(self.subdivision), language="fr"
        )
        object.__setattr__(self, "_holidays", calendar)

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return None if name is None else str(name)

    def closure_on(self, day: date) -> Closure | None:
        return next((c for c in self.closures if c.covers(day)), None)

    def closure_reason(self, day: date) -> str | None:
        """Why the centre is closed all day, in French; None when it opens that day."""
        holiday = self.holiday_name(day)
        if holiday is not None:
            return f"Jour férié : {holiday}"
        closure = self.closure_on(day)
        if closure is not None:
            return f"Fermeture : {closure.label}"
        weekday = Weekday(day.weekday())
        if not self.weekly_hours.ranges_for(weekday):
            return f"Centre fermé le {weekday.label}"
        if (
            weekday == Weekday.SATURDAY
            and self.saturday_rule is not None
            and not self.saturday_rule.is_open(day)
        ):
            return self.saturday_rule.closed_label(day)
        return None

    def is_day_blocked(self, day: date) -> str | None:
        """Holiday or closure only (what also stops work away from the centre), in French."""
        holiday = self.holiday_name(day)
        if holiday is not None:
            return f"Jour férié : {holiday}"
        closure = self.closure_on(day)
        return None if closure is None else f"Fermeture : {closure.label}"

    def opening_ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        cached = self._opening_cache.get(day)
        if cached is None:
            closed = self.closure_reason(day) is not None
            cached = () if closed else self.weekly_hours.ranges_for(day.weekday())
            self._opening_cache[day] = cached
        return cached

    def is_open_at(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) lies inside a single opening range of one day."""
        if end <= start:
            return False
        day = start.date()
        return any(
            r_start <= start and end <= r_end
            for r_start, r_end in (r.on(day) for r in self.opening_ranges_on(day))
        )


DEFAULT_ALENCON_HOURS = WeeklyHours(
    {
        Weekday.MONDAY: (time_range("9:00", "12:40"), time_range("13:40", "19:00")),
        Weekday.TUESDAY: (time_range("9:00", "12:40"), time_range("13:40", "19:00")),
        Weekday.THURSDAY: (time_range("9:00", "12:40"), time_range("13:40", "19:00")),
        Weekday.FRIDAY: (time_range("9:00", "12:40"), time_range("13:40", "19:00")),
        Weekday.SATURDAY: (time_range("9:00", "12:00"),),
    }
)
"""Centre municipal de santé d'Alençon, as published by the town (Wednesday closed)."""

DEFAULT_ALENCON_SATURDAYS = NthSaturdaysOfMonth(frozenset({1, 2, 3}))
""""Samedi (3 sur 4)": open the first three Saturdays of the month, closed on the 4th and 5th."""


def alencon_calendar(
    closures: Iterable[Closure] = (), subdivision: str | None = None
) -> CentreCalendar:
    """The Alençon defaults, with the centre's own closures."""
    return CentreCalendar(
        weekly_hours=DEFAULT_ALENCON_HOURS,
        saturday_rule=DEFAULT_ALENCON_SATURDAYS,
        closures=tuple(closures),
        subdivision=subdivision,
    )
