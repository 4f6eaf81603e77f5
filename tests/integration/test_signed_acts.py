"""Signed clinical acts (#17): each clinician signs with an Ed25519 key of their own; a note
changed in the database afterwards is reported by the record and by ``check``."""

from __future__ import annotations

import io
import sys
from dataclasses import replace

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.cli import main
from cms_desktop.domain.signed_acts import CONSULTATION, FIELDS, SignatureStatus
from cms_desktop.services import patient_file, records, signatures, users
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage import keyslots, signing
from cms_desktop.storage.models import Consultation, SigningKey
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre, hand_over
from tests.integration.clinical_fixtures import make_patient
from tests.integration.printing.helpers import add_patient, set_practitioner
from tests.integration.printing.test_prescriptions_service import AMOX

SECRET_DIAGNOSIS = "Angine bactérienne ZORGLUB"


def _sign_note(
    centre: Centre, pid: str, diagnosis: str = SECRET_DIAGNOSIS, password: str = STAFF_PASSWORD
) -> str:
    ws, doctor = centre.login("dr.test", password)
    try:
        content = records.NoteContent(
            reason="Fièvre", diagnosis=diagnosis, conclusion="Repos", weight_kg=72
        )
        draft = records.save_draft(ws, doctor, pid, content)
        return records.sign_draft(ws, doctor, draft)
    finally:
        ws.close()


def _statuses(
    centre: Centre, pid: str, password: str = STAFF_PASSWORD
) -> dict[str, SignatureStatus | None]:
    ws, doctor = centre.login("dr.test", password)
    try:
        file = patient_file.open_patient_file(ws, doctor, pid)
        return {note.id: note.signature for note in file.consultations}
    finally:
        ws.close()


def _raw(centre: Centre) -> sqlcipher.Connection:
    """The database opened with its key, outside the application, as an insider would."""
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    key = ws.key
    ws.close()
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def _rewrite_diagnosis(centre: Centre, note_id: str, text: str) -> None:
    conn = _raw(centre)
    conn.execute("DROP TRIGGER consultations_no_update")
    conn.execute("UPDATE consultations SET diagnosis = ? WHERE id = ?", (text, note_id))
    conn.execute(
        "CREATE TRIGGER consultations_no_update BEFORE UPDATE ON consultations "
        "BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END"
    )
    conn.commit()
    conn.close()


