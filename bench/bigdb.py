"""A big synthetic centre for benchmarks: 100,000 patients and 1,000,000 consultations.

Built once on real SQLCipher and cached under ``$CMS_BENCH_DIR`` (default /tmp/cms-bench).
Bulk Core inserts skip the op-log (a builder, not an application write); the patient
search index is still filled, by the triggers on ``patients``.
Run alone to build: PYTHONPATH=src python bench/bigdb.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from faker import Faker
from sqlalchemy import insert, select

from cms_desktop.domain.nir import compute_nir_key
from cms_desktop.domain.permissions import Role
from cms_desktop.services import setup, users
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, Patient, User, new_id

PASSWORD = "Bench-Secret-2026"
FULL = (100_000, 1_000_000)
QUICK = (5_000, 50_000)
BATCH = 20_000


def bench_dir() -> Path:
    return Path(os.environ.get("CMS_BENCH_DIR", "/tmp/cms-bench"))


def _patients(rng: random.Random, fake: Faker, count: int) -> list[dict[str, object]]:
    last = [fake.last_name() for _ in range(3000)]
    female = [fake.first_name_female() for _ in range(600)]
    male = [fake.first_name_male() for _ in range(600)]
    cities = [fake.city() for _ in range(300)]
    today = date.today()
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for n in range(count):
        sex = "F" if rng.random() < 0.52 else "M"
        first = rng.choice(female if sex == "F" else male)
        birth = today - timedelta(days=rng.randint(0, 95 * 365))
        first13 = f"{1 if sex == 'M' else 2}{birth:%y%m}{rng.randint(1, 95):02d}{rng.randint(1, 400):03d}{rng.randint(1, 999):03d}"
        rows.append(
            {
                "id": new_id(),
                "version": f"bench.{n:08d}",
                "deleted": False,
                "created_at": now,
                "updated_at": now,
                "birth_name": rng.choice(last).upper(),
                "used_name": rng.choice(last).upper() if sex == "F" and rng.random() < 0.3 else "",
                "first_given_name": first,
                "given_names": first,
                "used_given_name": "",
                "birth_date": birth,
                "sex": sex,
                "nir": first13 + f"{compute_nir_key(first13):02d}" if rng.random() < 0.9 else "",
                "phone_mobile": f"+33{rng.choice('67')}{rng.randint(10_000_000, 99_999_999)}",
                "city": rng.choice(cities),
                "identity_status": "provisional",
            }
        )
    return rows


def build(data_dir: DataDir, patients: int, consultations: int) -> None:
    setup.initialise_centre(
        data_dir, setup.CentreDraft(name="CMS Bench", rooms=()), "admin", "A", PASSWORD
    )
    ws, admin = login(data_dir, "admin", PASSWORD)
    try:
        users.create_user(ws, admin, users.NewUser("accueil", "Accueil", Role.RECEPTION, PASSWORD))
        users.create_user(ws, admin, users.NewUser("dr.bench", "Dr Bench", Role.DOCTOR, PASSWORD))
        _fill(ws, patients, consultations)
    finally:
        ws.close()


def _fill(ws: Workspace, patients: int, consultations: int) -> None:
    rng = random.Random(2026)
    fake = Faker("fr_FR")
    fake.seed_instance(2026)
    start = time.perf_counter()
    rows = _patients(rng, fake, patients)
    ids = [str(r["id"]) for r in rows]
    with ws.store.engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(Patient), rows[i : i + BATCH])
        author = conn.execute(select(User.id).where(User.login == "dr.bench")).scalar_one()
    print(f"  {patients} patients (with search index) in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    now = datetime.now(UTC)
    reasons = ("Renouvellement", "Fièvre", "Toux", "Douleur lombaire", "Suivi diabète", "Vaccin")
    done = 0
    while done < consultations:
        n = min(BATCH * 2, consultations - done)
        batch = []
        for k in range(n):
            seen = now - timedelta(days=rng.randint(0, 3650), minutes=rng.randint(0, 600))
            batch.append(
                {
                    "id": new_id(),
                    "version": f"bench.c{done + k:08d}",
                    "deleted": False,
                    "created_at": now,
                    "updated_at": now,
                    "patient_id": ids[rng.randrange(len(ids))],
                    "author_id": author,
                    "seen_at": seen,
                    "signed_at": seen,
                    "reason": rng.choice(reasons),
                    "examination": "Examen clinique sans particularité.",
                    "diagnosis": "",
                    "diagnosis_code": "",
                    "treatment": "",
                    "conclusion": "Revoir si besoin.",
                    "weight_kg": round(rng.uniform(45, 110), 1) if rng.random() < 0.5 else None,
                    "systolic": float(rng.randint(100, 170)) if rng.random() < 0.5 else None,
                    "diastolic": float(rng.randint(60, 100)) if rng.random() < 0.5 else None,
                }
            )
        with ws.store.engine.begin() as conn:
            conn.execute(insert(Consultation), batch)
        done += n
    print(f"  {consultations} consultations in {time.perf_counter() - start:.1f} s")


def big_centre(quick: bool = False) -> DataDir:
    """The cached centre (built on first use). Log in as "accueil" or "dr.bench"."""
    patients, consultations = QUICK if quick else FULL
    # The schema revision is part of the name: a cache built by older code is not reused.
    from cms_desktop.storage.migrations import head_revision

    path = bench_dir() / f"bigdb-{patients}-{consultations}-rev{head_revision()}"
    marker = path / "complete"
    data_dir = DataDir(path / "centre")
    if not marker.exists():
        if path.exists():
            import shutil

            shutil.rmtree(path)
        path.mkdir(parents=True)
        print(f"Building {path} (once)…", file=sys.stderr)
        build(data_dir, patients, consultations)
        marker.write_text("ok\n")
    return data_dir


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    print(big_centre(parser.parse_args().quick).path)
