"""Opening a patient's file (synthesis + last 20 consultations + allergies) on a big centre.

Target (issue #3): <= 50 ms with 100,000 patients and 1,000,000 consultations.
Prints p50/p95; asserts nothing. ``--quick`` runs on 2,000 patients / 20,000 notes.
The notes and synthesis texts are sealed under the clinical key as the application writes
them (#17: every text field and the vitals decrypted at each opening); ``--plain`` builds
them as centres written before the clinical key hold them.
Run: PYTHONPATH=src python bench/bench_patient_file.py [--quick] [--plain]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from cms_desktop.domain.permissions import Role
from cms_desktop.domain.signed_acts import CONSULTATION, FIELDS, SignatureStatus
from cms_desktop.services import patient_file, setup, timeline, users
from cms_desktop.services.workspace import login
from cms_desktop.storage import clinical_crypto, signing
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import AllergyRow, Consultation, Patient, ProblemRow

PASSWORD = "Bench-Secret-2026"


def _sealer(ws, plain: bool):  # type: ignore[no-untyped-def]
    key = None if plain else ws.clinical_writing_key

    def seal(table: str, row: dict[str, object], texts: tuple[str, ...]) -> dict[str, object]:
        if key is None:
            return row
        for name in texts:
            if row.get(name):
                row[name] = clinical_crypto.encrypt_field(
                    key, table, str(row["id"]), name, str(row[name])
                )
        if table == "consultations":
            vitals = {n: row.pop(n) for n in ("weight_kg", "systolic", "diastolic")}
            row["vitals"] = clinical_crypto.encrypt_json(
                key, table, str(row["id"]), "vitals", vitals
            )
        return row

    return seal


def _build(ws, doctor_id: str, patients: int, notes: int, plain: bool) -> list[str]:  # type: ignore[no-untyped-def]
    # Bulk core inserts bypass the op-log capture on purpose: this is a data builder.
    rng = random.Random(1)
    seal = _sealer(ws, plain)
    ids = [str(uuid.uuid4()) for _ in range(patients)]
    now = datetime.now(UTC)
    with ws.store.write() as session:
        for start in range(0, patients, 10_000):
            session.execute(
                insert(Patient),
                [
                    {
                        "id": pid,
                        "version": "",
                        "deleted": False,
                        "created_at": now,
                        "updated_at": now,
                        "birth_name": f"NOM{i}",
                        "first_given_name": "Prénom",
                        "birth_date": date(1940, 1, 1) + timedelta(days=rng.randint(0, 25_000)),
                        "sex": rng.choice("MF"),
                    }
                    for i, pid in enumerate(ids[start : start + 10_000], start)
                ],
            )
        session.execute(
            insert(AllergyRow),
            [
                seal(
                    "synthesis_allergies",
                    {
                        "id": str(uuid.uuid4()),
                        "version": "",
                        "deleted": False,
                        "created_at": now,
                        "updated_at": now,
                        "patient_id": pid,
                        "substance": "Pénicilline",
                        "kind": "allergy",
                        "severity": "severe",
                        "status": "active",
                        "reaction": "",
                        "note": "",
                    },
                    ("substance",),
                )
                for pid in ids[::7]
            ],
        )
        session.execute(
            insert(ProblemRow),
            [
                seal(
                    "synthesis_problems",
                    {
                        "id": str(uuid.uuid4()),
                        "version": "",
                        "deleted": False,
                        "created_at": now,
                        "updated_at": now,
                        "patient_id": pid,
                        "label": "HTA",
                        "code": "K86",
                        "status": "active",
                    },
                    ("label", "code"),
                )
                for pid in ids[::3]
            ],
        )
    made = 0
    while made < notes:
        batch = min(50_000, notes - made)
        with ws.store.write() as session:
            session.execute(
                insert(Consultation),
                [
                    seal(
                        "consultations",
                        {
                            "id": str(uuid.uuid4()),
                            "version": "",
                            "deleted": False,
                            "created_at": now,
                            "updated_at": now,
                            "patient_id": rng.choice(ids),
                            "author_id": doctor_id,
                            "seen_at": now - timedelta(days=rng.randint(0, 3650)),
                            "signed_at": now,
                            "reason": "Suivi",
                            "examination": "Examen normal " * 5,
                            "diagnosis": "",
                            "diagnosis_code": "",
                            "treatment": "",
                            "conclusion": "RAS",
                            "weight_kg": 70.0,
                            "systolic": 130.0,
                            "diastolic": 80.0,
                        },
                        ("reason", "examination", "conclusion"),
                    )
                    for _ in range(batch)
                ],
            )
        made += batch
    return ids


def _build_heavy(ws, doctor_id: str, count: int, per_patient: int, plain: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` patients with ``per_patient`` consultations each, signed by the doctor's
    key as ``records.sign_draft`` signs them (cms-act-2 over the stored ciphertext)."""
    rng = random.Random(3)
    seal = _sealer(ws, plain)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with ws.store.write() as session:
        session.execute(
            insert(Patient),
            [
                {
                    "id": pid,
                    "version": "",
                    "deleted": False,
                    "created_at": now,
                    "updated_at": now,
                    "birth_name": f"LOURD{i}",
                    "first_given_name": "Prénom",
                    "birth_date": date(1950, 1, 1),
                    "sex": "F",
                }
                for i, pid in enumerate(ids)
            ],
        )
        rows = []
        for pid in ids:
            for n in range(per_patient):
                row = seal(
                    "consultations",
                    {
                        "id": str(uuid.uuid4()),
                        "version": "",
                        "deleted": False,
                        "created_at": now,
                        "updated_at": now,
                        "patient_id": pid,
                        "author_id": doctor_id,
                        "seen_at": now - timedelta(days=n * 7 + rng.randint(0, 6)),
                        "signed_at": now,
                        "amends_id": None,
                        "draft_id": None,
                        "reason": "Suivi",
                        "examination": "Examen normal " * 5,
                        "diagnosis": "",
                        "diagnosis_code": "",
                        "treatment": "",
                        "conclusion": "RAS",
                        "weight_kg": 70.0,
                        "systolic": 130.0,
                        "diastolic": 80.0,
                    },
                    ("reason", "examination", "conclusion"),
                )
                if ws.signing_key is not None:
                    row["signing_key_id"] = ws.signing_key_id
                    row["signature"] = signing.sign(
                        ws.signing_key,
                        CONSULTATION,
                        {name: row.get(name) for name in FIELDS[CONSULTATION]},
                    )
                rows.append(row)
        session.execute(insert(Consultation), rows)
    return ids


