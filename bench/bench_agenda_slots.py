"""Next-free-slot search over a fully booked quarter (8 practitioners, >10,000 busy intervals).

Prints the figure; target (issue #4): <= 50 ms. The worst case: nothing free, so the
whole quarter is scanned. Run: .venv/bin/python bench/bench_agenda_slots.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.agenda.test_slots import CENTRE, full_quarter

from cms_desktop.domain.agenda.slots import next_free_slots

team, busy, start = full_quarter()
times = []
for _ in range(9):
    began = time.perf_counter()
    next_free_slots(
        team,
        CENTRE,
        busy_by_practitioner=busy,
        busy_by_room={},
        length=timedelta(minutes=20),
        from_dt=start,
        until_dt=start + timedelta(days=91),
        limit=10,
    )
    times.append(time.perf_counter() - began)
n = sum(map(len, busy.values()))
print(
    f"next free slot, 3 months x 8 practitioners, {n} busy intervals, none free: "
    f"median {statistics.median(times) * 1000:.1f} ms (target <= 50 ms)"
)
