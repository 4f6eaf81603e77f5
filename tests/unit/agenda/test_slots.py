"""Next free slots (checked against a brute-force reference) and the daily load."""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from cms_desktop.domain.agenda.appointments import Interval
from cms_desktop.domain.agenda.hours import (
    CentreCalendar,
    Closure,
    TimeRange,
    Weekday,
    alencon_calendar,
    time_range,
)
from cms_desktop.domain.agenda.practitioner import (
    Absence,
    ConsultingRange,
    EveryWeek,
    PractitionerSchedule,
)
from cms_desktop.domain.agenda.slots import Slot, day_load, load_by_day, next_free_slots

CENTRE = alencon_calendar()
MONDAY = date(2027, 6, 7)
MINUTE = timedelta(minutes=1)


def at(h: int, m: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(h, m))


def doctor(ident: str, room: str, weekdays: Sequence[int] = (0, 1, 3, 4)) -> PractitionerSchedule:
    return PractitionerSchedule(
        ident,
        f"Dr {ident}",
        tuple(ConsultingRange(EveryWeek(wd), time_range("9:00", "19:00"), room) for wd in weekdays),
    )


def brute_force(
    candidates: Sequence[PractitionerSchedule],
    centre: CentreCalendar,
    busy_p: dict[str, list[Interval]],
    busy_r: dict[str, list[Interval]],
    length: timedelta,
    from_dt: datetime,
    until_dt: datetime,
    step: timedelta,
    limit: int,
) -> list[Slot]:
    """Try every step boundary of every day, laying slots back to back per practitioner."""
    found: list[tuple[datetime, int, Slot]] = []
    for index, schedule in enumerate(candidates):
        last_end = datetime.min
        day = from_dt.date()
        while day <= until_dt.date():
            t = datetime.combine(day, time(0))
            while t.date() == day:
                slot = Interval(t, t + length)
                hosting = schedule.range_containing(t, t + length)
                if (
                    t >= from_dt
                    and slot.end <= until_dt
                    and t >= last_end
                    and schedule.active
                    and hosting is not None
                    and centre.is_open_at(t, t + length)
                    and schedule.absence_during(t, t + length) is None
                    and not any(b.overlaps(slot) for b in busy_p.get(schedule.practitioner_id, []))
                    and not any(b.overlaps(slot) for b in busy_r.get(hosting.room_id or "", []))
                ):
                    found.append(
                        (t, index, Slot(t, t + length, schedule.practitioner_id, hosting.room_id))
                    )
                    last_end = t + length
                t += step
            day += timedelta(days=1)
    return [s for _, _, s in sorted(found, key=lambda f: (f[0], f[1]))][:limit]


def test_first_slots_skip_busy_time_and_lunch() -> None:
    busy = {"a": [Interval(at(9), at(9, 15)), Interval(at(9, 40), at(12, 20))]}
    slots = next_free_slots(
        [doctor("a", "r1")],
        CENTRE,
        busy_by_practitioner=busy,
        busy_by_room={},
        length=timedelta(minutes=20),
        from_dt=at(8),
        until_dt=at(20),
        limit=4,
    )
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M")) for s in slots] == [
        ("09:15", "09:35"),
        ("12:20", "12:40"),
        ("13:40", "14:00"),
        ("14:00", "14:20"),
    ]
    assert {s.room_id for s in slots} == {"r1"}


def test_slots_align_on_the_step_and_respect_from() -> None:
    slots = next_free_slots(
        [doctor("a", "r1")],
        CENTRE,
        busy_by_practitioner={"a": [Interval(at(9), at(9, 13))]},
        busy_by_room={},
        length=timedelta(minutes=15),
        from_dt=at(9, 2),
        until_dt=at(20),
        step=timedelta(minutes=10),
        limit=2,
    )
    assert [s.start for s in slots] == [at(9, 20), at(9, 40)]