def _report(label: str, times: list[float]) -> None:
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms (target <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plain", action="store_true", help="notes as before the clinical key")
    args = parser.parse_args()
    patients, notes = (2_000, 20_000) if args.quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = DataDir(Path(tmp) / "centre")
        kdf = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
        setup.initialise_centre(
            data_dir, setup.CentreDraft(name="Bench"), "admin", "A", PASSWORD, kdf=kdf
        )
        ws, admin = login(data_dir, "admin", PASSWORD)
        users.create_user(ws, admin, users.NewUser("dr.bench", "Dr Bench", Role.DOCTOR, PASSWORD))
        ws.close()
        ws, doctor = login(data_dir, "dr.bench", PASSWORD)
        start = time.perf_counter()
        ids = _build(ws, doctor.user_id, patients, notes, args.plain)
        print(
            f"built {patients:,} patients / {notes:,} consultations "
            f"({'plaintext' if args.plain else 'sealed under the clinical key'}) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        rng = random.Random(2)
        times = []
        for pid in rng.sample(ids, 200):
            t = time.perf_counter()
            opened = patient_file.open_patient_file(ws, doctor, pid)
            times.append((time.perf_counter() - t) * 1000)
            assert len([c for c in opened.consultations if c.amends_id is None]) <= 20
        _report("open_patient_file (audited)", times)
        times = []
        for pid in rng.sample(ids, 200):
            t = time.perf_counter()
            patient_file.open_patient_file(ws, doctor, pid, reload=True)
            times.append((time.perf_counter() - t) * 1000)
        _report("same reads without the audit write and commit", times)
        heavy = _build_heavy(ws, doctor.user_id, 20, 300, args.plain)
        first = patient_file.open_patient_file(ws, doctor, heavy[0])
        shown = [c for c in first.consultations if c.amends_id is None]
        verified = sum(c.signature is SignatureStatus.VERIFIED for c in shown)
        print(
            f"patients with 300 signed consultations: the file shows {len(shown)}, "
            f"{verified} signatures verified"
        )
        times = []
        for _ in range(10):
            for pid in heavy:
                t = time.perf_counter()
                patient_file.open_patient_file(ws, doctor, pid)
                times.append((time.perf_counter() - t) * 1000)
        _report("open_patient_file, 300 signed consultations (audited)", times)
        # What the record screen loads for that patient: the file, the timeline (every
        # note's reason opened) and the measurement curves (every note's vitals opened).
        times = []
        for _ in range(10):
            for pid in heavy:
                t = time.perf_counter()
                patient_file.open_patient_file(ws, doctor, pid)
                items = timeline.timeline(ws, doctor, pid)
                patient_file.measurement_series(ws, doctor, pid)
                times.append((time.perf_counter() - t) * 1000)
        assert len(items) >= 300
        _report("file + timeline + curves, 300 signed consultations all opened", times)
        ws.close()


if __name__ == "__main__":
    main()
