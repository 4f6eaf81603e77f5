"""What the database alone allows a merge, per shape of the op-log (figures, not tests).

Run: ``PYTHONPATH=src python bench/bench_sync_floor.py [--quick]``

The #6 target is 20,000 received entries merged per second. This bench writes the rows a
merge writes for received audit entries (nine in ten of what a station receives), with no
Python per entry: the parameters are built before the clock starts. Three shapes, each on a
fresh encrypted store, alternated, best of three runs:

1. today: one op-log row per entry (with its values) and the table row;
2. lean: the op-log row without its values, the batch's values kept once (zlib);
3. segment: no op-log row per entry, the batch kept once (one row per 1,000 entries,
   zlib), and the table row.

The ratios to "today" say what a change of the op-log's shape could win (docs/DECISIONS.md,
"Sync throughput"). The segment table is created by the bench; the app has no such table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from bench_sync_db import calibration_s, entries_of, fill, open_store

from cms_desktop.sync.merge import INSERT_OP_LOG, prepare_batch
from cms_desktop.sync.rows import insert_groups
from cms_desktop.sync.tables import table_info

SEGMENT_TABLE = (
    "CREATE TABLE bench_op_segment (origin TEXT NOT NULL, first INTEGER NOT NULL, "
    "last INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (origin, first))"
)
INSERT_SEGMENT = "INSERT INTO bench_op_segment VALUES (?, ?, ?, ?)"
Batch = tuple[list[tuple[Any, ...]], list[tuple[str, list[tuple[Any, ...]]]]]


def batches(root: Path, count: int) -> list[Batch]:
    """Op-log parameters and audit-row INSERT groups of ``count`` entries, per 1,000."""
    source = open_store(root, "source")
    fill(source, count)
    audit = [e for e in entries_of(source) if e.entity == "audit_log"]
    info = table_info("audit_log")
    assert info is not None
    dialect = source.engine.dialect
    source.close()
    out: list[Batch] = []
    for start in range(0, len(audit), 1000):
        part = audit[start : start + 1000]
        groups = insert_groups(info, dialect, part, ignore_existing=True)
        out.append(
            (
                prepare_batch(part, dialect).op_rows,
                [(sql, [params for _, params in rows]) for sql, rows in groups],
            )
        )
    return out


def run(root: Path, name: str, shape: str, work: list[Batch]) -> float:
    store = open_store(root, name)
    raw = store.engine.raw_connection()
    conn = raw.driver_connection
    assert conn is not None
    conn.execute(SEGMENT_TABLE)
    entries = 0
    start = time.perf_counter()
    for op_rows, groups in work:
        conn.execute("BEGIN IMMEDIATE")
        if shape == "today":
            conn.executemany(INSERT_OP_LOG, op_rows)
        else:
            values = ("[" + ",".join(row[7] for row in op_rows) + "]").encode()
            segment = (op_rows[0][0], op_rows[0][1], op_rows[-1][1], zlib.compress(values, 1))
            conn.execute(INSERT_SEGMENT, segment)
            if shape == "lean":
                conn.executemany(INSERT_OP_LOG, [(*row[:7], "", *row[8:]) for row in op_rows])
        for sql, rows in groups:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
        entries += len(op_rows)
    elapsed = time.perf_counter() - start
    raw.close()
    store.close()
    return entries / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small volumes (smoke run)")
    args = parser.parse_args()
    count, rounds = (2_000, 1) if args.quick else (20_000, 3)
    shapes = ("today", "lean", "segment")
    labels = {
        "today": "op-log row with its values + table row (today)",
        "lean": "op-log row without values + batch kept once + table row",
        "segment": "no op-log row: batch kept once + table row",
    }
    with tempfile.TemporaryDirectory(prefix="cms-bench-floor-") as tmp:
        root = Path(tmp)
        print(f"CPU calibration: {calibration_s():.2f} s for 10M Python loop iterations")
        work = batches(root, count)
        total = sum(len(op_rows) for op_rows, _ in work)
        best = dict.fromkeys(shapes, 0.0)
        for round_ in range(rounds):
            for shape in shapes:
                rate = run(root, f"{shape}-{round_}", shape, work)
                best[shape] = max(best[shape], rate)
        print(f"{total:,} received audit entries, rows written with no Python per entry:")
        for shape in shapes:
            ratio = best[shape] / best["today"]
            print(f"  {labels[shape]}: {best[shape]:,.0f} entries/s ({ratio:.2f}× today)")
        print("target for the whole merge, with verification: ≥ 20,000 entries/s")


if __name__ == "__main__":
    main()