def test_room_taken_by_someone_else_is_not_free() -> None:
    slots = next_free_slots(
        [doctor("a", "r1")],
        CENTRE,
        busy_by_practitioner={},
        busy_by_room={"r1": [Interval(at(9), at(12, 40))]},
        length=timedelta(minutes=20),
        from_dt=at(8),
        until_dt=at(20),
        limit=1,
    )
    assert slots[0].start == at(13, 40)


def test_anyone_orders_by_time_then_candidate_order() -> None:
    busy = {"a": [Interval(at(9), at(10))]}
    slots = next_free_slots(
        [doctor("a", "r1"), doctor("b", "r2")],
        CENTRE,
        busy_by_practitioner=busy,
        busy_by_room={},
        length=timedelta(minutes=30),
        from_dt=at(8),
        until_dt=at(20),
        limit=4,
    )
    assert [(s.practitioner_id, s.start) for s in slots] == [
        ("b", at(9)),
        ("b", at(9, 30)),
        ("a", at(10)),
        ("b", at(10)),
    ]


def test_search_skips_holidays_and_closed_days() -> None:
    # Wednesday 14 July 2027 is the Fête nationale and a Wednesday: next is Thursday 15th.
    slots = next_free_slots(
        [doctor("a", "r1")],
        CENTRE,
        busy_by_practitioner={},
        busy_by_room={},
        length=timedelta(minutes=20),
        from_dt=datetime(2027, 7, 13, 19, 0),
        until_dt=datetime(2027, 7, 20),
        limit=1,
    )
    assert slots[0].start == datetime(2027, 7, 15, 9, 0)


def test_home_visit_slots_ignore_centre_hours_and_rooms() -> None:
    slots = next_free_slots(
        [doctor("a", "r1", weekdays=[Weekday.WEDNESDAY])],
        CENTRE,
        busy_by_practitioner={},
        busy_by_room={"r1": [Interval(at(9, day=date(2027, 6, 9)), at(19, day=date(2027, 6, 9)))]},
        length=timedelta(minutes=45),
        from_dt=at(0),
        until_dt=at(0) + timedelta(days=7),
        limit=1,
        at_centre=False,
    )
    assert slots == [Slot(datetime(2027, 6, 9, 9), datetime(2027, 6, 9, 9, 45), "a", None)]


# Random agendas over a few days of June 2027 (with Saturdays, a Wednesday, a closure).
_START = datetime(2027, 6, 3)
_ranges = st.lists(
    st.tuples(st.sampled_from(list(Weekday)), st.integers(8 * 12, 17 * 12), st.integers(1, 120)),
    min_size=1,
    max_size=6,
)


