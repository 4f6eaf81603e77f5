"""Online backup of the big centre (100,000 patients, 1,000,000 notes) while a writer saves.

Targets (issue #19): the longest pause the backup causes to a save <= 100 ms; prints the
backup's wall time, the saves' durations without and with the backup running, the time of
a full check of the file and of a restore. The writer runs in the same process as the
backup, as in the application (the backup on a pool thread, saves on the writer thread).
The cached centre (bench/bigdb.py) is copied first, so it stays as built.
Run: PYTHONPATH=src python bench/bench_backup.py [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bigdb import PASSWORD, bench_dir, big_centre

from cms_desktop.services import backup_restore, backups, patients
from cms_desktop.services.patient_form import PatientForm
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir

BASELINE_S = 30.0


def _letters(n: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in str(n))


class Writer(threading.Thread):
    """Saves one new patient after another, as fast as reception could, timing each save."""

    def __init__(self, data_dir: DataDir) -> None:
        super().__init__(name="writer", daemon=True)
        self.ws, self.actor = login(data_dir, "accueil", PASSWORD)
        self.stop = threading.Event()
        self.durations: list[tuple[float, float]] = []  # (start, seconds)
        self.n = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            form = PatientForm(
                birth_name=f"Bench{_letters(self.n)}",
                first_given_name="Lou",
                given_names="Lou",
                sex="F",
                birth_date=f"{date(1930, 1, 1) + timedelta(days=(53 * self.n) % 30_000):%d/%m/%Y}",
            )
            start = time.perf_counter()
            patients.create_patient(self.ws, self.actor, form)
            self.durations.append((start, time.perf_counter() - start))
            # A person does not save continuously: one save every 20 ms is already a flood.
            self.stop.wait(0.02)

    def between(self, t0: float, t1: float) -> list[float]:
        return [d for s, d in self.durations if t0 <= s <= t1]


def _ms(values: list[float]) -> str:
    if not values:
        return "no saves"
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return (
        f"{len(values)} saves, median {statistics.median(values) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    source = big_centre(quick)
    run = bench_dir() / "backup-run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    data_dir = DataDir(run / "centre")
    shutil.copytree(source.path, data_dir.path)
    target = run / "usb"
    target.mkdir()
    size = data_dir.database.stat().st_size
    print(f"Centre: {source.path} ({size / 1e6:.0f} MB)")

    ws, admin = login(data_dir, "admin", PASSWORD)
    writer = Writer(data_dir)
    writer.start()
    try:
        # The baseline: saves with no backup running, over a comparable time.
        time.sleep(BASELINE_S)
        baseline = [d for _s, d in writer.durations]
        t0 = time.perf_counter()
        phases: dict[str, float] = {}

        def progress(_fraction: float, phase: str) -> None:
            phases.setdefault(phase, time.perf_counter())

        result = backups.create_backup(ws, admin, [str(target)], progress)
        t1 = time.perf_counter()
        during = writer.between(t0, t1)
    finally:
        writer.stop.set()
        writer.join()
        writer.ws.close()
    file = Path(result.written[0])
    print(f"Backup: {t1 - t0:.1f} s wall, file {file.stat().st_size / 1e6:.0f} MB")
    marks = [*phases.items(), ("fin", t1)]
    for (phase, start), (_next, end) in itertools.pairwise(marks):
        saves = writer.between(start, end)
        longest = f"{max(saves) * 1000:.0f} ms" if saves else "-"
        print(f"  {phase:<22} {end - start:6.1f} s   longest save {longest}")
    print(f"Saves without backup: {_ms(baseline)}")
    print(f"Saves during backup:  {_ms(during)}")
    pause = max(during) - statistics.median(baseline) if during else 0.0
    print(
        f"Longest pause caused to a save: {pause * 1000:.0f} ms "
        f"(longest save during the backup minus the usual save; target <= 100 ms); "
        f"for scale, the longest save without backup was "
        f"{(max(baseline) - statistics.median(baseline)) * 1000:.0f} ms over the usual"
    )

    t0 = time.perf_counter()
    report = backups.verify_backup_file(ws, admin, file)
    print(f"Full check of the file (backup verify): {time.perf_counter() - t0:.1f} s")
    ws.close()
    del report

    restored = DataDir(run / "restored")
    t0 = time.perf_counter()
    backup_restore.restore(file, restored, "admin", PASSWORD)
    print(f"Restore into a new data directory (checks included): {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    rws, _ = login(restored, "admin", PASSWORD)
    rws.close()
    print(f"First login on the restored centre: {time.perf_counter() - t0:.1f} s")
    shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
