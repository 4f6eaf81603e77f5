"""Signing keys travel with the accounts (#17): a note signed on one station verifies on
another, and the clinician signs there with the same key, never a second pair per station."""

from __future__ import annotations

from sqlalchemy import select

from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services import patient_file, records
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Patient, SigningKey
from tests.conftest import Centre
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401


def _forget_signing_keys(data_dir: DataDir) -> None:
    """The slot file as a centre upgraded from 0014 has it: no signing key in any slot."""

    def strip(fresh: keyslots.SlotFile) -> None:
        for slot in fresh.slots.values():
            slot.signing = None

    keyslots.update(data_dir.key_slots, strip)


def test_a_key_made_on_one_station_signs_and_verifies_on_the_other(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    _forget_signing_keys(centre.data_dir)
    _forget_signing_keys(joiner_dir)
    ws_a, doctor = centre.login("dr.test")  # first login after the upgrade: a new key pair
    try:
        key_id = ws_a.signing_key_id
        assert key_id is not None
        with ws_a.store.read() as session:
            pid = session.scalars(select(Patient.id)).first()
        assert pid is not None
        draft = records.save_draft(ws_a, doctor, pid, records.NoteContent(reason="Toux"))
        note_id = records.sign_draft(ws_a, doctor, draft)
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    held = keyslots.load(joiner_dir.key_slots).slots["dr.test"].signing
    assert held is not None and held["key_id"] == key_id
    ws_b, doctor_b = station_b.login("dr.test")
    try:
        assert ws_b.signing_key_id == key_id  # the same key, not a second pair
        with ws_b.store.read() as session:
            assert {k.id for k in session.scalars(select(SigningKey)).all()} >= {key_id}
        file = patient_file.open_patient_file(ws_b, doctor_b, pid)
        statuses = {note.id: note.signature for note in file.consultations}
        assert statuses[note_id] is SignatureStatus.VERIFIED
        draft = records.save_draft(ws_b, doctor_b, pid, records.NoteContent(reason="Fièvre"))
        second = records.sign_draft(ws_b, doctor_b, draft)
    finally:
        ws_b.close()
    sync_b_with_a(centre, joiner_dir)
    ws_a, doctor = centre.login("dr.test")
    try:
        file = patient_file.open_patient_file(ws_a, doctor, pid)
        statuses = {note.id: note.signature for note in file.consultations}
        assert statuses[second] is SignatureStatus.VERIFIED
        with ws_a.store.read() as session:
            mine = session.scalars(select(SigningKey).where(SigningKey.user_id == doctor.user_id))
            assert [k.id for k in mine].count(key_id) == 1
    finally:
        ws_a.close()
