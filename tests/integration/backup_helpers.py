"""Shared by the backup tests: a centre with a synthetic patient and a signed note."""

from __future__ import annotations

from pathlib import Path

from cms_desktop.services import patients, records
from cms_desktop.services.records import NoteContent
from cms_desktop.services.workspace import Workspace
from tests.conftest import Centre
from tests.patient_helpers import form

# Synthetic, and rare enough that finding them in a file can only mean a leak.
PATIENT_NAME = "Zephyrine"
BIRTH_NAME = "Quillebeuf"
NOTE_TEXT = "Souffle systolique Xylophonique discret"


def add_patient_with_note(centre: Centre, n: int = 0) -> str:
    ws, reception = centre.login("accueil")
    try:
        pid = patients.create_patient(
            ws,
            reception,
            form(
                birth_name=BIRTH_NAME + "".join(chr(ord("a") + int(d)) for d in str(n)),
                first_given_name=PATIENT_NAME,
                given_names=PATIENT_NAME,
                sex="F",
                birth_date=f"12/04/{1975 - n}",
            ),
        )
    finally:
        ws.close()
    ws, doctor = centre.login("dr.test")
    try:
        draft = records.save_draft(
            ws, doctor, pid, NoteContent(reason="Contrôle", examination=f"{NOTE_TEXT} {n}")
        )
        records.sign_draft(ws, doctor, draft)
    finally:
        ws.close()
    return pid


def assert_no_clear_patient_data(path: Path) -> None:
    data = path.read_bytes()
    for secret in (PATIENT_NAME, BIRTH_NAME, NOTE_TEXT, "Xylophonique"):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in data, f"{secret!r} in clear in {path.name}"
            assert secret.upper().encode(encoding) not in data


def table_counts(ws: Workspace) -> dict[str, int]:
    from sqlalchemy import text

    with ws.store.read() as session:
        names = session.execute(
            text("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ).scalars()
        return {
            n: int(session.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names
        }


def bulk_patients(centre: Centre, count: int) -> None:
    """Many synthetic patients at once (Core inserts, as bench/bigdb.py): a bigger file."""
    from datetime import UTC, date, datetime

    from sqlalchemy import insert

    from cms_desktop.storage.models import Patient, new_id

    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id(),
            "version": f"bulk.{n}",
            "deleted": False,
            "created_at": now,
            "updated_at": now,
            "birth_name": f"NOM{n:06d}",
            "first_given_name": "Camille",
            "given_names": "Camille",
            "birth_date": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
            "sex": "F",
        }
        for n in range(count)
    ]
    ws, _ = centre.login("accueil")
    try:
        with ws.store.engine.begin() as conn:
            conn.execute(insert(Patient), rows)
    finally:
        ws.close()
