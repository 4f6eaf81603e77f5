"""Search for the next free slots and the daily load shown in the month overview.

Busy intervals are merged and sorted once, then each practitioner's available ranges are swept
in time order with bisect lookups, so the cost grows with days × ranges + busy intervals.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from operator import attrgetter

from cms_desktop.domain.agenda.appointments import Interval, TypeRules, room_issue
from cms_desktop.domain.agenda.errors import InvalidRangeError
from cms_desktop.domain.agenda.hours import CentreCalendar
from cms_desktop.domain.agenda.practitioner import PractitionerSchedule

_Span = tuple[datetime, datetime]


@dataclass(frozen=True, order=True)
class Slot:
    """A free stretch [start, end) for one practitioner, in the room of that range."""

    start: datetime
    end: datetime
    practitioner_id: str
    room_id: str | None


class BusyIndex:
    """Busy intervals merged into disjoint spans, sorted, for bisect lookups."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        starts, ends = self._starts, self._ends
        for iv in sorted(intervals, key=attrgetter("start", "end")):
            if ends and iv.start <= ends[-1]:
                if iv.end > ends[-1]:
                    ends[-1] = iv.end
            else:
                starts.append(iv.start)
                ends.append(iv.end)

    def within(self, start: datetime, end: datetime) -> list[_Span]:
        """Busy spans meeting [start, end), clipped to it, in time order."""
        spans: list[_Span] = []
        i = bisect_right(self._ends, start)
        while i < len(self._starts) and self._starts[i] < end:
            spans.append((max(self._starts[i], start), min(self._ends[i], end)))
            i += 1
        return spans


_EMPTY = BusyIndex(())


_DAY = timedelta(days=1)
_EPOCH = datetime(2000, 1, 1)


def _align_up(moment: datetime, step: timedelta) -> datetime:
    """The first step boundary (counted from midnight) at or after `moment`."""
    if _DAY % step == timedelta(0):
        # Cheaper, and the same boundaries, when the step divides a day.
        remainder = (moment - _EPOCH) % step
        return moment if not remainder else moment + (step - remainder)
    midnight = datetime.combine(moment.date(), time(0))
    steps = -(-(moment - midnight) // step)
    return midnight + steps * step


def _free_spans(start: datetime, end: datetime, busy: list[_Span]) -> Iterator[_Span]:
    cursor = start
    for b_start, b_end in sorted(busy):
        if b_start > cursor:
            yield cursor, b_start
        cursor = max(cursor, b_end)
    if cursor < end:
        yield cursor, end


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _practitioner_slots(
    schedule: PractitionerSchedule,
    centre: CentreCalendar,
    busy: BusyIndex,
    room_busy: Mapping[str, BusyIndex],
    length: timedelta,
    from_dt: datetime,
    until_dt: datetime,
    step: timedelta,
    at_centre: bool,
    kind: TypeRules | None,
) -> Iterator[Slot]:
    """Slots laid back to back in each free span, from its first step boundary, in time order."""
    # From a boundary, the next boundary at or after the slot's end is a whole number of steps on.
    advance = -(-length // step) * step
    for day in _days(from_dt.date(), until_dt.date()):
        for available in schedule.available_ranges(day, centre, at_centre=at_centre):
            start, end = max(available.start, from_dt), min(available.end, until_dt)
            if end - start < length:
                continue
            if kind is not None and room_issue(kind, available.room_id) is not None:
                continue  # booking would refuse it: never offer it
            spans = busy.within(start, end)
            if available.room_id is not None:
                spans += room_busy.get(available.room_id, _EMPTY).within(start, end)
            for free_start, free_end in _free_spans(start, end, spans):
                slot_start = _align_up(free_start, step)
                while slot_start + length <= free_end:
                    yield Slot(
                        slot_start, slot_start + length, schedule.practitioner_id, available.room_id
                    )
                    slot_start += advance


def next_free_slots(
    candidates: Sequence[PractitionerSchedule],
    centre: CentreCalendar,
    *,
    busy_by_practitioner: Mapping[str, Iterable[Interval]],
    busy_by_room: Mapping[str, Iterable[Interval]],
    length: timedelta,
    from_dt: datetime,
    until_dt: datetime,
    step: timedelta = timedelta(minutes=5),
    limit: int = 10,
    at_centre: bool = True,
    kind: TypeRules | None = None,
) -> list[Slot]:
    """The first `limit` free slots among the candidates, by start time then candidate order.

    Pass one practitioner, those of a profession, or everyone. A slot lies inside one
    available range (consulting range ∩ opening hours, minus absences), is free for the
    practitioner and for the range's room, starts on a `step` boundary and ends by `until_dt`.
    With at_centre=False (home visits) weekly opening hours and rooms are ignored. With a
    `kind`, ranges the booking check would refuse for want of a room (`room_issue`) are
    skipped.
    """
    if length <= timedelta(0) or step <= timedelta(0):
        raise InvalidRangeError("La durée et le pas doivent être positifs")
    if limit <= 0 or until_dt <= from_dt:
        return []
    room_busy = (
        {room: BusyIndex(intervals) for room, intervals in busy_by_room.items()}
        if at_centre
        else {}
    )
    streams = [
        _practitioner_slots(
            schedule,
            centre,
            BusyIndex(busy_by_practitioner.get(schedule.practitioner_id, ())),
            room_busy,
            length,
            from_dt,
            until_dt,
            step,
            at_centre,
            kind,
        )
        for schedule in candidates
    ]
    # heapq.merge is stable, so equal start times keep the candidates' order.
    return list(islice(heapq.merge(*streams, key=lambda s: s.start), limit))


@dataclass(frozen=True)
class DayLoad:
    """Booked and available minutes on one day, summed over the practitioners asked for."""

    day: date
    available_minutes: int
    booked_minutes: int

    @property
    def ratio(self) -> float:
        """Share of available time booked, 0.0 to 1.0 (0.0 when nothing is available)."""
        if self.available_minutes == 0:
            return 0.0
        return min(1.0, self.booked_minutes / self.available_minutes)


def load_by_day(
    practitioners: Sequence[PractitionerSchedule],
    centre: CentreCalendar,
    busy_by_practitioner: Mapping[str, Iterable[Interval]],
    first_day: date,
    last_day: date,
) -> list[DayLoad]:
    """DayLoad for every day from first_day to last_day included (the month overview)."""
    indexes = {
        p.practitioner_id: BusyIndex(busy_by_practitioner.get(p.practitioner_id, ()))
        for p in practitioners
    }
    loads: list[DayLoad] = []
    for day in _days(first_day, last_day):
        available = booked = timedelta(0)
        for schedule in practitioners:
            for rng in schedule.available_ranges(day, centre):
                available += rng.end - rng.start
                for b_start, b_end in indexes[schedule.practitioner_id].within(rng.start, rng.end):
                    booked += b_end - b_start
        loads.append(
            DayLoad(day, available // timedelta(minutes=1), booked // timedelta(minutes=1))
        )
    return loads


def day_load(
    practitioners: Sequence[PractitionerSchedule],
    centre: CentreCalendar,
    busy_by_practitioner: Mapping[str, Iterable[Interval]],
    day: date,
) -> DayLoad:
    """Booked minutes / available minutes on one day, only time inside available ranges counts."""
    return load_by_day(practitioners, centre, busy_by_practitioner, day, day)[0]
