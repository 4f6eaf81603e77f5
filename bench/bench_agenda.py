"""Agenda benchmarks on a year of appointments for 10 practitioners (~50-60,000 rows).

Prints p50/p95 of: a booking with its conflict checks, the day view of all practitioners,
a practitioner's week, the month load, and the next free slot (over three months).
Targets (issue #4): day <= 100 ms, week <= 150 ms, next free slot <= 50 ms, booking <= 20 ms.
Run: PYTHONPATH=src python bench/bench_agenda.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import insert

from cms_desktop.domain.permissions import Role
from cms_desktop.services import setup, users
from cms_desktop.services.agenda import booking, views
from cms_desktop.services.agenda.common import load_calendar, load_schedules, local_now, to_utc
from cms_desktop.services.agenda.settings import ensure_defaults
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import (
    Appointment,
    Patient,
    Practitioner,
    PractitionerRange,
    Room,
    new_id,
)

PASSWORD = "Bench-Secret-2026"


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


def _time(label: str, runs: int, fn: Callable[[int], object], target: str = "") -> None:
    fn(0)  # warm caches, as a screen opened once already would
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    print(f"{label:<42} {_percentiles(samples)}   {target}")


def build(tmp: Path, practitioners: int, days_back: int, days_ahead: int) -> tuple[DataDir, int]:
    data_dir = DataDir(tmp / "bench")
    setup.initialise_centre(
        data_dir, setup.CentreDraft(name="Bench", rooms=()), "admin", "A", PASSWORD
    )
    ws, admin = login(data_dir, "admin", PASSWORD)
    users.create_user(ws, admin, users.NewUser("accueil", "Accueil", Role.RECEPTION, PASSWORD))
    rng = random.Random(4)
    today = local_now().date()
    with ws.store.write() as s:
        ensure_defaults(s)
        rooms = [Room(name=f"Cabinet {i + 1}", kind="consulting") for i in range(practitioners)]
        s.add_all(rooms)
        s.flush()
        patient_rows = [
            {
                "id": new_id(),
                "birth_name": f"NOM{i:05d}",
                "first_given_name": "Prénom",
                "birth_date": date(1940, 1, 1) + timedelta(days=rng.randint(0, 29000)),
                "sex": rng.choice("FM"),
                "version": "bulk",
                "created_at": datetime.now(UTC),
                "updated_at": datetime.now(UTC),
            }
            for i in range(3000)
        ]
        s.execute(insert(Patient), patient_rows)
        pracs = [
            Practitioner(full_name=f"Praticien {i + 1}", title="Dr", profession="Médecin")
            for i in range(practitioners)
        ]
        s.add_all(pracs)
        s.flush()
        for p, room in zip(pracs, rooms, strict=True):
            for wd in (0, 1, 3, 4):
                for a, b in (("09:00", "12:40"), ("13:40", "19:00")):
                    s.add(
                        PractitionerRange(
                            practitioner_id=p.id,
                            weekday=wd,
                            start_time=a,
                            end_time=b,
                            room_id=room.id,
                        )
                    )
            s.add(
                PractitionerRange(
                    practitioner_id=p.id,
                    weekday=5,
                    start_time="09:00",
                    end_time="12:00",
                    room_id=room.id,
                )
            )
        s.flush()
        calendar = load_calendar(s)
        first, last = today - timedelta(days=days_back), today + timedelta(days=days_ahead)
        schedules = load_schedules(s, pracs, first, last)
        rows = []
        now = datetime.now(UTC)
        day = first
        while day <= last:
            for p in pracs:
                for rng_ in schedules[p.id].available_ranges(day, calendar):
                    cursor = rng_.start
                    while cursor + timedelta(minutes=20) <= rng_.end:
                        # Leave the future half-empty so that there are slots to find and book.
                        if rng.random() < (0.9 if day < today else 0.5):
                            rows.append(
                                {
                                    "id": new_id(),
                                    "practitioner_id": p.id,
                                    "room_id": rng_.room_id,
                                    "patient_id": rng.choice(patient_rows)["id"],
                                    "type_code": "consultation",
                                    "start_at": to_utc(cursor),
                                    "end_at": to_utc(cursor + timedelta(minutes=20)),
                                    "status": "seen" if day < today else "booked",
                                    "booked_at": now,
                                    "version": "bulk",
                                    "created_at": now,
                                    "updated_at": now,
                                }
                            )
                        cursor += timedelta(minutes=20)
            day += timedelta(days=1)
        # Bulk builder: straight Core inserts, no op-log (not a real workload).
        for i in range(0, len(rows), 5000):
            s.execute(insert(Appointment).execution_options(render_nulls=True), rows[i : i + 5000])
    ws.close()
    return data_dir, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small volume, for a smoke run")
    args = parser.parse_args()
    practitioners, back, ahead, runs = (3, 30, 30, 5) if args.quick else (10, 300, 65, 40)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        data_dir, count = build(Path(tmp), practitioners, back, ahead)
        print(
            f"built {count} appointments for {practitioners} practitioners "
            f"in {time.perf_counter() - started:.1f} s"
        )
        ws, actor = login(data_dir, "accueil", PASSWORD)
        try:
            today = local_now().date()
            pids = [p.id for p in views.list_practitioner_views(ws, actor)]
            open_days = [
                today - timedelta(days=d)
                for d in range(1, back)
                if (today - timedelta(days=d)).weekday() in (0, 1, 3, 4)
            ]
            _time(
                "day view, all practitioners",
                runs,
                lambda i: views.day_agenda(ws, actor, open_days[i % len(open_days)]),
                "(target <= 100 ms incl. paint)",
            )
            _time(
                "week view, one practitioner",
                runs,
                lambda i: views.week_agenda(
                    ws, actor, pids[i % len(pids)], open_days[i % len(open_days)]
                ),
                "(target <= 150 ms)",
            )
            _time(
                "month load, all practitioners",
                max(3, runs // 4),
                lambda i: views.month_load(ws, actor, today.year, today.month),
            )
            _time(
                "next free slot, one practitioner (3 months)",
                runs,
                lambda i: views.next_free_slot(
                    ws, actor, practitioner_id=pids[i % len(pids)], limit=1
                ),
                "(target <= 50 ms)",
            )
            _time(
                "next free slot, anyone (3 months)",
                runs,
                lambda i: views.next_free_slot(ws, actor, limit=1),
                "(target <= 50 ms)",
            )
            free = views.next_free_slot(
                ws,
                actor,
                from_dt=datetime.combine(today + timedelta(days=1), clock(0)),
                limit=runs + 1,
            )

            def book(i: int) -> None:
                slot = free[i]
                booking.book(ws, actor, booking.BookingRequest(slot.practitioner_id, slot.start))

            _time(
                "booking with conflict checks + insert",
                runs,
                lambda i: book(i + 1) if i else None,
                "(target <= 20 ms)",
            )
            _paint(ws, actor, open_days, runs)
        finally:
            ws.close()


def _paint(ws: object, actor: object, days: list[date], runs: int) -> None:
    """Load + paint of the day view offscreen (the figure the 100 ms target is about): the
    same day again (a refresh), then another day each time (nothing laid out yet).
    """
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cms_desktop.ui.agenda.day_view import DayView

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive while painting)
    view = DayView()
    view.resize(1400, 800)

    def load_and_paint(_i: int) -> None:
        view.set_agenda(views.day_agenda(ws, actor, days[0]))  # type: ignore[arg-type]
        view.grab()

    shown = iter(days[1:] * 2)  # the warm-up call takes one too: never the same day twice

    def other_day(_i: int) -> None:
        view.set_agenda(views.day_agenda(ws, actor, next(shown)))  # type: ignore[arg-type]
        view.grab()

    _time("day view load + paint (offscreen)", runs, load_and_paint, "(target <= 100 ms)")
    _time("day view load + paint, another day each time", runs, other_day, "(target <= 100 ms)")


if __name__ == "__main__":
    import os
    import sys

    main()
    sys.stdout.flush()
    # PySide6 may crash while tearing the interpreter down after offscreen rendering; the
    # figures are printed, so skip the teardown.
    os._exit(0)
