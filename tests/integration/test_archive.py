"""The whole-centre archive: encrypted, self-describing, readable with its passphrase only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import archives
from cms_desktop.services.errors import ValidationFailed
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.backup_helpers import (
    BIRTH_NAME,
    NOTE_TEXT,
    add_patient_with_note,
    assert_no_clear_patient_data,
)
from tests.integration.test_cli import run

PHRASE = "Quatre chevaux Bleus dans 1 pré"


def _export(centre: Centre, folder: Path) -> Path:
    ws, director = centre.login("direction")
    try:
        result = archives.export_centre_archive(ws, director, folder, PHRASE, PHRASE)
    finally:
        ws.close()
    return Path(result.path)


def test_archive_is_encrypted_and_reads_back(centre: Centre, tmp_path: Path) -> None:
    add_patient_with_note(centre)
    folder = tmp_path / "archives"
    folder.mkdir()
    path = _export(centre, folder)
    assert_no_clear_patient_data(path)
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temp file left

    contents = archives.describe_archive(path, PHRASE)
    assert contents.about["centre_name"] == "CMS des Tests"
    assert "sqlcipher" in contents.about["how_to_read"]
    tables = {name: (description, count) for name, description, count in contents.tables}
    assert tables["patients"][1] == 1 and tables["consultations"][1] == 1
    assert tables["centre"][0].startswith("The centre")  # from the model's docstring
    patients = list(archives.archive_rows(path, PHRASE, "patients"))
    assert patients[0]["birth_name"].upper().startswith(BIRTH_NAME.upper())
    notes = list(archives.archive_rows(path, PHRASE, "consultations"))
    assert NOTE_TEXT in notes[0]["examination"]
    # What belongs to one workstation only is not archived.
    assert list(archives.archive_rows(path, PHRASE, "local_state")) == []
    assert {u["password_hash"] for u in archives.archive_rows(path, PHRASE, "users")} == {""}


def test_wrong_passphrase_and_weak_ones(centre: Centre, tmp_path: Path) -> None:
    path = _export(centre, tmp_path)
    with pytest.raises(archives.ArchiveFailed, match="phrase de passe incorrecte"):
        archives.describe_archive(path, "pas la bonne phrase 12")
    ws, director = centre.login("direction")
    try:
        with pytest.raises(ValidationFailed, match="16 caractères"):
            archives.export_centre_archive(ws, director, tmp_path, "Court-1a", "Court-1a")
        with pytest.raises(ValidationFailed, match="diffèrent"):
            archives.export_centre_archive(ws, director, tmp_path, PHRASE, PHRASE + "x")
    finally:
        ws.close()


def test_the_administrator_may_not_archive_clinical_content(centre: Centre, tmp_path: Path) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            archives.export_centre_archive(ws, admin, tmp_path, PHRASE, PHRASE)
    finally:
        ws.close()
    assert list(tmp_path.iterdir()) == [tmp_path / "centre"]


def test_archive_commands(
    centre: Centre,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_patient_with_note(centre)
    out_dir = tmp_path / "archives"
    out_dir.mkdir()
    code, out, err = run(
        monkeypatch,
        capsys,
        [
            "--data-dir",
            str(centre.data_dir.path),
            "archive",
            "export",
            "--to",
            str(out_dir),
            "--as",
            "direction",
            "--password-stdin",
        ],
        f"{STAFF_PASSWORD}\n{PHRASE}\n{PHRASE}\n",
    )
    assert code == 0, err
    file = str(next(out_dir.iterdir()))
    code, out, err = run(
        monkeypatch, capsys, ["archive", "read", file, "--password-stdin"], PHRASE + "\n"
    )
    assert code == 0 and "patients" in out and "CMS des Tests" in out
    code, out, err = run(
        monkeypatch,
        capsys,
        ["archive", "read", file, "--table", "consultations", "--password-stdin"],
        PHRASE + "\n",
    )
    assert code == 0 and NOTE_TEXT in json.loads(out.splitlines()[0])["examination"]
    code, out, err = run(
        monkeypatch, capsys, ["archive", "read", file, "--password-stdin"], "mauvaise\n"
    )
    assert code == 1 and out == "" and err.count("\n") == 1 and "incorrecte" in err


def test_archive_of_chosen_patients_holds_their_records_only(
    centre: Centre,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime, timedelta

    from cms_desktop.services import audit_journal
    from cms_desktop.services.audit_journal import JournalQuery
    from cms_desktop.storage.models import Consultation

    kept = add_patient_with_note(centre, 1)
    active = add_patient_with_note(centre, 2)
    ws, director = centre.login("direction")
    later = datetime.now(UTC) + timedelta(days=6 * 365)
    with ws.store.write() as session:  # the second patient comes back in five and a half years
        note = session.query(Consultation).filter_by(patient_id=active).one()
        session.add(
            Consultation(
                patient_id=active,
                author_id=note.author_id,
                seen_at=later - timedelta(days=180),
                signed_at=later - timedelta(days=180),
                reason="Retour",
            )
        )
    found = archives.inactive_patients(ws, director, 5, now=later)
    assert [p.id for p in found] == [kept]
    assert found[0].label.endswith("— 12/04/1974") and found[0].last_activity is not None
    assert archives.inactive_patients(ws, director, 7, now=later) == []
    ws.close()

    out_dir = tmp_path / "archives"
    out_dir.mkdir()
    base = ["--data-dir", str(centre.data_dir.path), "archive", "patients"]
    auth = ["--as", "direction", "--password-stdin"]
    code, out, err = run(
        monkeypatch,
        capsys,
        [*base, "--patient", kept, "--to", str(out_dir), *auth],
        f"{STAFF_PASSWORD}\n{PHRASE}\n{PHRASE}\n",
    )
    assert code == 0, err
    path = next(out_dir.iterdir())
    assert_no_clear_patient_data(path)
    assert [p.name for p in out_dir.iterdir()] == [path.name]  # no temp file left
    contents = archives.describe_archive(path, PHRASE)
    assert contents.about["scope"] == "patients" and contents.about["patient_count"] == "1"
    assert [p["id"] for p in archives.archive_rows(path, PHRASE, "patients")] == [kept]
    notes = list(archives.archive_rows(path, PHRASE, "consultations"))
    assert [n["patient_id"] for n in notes] == [kept] and NOTE_TEXT in notes[0]["examination"]
    audit = list(archives.archive_rows(path, PHRASE, "audit_log"))
    assert audit and {a["target_id"] for a in audit} <= {kept, notes[0]["id"]}
    assert {u["password_hash"] for u in archives.archive_rows(path, PHRASE, "users")} == {""}
    tables = {name for name, _d, _c in contents.tables}
    assert "local_state" not in tables and "op_log" not in tables
    # The existing reader command reads it.
    code, out, err = run(
        monkeypatch, capsys, ["archive", "read", str(path), "--password-stdin"], PHRASE + "\n"
    )
    assert code == 0 and "CMS des Tests" in out and "patients archivés : 1" in out, err
    # Audited on the patient's record: the director's journal shows it there.
    ws, director = centre.login("direction")
    page = audit_journal.search(
        ws, director, JournalQuery(patient_id=kept, action="patient_archive_exported")
    )
    assert page.total == 1
    assert (
        audit_journal.search(
            ws, director, JournalQuery(patient_id=active, action="patient_archive_exported")
        ).total
        == 0
    )
    ws.close()
    # Bad input: one line on stderr, exit 1, nothing written.
    code, out, err = run(
        monkeypatch,
        capsys,
        [*base, "--patient", "inconnu", "--to", str(out_dir), *auth],
        f"{STAFF_PASSWORD}\n{PHRASE}\n{PHRASE}\n",
    )
    assert code == 1 and err.count("\n") == 1 and "introuvable" in err
    code, out, err = run(
        monkeypatch,
        capsys,
        [*base, "--inactive-years", "0", "--list", *auth],
        STAFF_PASSWORD + "\n",
    )
    assert code == 1 and "au moins 1" in err
    assert len(list(out_dir.iterdir())) == 1
    # Reception and the administrator may not archive clinical content.
    code, out, err = run(
        monkeypatch,
        capsys,
        [*base, "--patient", kept, "--to", str(out_dir), "--as", "admin", "--password-stdin"],
        f"{ADMIN_PASSWORD}\n{PHRASE}\n{PHRASE}\n",
    )
    assert code == 1 and len(list(out_dir.iterdir())) == 1
