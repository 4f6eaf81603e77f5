"""A centre made by an earlier version of the software opens with this one and keeps its data.

Each fixture under tests/fixtures/upgrade/ is a real data directory (SQLCipher database and
key slots) that the code of an earlier commit made, with the row counts that code saw
(tools/make_upgrade_fixture.py). Opening it here runs the migrations to head, as a station
does at its first start after the update."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from cms_desktop.services import audit_trail, patient_search
from cms_desktop.services.demo_accounts import DEMO_PASSWORD
from cms_desktop.services.workspace import login
from cms_desktop.storage import migrations
from cms_desktop.storage.datadir import DataDir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade"
# Rows a login and the migrations never add to: they must come through one for one.
UNCHANGED = ("patients", "consultations", "appointments", "users")


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_a_centre_of_an_earlier_version_upgrades_and_keeps_its_data(
    tmp_path: Path, fixture: str
) -> None:
    manifest = json.loads((FIXTURES / fixture / "manifest.json").read_text())
    centre = DataDir(tmp_path / fixture)
    shutil.copytree(FIXTURES / fixture, centre.path)

    ws, _admin = login(centre, "admin", DEMO_PASSWORD)
    try:
        assert manifest["revision"] != migrations.head_revision()
        assert migrations.current_revision(ws.store.engine) == migrations.head_revision()
        with ws.store.read() as session:
            counts = {
                t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in manifest["counts"]
            }
            a_patient = session.execute(
                text("SELECT birth_name FROM patients ORDER BY id LIMIT 1")
            ).scalar_one()
        for table in UNCHANGED:
            assert counts[table] == manifest["counts"][table], table
        # The op-log and the audit trail only grow (this login is audited).
        assert counts["op_log"] >= manifest["counts"]["op_log"]
        assert counts["audit_log"] > manifest["counts"]["audit_log"]
        assert ws.store.integrity_check() == []
        # The old entries still chain: none was rewritten by a table rebuild.
        assert audit_trail.verify(ws).ok
    finally:
        ws.close()

    # The station works as usual: a clinician logs in, the search index finds the patients.
    ws, doctor = login(centre, "dr.moreau", DEMO_PASSWORD)
    try:
        hits = patient_search.search_patients(ws, doctor, a_patient)
        assert any(a_patient.upper() in hit.display_name.upper() for hit in hits)
    finally:
        ws.close()
