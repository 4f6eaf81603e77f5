"""The clinical key across stations (#17): a reception station stores and relays clinical
ciphertext it cannot read; a clinician reads it on the other station."""

from __future__ import annotations

from sqlalchemy import select

from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services import patient_file, records
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, OpLogRow, Patient
from tests.conftest import Centre
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401

SECRET = "Sarcoïdose ORNITHORYNQUE-5521"


def test_a_reception_station_relays_ciphertext_a_clinician_reads_there(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    ws_a, doctor = centre.login("dr.test")
    try:
        with ws_a.store.read() as session:
            pid = session.scalars(select(Patient.id)).first()
        assert pid is not None
        content = records.NoteContent(reason="Dyspnée", diagnosis=SECRET, weight_kg=64.5)
        note_id = records.sign_draft(ws_a, doctor, records.save_draft(ws_a, doctor, pid, content))
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)  # B's side of the exchange is a reception session
    ws_b, _reception = station_b.login("accueil")
    try:
        assert ws_b.clinical_keys == {}
        with ws_b.store.read() as session:
            stored = session.get(Consultation, note_id)
            assert stored is not None and stored.diagnosis.startswith("cms-ck1:")
            logged = session.scalars(
                select(OpLogRow.values_json).where(OpLogRow.row_id == note_id)
            ).all()
            assert logged and all(SECRET not in values for values in logged)
            assert all("64.5" not in values for values in logged)
    finally:
        ws_b.close()
    ws_b, doctor_b = station_b.login("dr.test")
    try:
        file = patient_file.open_patient_file(ws_b, doctor_b, pid)
        by_id = {view.id: view for view in file.consultations}
        assert by_id[note_id].content.diagnosis == SECRET
        assert by_id[note_id].content.weight_kg == 64.5
        assert by_id[note_id].signature is SignatureStatus.VERIFIED
        # Written on B under the same key, read back on A after the next exchange.
        draft = records.save_draft(ws_b, doctor_b, pid, records.NoteContent(reason=SECRET + " B"))
        second = records.sign_draft(ws_b, doctor_b, draft)
    finally:
        ws_b.close()
    sync_b_with_a(centre, joiner_dir)
    ws_a, doctor = centre.login("dr.test")
    try:
        file = patient_file.open_patient_file(ws_a, doctor, pid)
        assert {v.id: v.content.reason for v in file.consultations}[second] == SECRET + " B"
    finally:
        ws_a.close()