def _check(centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    args = ["--data-dir", str(centre.data_dir.path), "check", "--as", "admin"]
    code = main([*args, "--password-stdin"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_note_edited_in_the_database_is_reported_by_the_record_and_by_check(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pid = make_patient(centre)
    kept = _sign_note(centre, pid, "Rhinopharyngite")
    edited = _sign_note(centre, pid)
    assert _statuses(centre, pid) == {
        kept: SignatureStatus.VERIFIED,
        edited: SignatureStatus.VERIFIED,
    }
    code, out, err = _check(centre, monkeypatch, capsys)
    assert code == 0 and "2 vérifiée(s)" in out and "aucune altération" in out, err

    _rewrite_diagnosis(centre, edited, "Diagnostic réécrit")

    assert _statuses(centre, pid) == {
        kept: SignatureStatus.VERIFIED,
        edited: SignatureStatus.ALTERED,
    }
    code, out, err = _check(centre, monkeypatch, capsys)
    assert code == 1
    assert "1 acte(s) modifié(s) après signature" in err
    assert f"consultation {edited}" in err and "« dr.test »" in err
    assert kept not in err
    # Ids, dates and author only: no clinical text in the report.
    for text in ("Diagnostic réécrit", SECRET_DIAGNOSIS, "Rhinopharyngite", "Fièvre"):
        assert text not in out + err


def test_a_note_re_signed_with_another_clinicians_key_is_altered(centre: Centre) -> None:
    # An insider who is a clinician changes a colleague's note and signs the new content,
    # validly, with their own key: the key is not the author's.
    pid = make_patient(centre)
    note_id = _sign_note(centre, pid)
    ws, _director = centre.login("direction")
    try:
        assert ws.signing_key is not None and ws.signing_key_id is not None
        with ws.store.read() as session:
            note = session.get(Consultation, note_id)
            assert note is not None
            values = {name: getattr(note, name) for name in FIELDS[CONSULTATION]}
        values["diagnosis"] = "Diagnostic réécrit"
        forged = signing.sign(ws.signing_key, CONSULTATION, values)
        other_key = ws.signing_key_id
    finally:
        ws.close()
    conn = _raw(centre)
    conn.execute("DROP TRIGGER consultations_no_update")
    conn.execute(
        "UPDATE consultations SET diagnosis = ?, signing_key_id = ?, signature = ? WHERE id = ?",
        ("Diagnostic réécrit", other_key, forged, note_id),
    )
    conn.commit()
    conn.close()
    assert _statuses(centre, pid)[note_id] is SignatureStatus.ALTERED


def test_a_removed_signature_is_altered_only_if_half_remains(centre: Centre) -> None:
    pid = make_patient(centre)
    note_id = _sign_note(centre, pid)
    conn = _raw(centre)
    conn.execute("DROP TRIGGER consultations_no_update")
    conn.execute("UPDATE consultations SET signature = NULL WHERE id = ?", (note_id,))
    conn.commit()
    conn.close()
    assert _statuses(centre, pid)[note_id] is SignatureStatus.ALTERED


def test_notes_signed_before_signatures_existed_are_unverifiable_not_alarms(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pid = make_patient(centre)
    note_id = _sign_note(centre, pid)
    conn = _raw(centre)  # as a note signed by version 0014 is stored: no signature columns set
    conn.execute("DROP TRIGGER consultations_no_update")
    conn.execute(
        "UPDATE consultations SET signature = NULL, signing_key_id = NULL WHERE id = ?",
        (note_id,),
    )
    conn.commit()
    conn.close()
    assert _statuses(centre, pid)[note_id] is SignatureStatus.UNVERIFIABLE
    code, out, err = _check(centre, monkeypatch, capsys)
    assert code == 0 and "1 non vérifiable(s)" in out, err


def test_amendments_and_prescriptions_are_signed_and_checked(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pid = make_patient(centre)
    note_id = _sign_note(centre, pid)
    ws, doctor = centre.login("dr.test")
    try:
        fix = records.amend(
            ws, doctor, note_id, records.NoteContent(reason="Fièvre", diagnosis="X")
        )
        set_practitioner(ws, "dr.test")
        issued = rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(add_patient(ws), (AMOX,)))
    finally:
        ws.close()
    assert _statuses(centre, pid)[fix] is SignatureStatus.VERIFIED
    code, out, _ = _check(centre, monkeypatch, capsys)
    assert code == 0 and "3 vérifiée(s)" in out
    conn = _raw(centre)  # the stored PDF is part of what was signed
    conn.execute("DROP TRIGGER prescriptions_no_update")
    conn.execute("UPDATE prescriptions SET pdf = ? WHERE id = ?", (b"%PDF-1.4 autre", issued.id))
    conn.commit()
    conn.close()
    code, _, err = _check(centre, monkeypatch, capsys)
    assert code == 1 and f"ordonnance {issued.id}" in err


def test_a_clinician_account_gets_its_key_at_creation_and_reception_none(centre: Centre) -> None:
    slots = keyslots.load(centre.data_dir.key_slots)
    assert slots.slots["dr.test"].signing is not None
    assert slots.slots["direction"].signing is not None
    assert slots.slots["accueil"].signing is None
    assert slots.slots["admin"].signing is None
    ws, _admin = centre.login("admin", ADMIN_PASSWORD)
    assert ws.signing_key is None  # the administrator holds no one's signing key
    ws.close()
    ws, doctor = centre.login("dr.test")
    assert ws.signing_key_id == slots.slots["dr.test"].signing["key_id"]
    with ws.store.read() as session:
        key = session.get(SigningKey, ws.signing_key_id)
        assert key is not None and key.user_id == doctor.user_id
    ws.close()


def test_an_existing_clinician_without_a_key_gets_one_at_first_login_only(centre: Centre) -> None:
    # A centre upgraded from 0014: its clinicians' slots hold no signing key.
    keyslots.update(
        centre.data_dir.key_slots,
        lambda fresh: setattr(fresh.slots["dr.test"], "signing", None),
    )
    ws, doctor = centre.login("dr.test")
    first = ws.signing_key_id
    ws.close()
    assert first is not None
    assert keyslots.load(centre.data_dir.key_slots).slots["dr.test"].signing["key_id"] == first
    ws, doctor = centre.login("dr.test")
    assert ws.signing_key_id == first  # the second login reuses it
    with ws.store.read() as session:
        mine = session.scalars(select(SigningKey).where(SigningKey.user_id == doctor.user_id))
        assert first in {k.id for k in mine}
    ws.close()


def test_a_reset_by_the_administrator_does_not_hand_over_the_signing_key(centre: Centre) -> None:
    pid = make_patient(centre)
    old_note = _sign_note(centre, pid)
    old_slot = keyslots.load(centre.data_dir.key_slots).slots["dr.test"]
    assert old_slot.signing is not None
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    target = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
    users.reset_password(ws, admin, target.id, "Remis-Par-Admin-31")
    assert ws.signing_key is None
    ws.close()
    new_slot = keyslots.load(centre.data_dir.key_slots).slots["dr.test"]
    assert new_slot.signing is None  # nothing to unwrap with the new password
    # The old wrapped key stays closed to the new password.
    forged = keyslots.SlotFile(
        keyslots.load(centre.data_dir.key_slots).centre_id,
        {"dr.test": replace(new_slot, signing=old_slot.signing)},
    )
    assert keyslots.unwrap_all(forged, "dr.test", "Remis-Par-Admin-31").signing_key is None
    # The clinician's next login makes a new key pair; old notes still verify.
    ws, _doctor = centre.login("dr.test", "Remis-Par-Admin-31")
    assert ws.signing_key_id not in (None, old_slot.signing["key_id"])
    assert ws.clinical_keys == {}  # its new X25519 key has no grant yet (#17, clinical key)
    ws.close()
    # A holder hands the clinical key over at the clinician's screen (#17).
    hand_over(centre.data_dir, "dr.test", "Remis-Par-Admin-31", holder="direction")
    new_note = _sign_note(centre, pid, "Contrôle", password="Remis-Par-Admin-31")
    assert _statuses(centre, pid, "Remis-Par-Admin-31") == {
        old_note: SignatureStatus.VERIFIED,
        new_note: SignatureStatus.VERIFIED,
    }


def test_ones_own_new_password_keeps_the_signing_key(centre: Centre) -> None:
    ws, doctor = centre.login("dr.test")
    key_id = ws.signing_key_id
    users.reset_password(ws, doctor, doctor.user_id, "Mon-Propre-Secret-64")
    ws.close()
    ws, _ = centre.login("dr.test", "Mon-Propre-Secret-64")
    assert ws.signing_key_id == key_id
    ws.close()


def test_signing_without_ones_key_is_refused_in_french(centre: Centre) -> None:
    pid = make_patient(centre)
    ws, doctor = centre.login("dr.test")
    try:
        draft = records.save_draft(ws, doctor, pid, records.NoteContent(reason="Toux"))
        ws.signing_key = None  # e.g. a session opened before the key could be made
        with pytest.raises(ValidationFailed, match="clé de signature n'est pas disponible"):
            records.sign_draft(ws, doctor, draft)
    finally:
        ws.close()
    ws, doctor = centre.login("dr.test")
    try:
        assert records.sign_draft(ws, doctor, draft)  # nothing was stored by the refusal
    finally:
        ws.close()


def test_verify_all_counts_every_act(centre: Centre) -> None:
    pid = make_patient(centre)
    _sign_note(centre, pid)
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        report = signatures.verify_all(ws)
    finally:
        ws.close()
    assert (report.verified, report.unverifiable, report.altered) == (1, 0, ())
