"""The benchmarks still run against the current schema (their figures are read by people,
not asserted: see bench/). A bench that writes rows itself breaks silently when a column
is added (session 13 found ``bench_sync_db`` failing since migration 0020)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_sync_merge_benchmark_runs_and_prints_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_sync_db.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    merges = [line for line in done.stdout.splitlines() if line.startswith("merge with")]
    assert len(merges) == 5, done.stdout
    assert "sealed consultations" in done.stdout
    assert "commit → visible" in done.stdout
