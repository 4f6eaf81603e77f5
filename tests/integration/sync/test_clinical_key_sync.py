"""The clinical key across stations (#17): a reception station stores and relays clinical
ciphertext it cannot read; a clinician reads it on the other station."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services import documents, patient_file, records
from cms_desktop.storage import blobs as storage_blobs
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, Document, OpLogRow, Patient
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.pairing import PairingCode
from cms_desktop.sync.pairing_net import PairingServer, join_centre
from cms_desktop.sync.transport import SyncClient, SyncPeerServer
from tests.conftest import Centre
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import add_patient, joined  # noqa: F401

SECRET = "Sarcoïdose ORNITHORYNQUE-5521"
DOC_SECRET = "IRM lombaire CAPYBARA-3318"


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


def _join_third_station(centre: Centre, folder: DataDir) -> None:
    ws, _ = centre.login("dr.test")
    try:
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            join_centre(folder, "127.0.0.1", server.address[1], code.display, "Salle 3")
        finally:
            server.stop()
    finally:
        ws.close()


def _pull(server_store: Store, client_store: Store) -> tuple[int, int]:
    """One real session over TLS: the op-log, then the documents' content chunk by chunk."""
    server = SyncPeerServer(
        DbReplicaStore(server_store),
        identity.require_credentials(server_store),
        host="127.0.0.1",
        timeout_s=10,
        blobs=DbBlobStore(server_store),
    ).start()
    try:
        report = SyncClient(
            DbReplicaStore(client_store),
            identity.require_credentials(client_store),
            timeout_s=10,
            blobs=DbBlobStore(client_store),
        ).sync_with("127.0.0.1", server.address[1])
    finally:
        server.stop()
    return report.blobs_fetched, report.blobs_pending


def test_a_document_relayed_by_a_reception_station_is_read_by_a_clinician_elsewhere(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A (clinician) -> B (a reception session, no clinical key: it checks the content's
    hash and relays it) -> C, where a clinician reads the document in clear."""
    centre, joiner_dir, _ = joined
    third = DataDir(tmp_path / "poste3")
    _join_third_station(centre, third)
    data = b"%PDF-1.4\n" + DOC_SECRET.encode() + random.Random(5).randbytes(300_000)
    ws_a, doctor = centre.login("dr.test")
    try:
        pid = add_patient(ws_a, "RELAIS")
        doc_id = documents.import_document(
            ws_a, doctor, pid, "irm.pdf", data, DocumentKind.EXAM_RESULT, DOC_SECRET, None
        )
        ws_b, reception = Centre(joiner_dir, "").login("accueil")
        try:
            assert ws_b.clinical_keys == {}
            assert _pull(ws_a.store, ws_b.store) == (1, 0)
            with ws_b.store.read() as session:
                row = session.get(Document, doc_id)
                assert row is not None and storage_blobs.has_blob(session, row.sha256)
                held = storage_blobs.get_blob(session, row.sha256)  # hash checked, no key
                assert held.startswith(b"cms-ck1:") and DOC_SECRET.encode() not in held
                assert DOC_SECRET not in row.title
            with pytest.raises(PermissionDenied):
                documents.read_document(ws_b, reception, doc_id)
            assert documents.list_documents(ws_b, reception, pid) == []
        finally:
            ws_b.close()
    finally:
        ws_a.close()
    # C never talks to A: everything it has came through the reception station.
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    ws_c, doctor_c = Centre(third, "").login("dr.test")
    try:
        assert _pull(ws_b.store, ws_c.store) == (1, 0)
        content = documents.read_document(ws_c, doctor_c, doc_id)
        assert content.data == data and content.document.title == DOC_SECRET
        assert content.document.original_filename == "irm.pdf"
    finally:
        ws_b.close()
        ws_c.close()