def _five(units: int) -> time:
    """Time of day from a number of five-minute units."""
    return time(units // 12, units % 12 * 5)


@st.composite
def schedules(draw: st.DrawFn, ident: str) -> PractitionerSchedule:
    ranges: list[ConsultingRange] = []
    for weekday, start5, len5 in draw(_ranges):
        hours = TimeRange(_five(start5), _five(min(287, start5 + len5)))
        rng = ConsultingRange(EveryWeek(weekday), hours, draw(st.sampled_from(["r1", "r2", None])))
        if all(r.rule.weekday != weekday or not r.hours.overlaps(hours) for r in ranges):
            ranges.append(rng)
    absences: list[Absence] = []
    if draw(st.booleans()):
        begin = _START + draw(st.integers(0, 6 * 24 * 60)) * MINUTE
        absences.append(Absence(begin, begin + draw(st.integers(1, 24 * 60)) * MINUTE, "congés"))
    return PractitionerSchedule(
        ident, ident, tuple(ranges), tuple(absences), draw(st.booleans()) or True
    )


def _busy(draw: st.DrawFn) -> list[Interval]:
    items = draw(st.lists(st.tuples(st.integers(0, 6 * 24 * 60), st.integers(1, 120)), max_size=25))
    return [Interval(_START + s * MINUTE, _START + (s + n) * MINUTE) for s, n in items]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    names = ["a", "b", "c"][: draw(st.integers(1, 3))]
    return {
        "candidates": [draw(schedules(n)) for n in names],
        "busy_p": {n: _busy(draw) for n in names},
        "busy_r": {r: _busy(draw) for r in ("r1", "r2")},
        "length": draw(st.integers(5, 90)) * MINUTE,
        "step": draw(st.sampled_from([5, 7, 10, 15])) * MINUTE,
        "from_dt": _START + draw(st.integers(0, 3 * 24 * 60)) * MINUTE,
        "days": draw(st.integers(0, 3)),
        "limit": draw(st.integers(1, 40)),
        "closed": draw(st.booleans()),
    }


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_next_free_slots_match_the_brute_force_reference(s: dict[str, object]) -> None:
    centre = alencon_calendar(
        closures=[Closure(date(2027, 6, 4), date(2027, 6, 4), "travaux")] if s["closed"] else []
    )
    from_dt = s["from_dt"]
    assert isinstance(from_dt, datetime)
    until_dt = datetime.combine(from_dt.date(), time(0)) + timedelta(days=1 + int(str(s["days"])))
    args = (
        s["candidates"],
        centre,
        s["busy_p"],
        s["busy_r"],
        s["length"],
        from_dt,
        until_dt,
        s["step"],
        s["limit"],
    )
    expected = brute_force(*args)  # type: ignore[arg-type]
    got = next_free_slots(
        s["candidates"],  # type: ignore[arg-type]
        centre,
        busy_by_practitioner=s["busy_p"],  # type: ignore[arg-type]
        busy_by_room=s["busy_r"],  # type: ignore[arg-type]
        length=s["length"],  # type: ignore[arg-type]
        from_dt=from_dt,
        until_dt=until_dt,
        step=s["step"],  # type: ignore[arg-type]
        limit=s["limit"],  # type: ignore[arg-type]
    )
    assert got == expected
    event("slots found" if expected else "no slot")


def test_a_fully_booked_quarter_offers_no_slot() -> None:
    team, busy, start = full_quarter()
    assert sum(map(len, busy.values())) > 10_000
    slots = next_free_slots(
        team,
        CENTRE,
        busy_by_practitioner=busy,
        busy_by_room={},
        length=timedelta(minutes=20),
        from_dt=start,
        until_dt=start + timedelta(days=91),
        limit=10,
    )
    assert slots == []


def full_quarter() -> tuple[list[PractitionerSchedule], dict[str, list[Interval]], datetime]:
    """8 practitioners booked solid for 3 months (also used by bench/bench_agenda_slots.py)."""
    team = [doctor(f"p{i}", f"r{i}", weekdays=(0, 1, 3, 4, 5)) for i in range(8)]
    start = datetime(2027, 1, 4)
    busy: dict[str, list[Interval]] = {p.practitioner_id: [] for p in team}
    day = start.date()
    while day < start.date() + timedelta(days=91):
        for intervals in busy.values():
            for first, last in ((9 * 60, 12 * 60 + 40), (13 * 60 + 40, 19 * 60)):
                for m in range(first, last, 40):
                    s = datetime.combine(day, time(0)) + m * MINUTE
                    intervals.append(Interval(s, s + min(40, last - m) * MINUTE))
        day += timedelta(days=1)
    return team, busy, start


def test_day_load_counts_only_time_inside_available_ranges() -> None:
    a = doctor("a", "r1")
    busy = {"a": [Interval(at(8), at(10)), Interval(at(12), at(14))]}
    load = day_load([a], CENTRE, busy, MONDAY)
    # Available 09:00–12:40 and 13:40–19:00 = 220 + 320 minutes; booked 60 + 40 + 20.
    assert (load.available_minutes, load.booked_minutes) == (540, 120)
    assert abs(load.ratio - 120 / 540) < 1e-9
    week = load_by_day([a], CENTRE, busy, MONDAY, MONDAY + timedelta(days=6))
    assert [d.day for d in week] == [MONDAY + timedelta(days=k) for k in range(7)]
    assert week[2].available_minutes == 0 and week[2].ratio == 0.0  # Wednesday
