"""How fast a holder's window seals what an earlier version wrote in clear (#17, item 5).

Run: ``PYTHONPATH=src python bench/bench_legacy_sealing.py [--notes N]``

Starts from the real data directory of revision 0009 (tests/fixtures/upgrade), adds ``N``
consultations written as a schema-18 station wrote them (in clear, op-log entries of
schema 18, spread over its patients), then seals everything in the batches the window
uses (``WINDOW_BATCH`` rows) and prints: rows sealed per second, the time of one batch (the window's
writer is busy that long; a user's save waits at most that), and the scan of a station
that has nothing left to seal (what every later login costs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cms_desktop.services import legacy_sealing
from cms_desktop.services.demo_accounts import DEMO_PASSWORD
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Patient, User, new_id
from cms_desktop.storage.models.clinical import Consultation

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "upgrade" / "centre-0009"
BATCH = legacy_sealing.WINDOW_BATCH


def _legacy_notes(data_dir: DataDir, count: int) -> None:
    ws, _admin = login(data_dir, "admin", DEMO_PASSWORD)  # the upgrade to this schema
    try:
        replication = ws.store.replication
        replication.schema_version = 18  # written as an earlier version did
        with ws.store.read() as session:
            patients = list(session.scalars(select(Patient.id)))
            author = session.scalars(select(User.id).where(User.login == "dr.moreau")).one()
        start = datetime(2024, 1, 1, 8, tzinfo=UTC)
        done = 0
        while done < count:
            with ws.store.write() as session:
                for i in range(done, min(count, done + 1000)):
                    when = start + timedelta(minutes=20 * i)
                    session.add(
                        Consultation(
                            id=new_id(),
                            patient_id=patients[i % len(patients)],
                            author_id=author,
                            seen_at=when,
                            signed_at=when,
                            reason="Toux fébrile depuis trois jours",
                            examination="Auscultation : crépitants base droite.",
                            diagnosis="Pneumopathie communautaire",
                            diagnosis_code="J18.9",
                            treatment="Amoxicilline 1 g x 3 pendant 7 jours",
                            conclusion="Revoir si fièvre persistante",
                            weight_kg=70.0 + i % 20,
                            systolic=120 + i % 15,
                        )
                    )
            done = min(count, done + 1000)
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cms-bench-seal-") as tmp:
        data_dir = DataDir(Path(tmp) / "centre")
        shutil.copytree(FIXTURE, data_dir.path)
        _legacy_notes(data_dir, args.notes)
        ws, doctor = login(data_dir, "dr.moreau", DEMO_PASSWORD)
        try:
            batches: list[float] = []
            sealed = 0
            start = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                progress = legacy_sealing.seal_legacy_rows(ws, doctor, BATCH)
                batches.append(time.perf_counter() - t0)
                sealed += progress.sealed
                if not progress.remaining:
                    break
            total = time.perf_counter() - start
            t0 = time.perf_counter()
            assert legacy_sealing.seal_legacy_rows(ws, doctor, BATCH).sealed == 0
            idle = time.perf_counter() - t0
        finally:
            ws.close()
        full = sorted(batches[:-1]) or batches
        print(f"rows sealed: {sealed:,} in {total:.1f} s ({sealed / total:,.0f} rows/s)")
        print(
            f"one batch of {BATCH}: median {statistics.median(full) * 1000:.0f} ms, "
            f"max {max(full) * 1000:.0f} ms (the writer is busy that long)"
        )
        print(f"a later pass with nothing left to seal: {idle * 1000:.0f} ms")


if __name__ == "__main__":
    main()
