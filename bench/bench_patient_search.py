"""Search-as-you-type benchmark on the big centre (bench/bigdb.py).

Prints p50/p95 of a realistic query mix (names typed letter by letter, dates, NIR, phones)
through the service, the same SQL run directly on the database, their ratio, and the
process memory with the database open. Targets (issue #3): service p95 <= 10 ms,
<= 1.5x raw SQL, RSS < 300 MB. Asserts nothing.
Run: PYTHONPATH=src python bench/bench_patient_search.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bigdb import PASSWORD, big_centre

from cms_desktop.domain.patient_search import parse_query
from cms_desktop.services.patient_search import search_patients
from cms_desktop.services.workspace import login
from cms_desktop.storage import patient_index
from cms_desktop.storage.models import Patient


def _typed(text: str, start: int = 1) -> list[str]:
    """Every state of the field while ``text`` is typed."""
    return [text[:n] for n in range(start, len(text) + 1) if text[:n].strip()]


def query_mix(rows: list[tuple[str, str, date, str, str]], rng: random.Random) -> list[str]:
    queries: list[str] = []
    for birth_name, first, born, nir, phone in rows:
        kind = rng.randrange(6)
        if kind <= 1:
            queries += _typed(birth_name.lower())
        elif kind == 2:
            queries += _typed(f"{birth_name[:4].lower()} {first[:4].lower()}", 1)
        elif kind == 3:
            queries += [*_typed(f"{born:%d/%m/%Y}", 2), f"{born:%d/%m}", f"{born:%Y}"]
        elif kind == 4 and nir:
            spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]}"
            queries += _typed(spaced, 4)
        else:
            national = "0" + phone[3:]
            queries += _typed(" ".join(national[i : i + 2] for i in range(0, 10, 2)), 4)
    return queries


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb() -> tuple[float, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5,000 patients")
    parser.add_argument("--samples", type=int, default=60, help="patients typed")
    args = parser.parse_args()
    data_dir = big_centre(args.quick)
    ws, actor = login(data_dir, "accueil", PASSWORD)
    try:
        rng = random.Random(7)
        with ws.store.read() as session:
            count = session.query(Patient).count()
            offsets = sorted(rng.randrange(count) for _ in range(args.samples))
            rows = []
            for offset in offsets:
                p = session.execute(
                    select(
                        Patient.birth_name,
                        Patient.first_given_name,
                        Patient.birth_date,
                        Patient.nir,
                        Patient.phone_mobile,
                    )
                    .offset(offset)
                    .limit(1)
                ).one()
                rows.append(tuple(p))
        queries = query_mix(rows, rng)  # type: ignore[arg-type]
        today = date.today()
        raw = ws.store.engine.raw_connection()
        statements = []
        for q in queries:
            terms = parse_query(q, today)
            statements.append(patient_index.search_sql(terms, 100) if terms else None)

        def run_raw(i: int) -> int:
            statement = statements[i]
            if statement is None:
                return 0
            sql, params = statement
            return len(raw.cursor().execute(sql, params).fetchall())

        for i, q in enumerate(queries):  # warm the page cache for both paths
            search_patients(ws, actor, q)
            run_raw(i)
        service, direct, found = [], [], []
        for i, q in enumerate(queries):
            start = time.perf_counter()
            hits = search_patients(ws, actor, q)
            service.append(time.perf_counter() - start)
            found.append(len(hits))
            start = time.perf_counter()
            run_raw(i)
            direct.append(time.perf_counter() - start)
        raw.close()
        print(f"patients: {count}, queries: {len(queries)} (typed letter by letter)")
        print(f"results per query: median {statistics.median(found):.0f}, max {max(found)}")
        print(
            f"service  p50 {_pct(service, 0.5):6.2f} ms  p95 {_pct(service, 0.95):6.2f} ms  "
            f"max {max(service) * 1000:6.2f} ms   (target p95 <= 10 ms)"
        )
        print(
            f"raw SQL  p50 {_pct(direct, 0.5):6.2f} ms  p95 {_pct(direct, 0.95):6.2f} ms  "
            f"max {max(direct) * 1000:6.2f} ms"
        )
        print(
            f"ratio service/raw: p50 {_pct(service, 0.5) / _pct(direct, 0.5):.2f}x, "
            f"p95 {_pct(service, 0.95) / _pct(direct, 0.95):.2f}x, "
            f"total {sum(service) / sum(direct):.2f}x   (target <= 1.5x)"
        )
        rss, peak = rss_mb()
        print(
            f"process memory with the database open: RSS {rss:.0f} MB, peak {peak:.0f} MB "
            "(target < 300 MB)"
        )
    finally:
        ws.close()


if __name__ == "__main__":
    main()
