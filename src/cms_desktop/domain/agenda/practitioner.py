"""A practitioner's consulting ranges (weekly or visiting), absences and available time.

Ids (practitioner, room) are opaque strings, typically the UUID text of the stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from cms_desktop.domain.agenda.errors import InvalidRangeError, OverlappingRangesError
from cms_desktop.domain.agenda.hours import (
    CentreCalendar,
    TimeRange,
    Weekday,
    nth_weekday_of_month,
    ordinal_fr,
)


class DayRule(Protocol):
    """Which days a consulting range applies to."""

    @property
    def weekday(self) -> int: ...

    def matches(self, day: date) -> bool: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class EveryWeek:
    """Every week on this weekday (Monday = 0)."""

    weekday: int

    def __post_init__(self) -> None:
        Weekday(self.weekday)

    def matches(self, day: date) -> bool:
        return day.weekday() == self.weekday

    def describe(self) -> str:
        return f"chaque {Weekday(self.weekday).label}"


@dataclass(frozen=True)
class MonthlyNthWeekday:
    """The n-th given weekday of each month (n = 1..5, or -1 for the last one).

    E.g. the mobile vaccination team: MonthlyNthWeekday(n=3, weekday=2), third Wednesday.
    """

    n: int
    weekday: int

    def __post_init__(self) -> None:
        Weekday(self.weekday)
        if self.n not in (-1, 1, 2, 3, 4, 5):
            raise InvalidRangeError("Le rang dans le mois doit aller de 1 à 5 (ou -1 : le dernier)")

    def matches(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.n == -1:
            return (day + timedelta(days=7)).month != day.month
        return nth_weekday_of_month(day) == self.n

    def describe(self) -> str:
        label = Weekday(self.weekday).label
        rank = "dernier" if self.n == -1 else ordinal_fr(self.n)
        return f"le {rank} {label} du mois"


@dataclass(frozen=True)
class EveryNWeeks:
    """This weekday every `interval` weeks, counted from the week of `anchor` (a rota)."""

    weekday: int
    interval: int
    anchor: date

    def __post_init__(self) -> None:
        Weekday(self.weekday)
        if self.interval < 1:
            raise InvalidRangeError("L'intervalle doit être d'au moins une semaine")

    def matches(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        anchor_monday = self.anchor - timedelta(days=self.anchor.weekday())
        day_monday = day - timedelta(days=day.weekday())
        return ((day_monday - anchor_monday).days // 7) % self.interval == 0

    def describe(self) -> str:
        return f"un {Weekday(self.weekday).label} toutes les {self.interval} semaines"


@dataclass(frozen=True)
class ConsultingRange:
    """Hours a practitioner consults on the days a rule selects, in a room (None: no room).

    own_hours=True lets the range stand outside the centre's weekly hours — a partner team
    received on the centre's closed Wednesday; public holidays and closures still apply.
    """

    rule: DayRule
    hours: TimeRange
    room_id: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    own_hours: bool = False

    def __post_init__(self) -> None:
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise InvalidRangeError("La période de validité se termine avant de commencer")

    def applies_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return self.rule.matches(day)


@dataclass(frozen=True)
class Absence:
    """The practitioner away over [start, end) — leave, training, sickness."""

    start: datetime
    end: datetime
    reason: str

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRangeError("L'absence se termine avant de commencer")

    @classmethod
    def whole_days(cls, first_day: date, last_day: date, reason: str) -> Absence:
        """An absence over whole days, first and last included."""
        if last_day < first_day:
            raise InvalidRangeError("L'absence se termine avant de commencer")
        start = datetime.combine(first_day, time(0))
        return cls(start, datetime.combine(last_day + timedelta(days=1), time(0)), reason)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class AvailableRange:
    """A stretch of time a practitioner can be booked, with the room it happens in."""

    start: datetime
    end: datetime
    room_id: str | None


# Two ranges on the same weekday may still never meet (1st vs 3rd Wednesday, alternate weeks):
# checking two years of that weekday catches every real clash of these periodic rules.
_CLASH_CHECK_WEEKS = 106
_CLASH_CHECK_EPOCH = date(2024, 1, 1)


def _first_clash(a: ConsultingRange, b: ConsultingRange) -> date | None:
    if a.rule.weekday != b.rule.weekday or not a.hours.overlaps(b.hours):
        return None
    starts = [d for d in (a.valid_from, b.valid_from) if d is not None]
    first = max(starts) if starts else _CLASH_CHECK_EPOCH
    first += timedelta(days=(a.rule.weekday - first.weekday()) % 7)
    for week in range(_CLASH_CHECK_WEEKS):
        day = first + timedelta(weeks=week)
        if a.applies_on(day) and b.applies_on(day):
            return day
    return None


@dataclass(frozen=True)
class PractitionerSchedule:
    """Everything that decides when a practitioner can be booked."""

    practitioner_id: str
    display_name: str
    ranges: tuple[ConsultingRange, ...] = ()
    absences: tuple[Absence, ...] = ()
    active: bool = True
    _by_weekday: tuple[tuple[ConsultingRange, ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        ordered = sorted(self.ranges, key=lambda r: (r.hours.start, r.hours.end))
        by_weekday = tuple(tuple(r for r in ordered if r.rule.weekday == wd) for wd in Weekday)
        object.__setattr__(self, "_by_weekday", by_weekday)
        for i, a in enumerate(self.ranges):
            for b in self.ranges[i + 1 :]:
                clash = _first_clash(a, b)
                if clash is not None:
                    # Without a validity start the first clash is counted from an arbitrary
                    # epoch: naming the weekday is what the user can act on.
                    bounded = a.valid_from is not None or b.valid_from is not None
                    when = f"{clash:%d/%m/%Y}" if bounded else Weekday(clash.weekday()).label
                    raise OverlappingRangesError(
                        f"Les plages de {self.display_name} se chevauchent le "
                        f"{when} : {a.hours} et {b.hours}"
                    )

    def range_containing(self, start: datetime, end: datetime) -> ConsultingRange | None:
        """The consulting range that holds all of [start, end), if any."""
        day = start.date()
        for consulting in self.consulting_ranges_on(day):
            r_start, r_end = consulting.hours.on(day)
            if r_start <= start and end <= r_end:
                return consulting
        return None

    def consulting_ranges_on(self, day: date) -> list[ConsultingRange]:
        """The practitioner's own ranges that day, ignoring the centre and absences."""
        return [r for r in self._by_weekday[day.weekday()] if r.applies_on(day)]

    def absence_during(self, start: datetime, end: datetime) -> Absence | None:
        return next((a for a in self.absences if a.overlaps(start, end)), None)

    def available_ranges(
        self, day: date, centre: CentreCalendar, *, at_centre: bool = True
    ) -> list[AvailableRange]:
        """Consulting ranges ∩ centre opening ranges, minus absences, in time order.

        With at_centre=False (home visits) the centre's weekly hours do not apply, but public
        holidays and closures still do, and no room is attached. Ranges with own_hours skip
        the weekly hours too, keeping their room.
        """
        consulting_ranges = self.consulting_ranges_on(day) if self.active else []
        if not consulting_ranges:
            return []
        centre_opening = [r.on(day) for r in centre.opening_ranges_on(day)]
        own_opening = (
            [(datetime.combine(day, time(0)), datetime.combine(day, time.max))]
            if centre.is_day_blocked(day) is None
            else []
        )
        pieces: list[AvailableRange] = []
        for consulting in consulting_ranges:
            c_start, c_end = consulting.hours.on(day)
            room = consulting.room_id if at_centre else None
            opening = centre_opening if at_centre and not consulting.own_hours else own_opening
            for o_start, o_end in opening:
                start, end = max(c_start, o_start), min(c_end, o_end)
                if start < end:
                    pieces.extend(self._minus_absences(start, end, room))
        return sorted(pieces, key=lambda p: p.start)

    def _minus_absences(
        self, start: datetime, end: datetime, room: str | None
    ) -> list[AvailableRange]:
        free = [(start, end)]
        for absence in self.absences:
            if not absence.overlaps(start, end):
                continue
            remaining: list[tuple[datetime, datetime]] = []
            for f_start, f_end in free:
                if absence.start > f_start:
                    remaining.append((f_start, min(f_end, absence.start)))
                if absence.end < f_end:
                    remaining.append((max(f_start, absence.end), f_end))
            free = [(s, e) for s, e in remaining if s < e]
        return [AvailableRange(s, e, room) for s, e in free]
