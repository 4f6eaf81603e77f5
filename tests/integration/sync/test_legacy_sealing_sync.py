"""Legacy sealing across stations (#17, item 5): a seal made on one station rewrites the
row and redacts the op-log on a reception station that cannot read it; entries already
redacted reach a station that lacked them, marked, and are taken on their links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services import documents, legacy_sealing, patient_file
from cms_desktop.storage import blobs as storage_blobs
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, Document, LegacySeal, OpLogRow, Patient
from cms_desktop.sync import identity
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.transport import SyncClient, SyncPeerServer
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.legacy_helpers import database_key, every_page_in_clear
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401
from tests.integration.test_legacy_sealing import write_legacy_document, write_legacy_note


def _a_patient(centre: Centre) -> str:
    ws, _ = centre.login("accueil")
    try:
        with ws.store.read() as session:
            pid = session.scalars(select(Patient.id)).first()
    finally:
        ws.close()
    assert pid is not None
    return pid


def _reception_sees(data_dir: DataDir, secret: str, note: str) -> bool:
    pages = every_page_in_clear(data_dir, database_key(data_dir, "accueil", STAFF_PASSWORD))
    ws, _ = Centre(data_dir, "").login("accueil")
    try:
        with ws.store.read() as session:
            stored = session.get(Consultation, note)
            assert stored is not None
            logged = session.scalars(select(OpLogRow.values_json).where(OpLogRow.row_id == note))
            in_rows = secret in stored.diagnosis or any(secret in v for v in logged)
    finally:
        ws.close()
    return in_rows or secret.encode() in pages


def test_a_seal_made_on_one_station_seals_the_reception_stations_copy(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    pid = _a_patient(centre)
    ws, doctor = centre.login("dr.test")
    try:
        before_seal = write_legacy_note(ws, pid, "Goutte TATOU-4410", 80.0)
    finally:
        ws.close()
    sync_b_with_a(centre, joiner_dir)  # B holds the note in clear, as A did
    assert _reception_sees(joiner_dir, "TATOU-4410", before_seal)

    ws, doctor = centre.login("dr.test")
    try:
        assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 1
        # Written and sealed before B ever saw it: B gets the entry already redacted.
        after_seal = write_legacy_note(ws, pid, "Zona SURICATE-2207", 55.0)
        assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 1
    finally:
        ws.close()
    assert not _reception_sees(centre.data_dir, "TATOU-4410", before_seal)
    sync_b_with_a(centre, joiner_dir)
    assert not _reception_sees(joiner_dir, "TATOU-4410", before_seal)
    assert not _reception_sees(joiner_dir, "SURICATE-2207", after_seal)
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    try:
        with ws_b.store.read() as session:
            marked = session.scalars(
                select(OpLogRow.redacted_by).where(OpLogRow.row_id == after_seal)
            ).all()
            assert marked and all(marked)  # relayed as redacted, taken on its links
    finally:
        ws_b.close()
    # A clinician on B reads both notes, their signatures checked on the opened values.
    ws_b, doctor_b = Centre(joiner_dir, "").login("dr.test")
    try:
        views = {v.id: v for v in patient_file.open_patient_file(ws_b, doctor_b, pid).consultations}
        assert views[before_seal].content.diagnosis == "Goutte TATOU-4410"
        assert views[after_seal].content.weight_kg == 55.0
        assert views[before_seal].signature is SignatureStatus.VERIFIED
        assert views[after_seal].signature is SignatureStatus.VERIFIED
    finally:
        ws_b.close()


def _sync_with_blobs(centre: Centre, joiner_dir: DataDir) -> None:
    """One exchange, documents' contents included (B fetches what A holds)."""
    ws_a, _ = centre.login("admin", ADMIN_PASSWORD)
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    try:
        server = SyncPeerServer(
            DbReplicaStore(ws_a.store),
            identity.require_credentials(ws_a.store),
            host="127.0.0.1",
            timeout_s=10,
            blobs=DbBlobStore(ws_a.store),
        ).start()
        try:
            SyncClient(
                DbReplicaStore(ws_b.store),
                identity.require_credentials(ws_b.store),
                timeout_s=10,
                blobs=DbBlobStore(ws_b.store),
            ).sync_with("127.0.0.1", server.address[1])
        finally:
            server.stop()
    finally:
        ws_a.close()
        ws_b.close()


CONTENT = b"%PDF-1.4\n" + b"Compte rendu ECHIDNE-6402 " * 40 + b"\n%%EOF"


def test_a_documents_clear_content_is_replaced_by_its_sealed_blob_on_every_station(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    pid = _a_patient(centre)
    ws, _doctor = centre.login("dr.test")
    try:
        doc_id, sha = write_legacy_document(ws, pid, CONTENT, "Échographie ECHIDNE")
    finally:
        ws.close()
    _sync_with_blobs(centre, joiner_dir)
    key_b = database_key(joiner_dir, "accueil", STAFF_PASSWORD)
    assert b"ECHIDNE-6402" in every_page_in_clear(joiner_dir, key_b)  # B held it in clear

    ws, doctor = centre.login("dr.test")
    try:
        assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 1
    finally:
        ws.close()
    _sync_with_blobs(centre, joiner_dir)
    for data_dir in (centre.data_dir, joiner_dir):
        pages = every_page_in_clear(data_dir, database_key(data_dir, "accueil", STAFF_PASSWORD))
        assert b"ECHIDNE" not in pages
        ws, doctor = Centre(data_dir, "").login("dr.test")
        try:
            read = documents.read_document(ws, doctor, doc_id)
            assert read.data == CONTENT and read.document.title == "Échographie ECHIDNE"
            with ws.store.read() as session:
                stored = session.get(Document, doc_id)
                assert stored is not None and stored.sha256 != sha
                assert not storage_blobs.has_blob(session, sha)  # the clear copy is gone
        finally:
            ws.close()


def test_a_station_not_yet_upgraded_is_not_sent_redacted_entries(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An earlier version would refuse the batch as malformed: it is served the origin's
    entries up to the first redacted one, the rest once it is upgraded."""
    centre, joiner_dir, _ = joined
    pid = _a_patient(centre)
    ws, doctor = centre.login("dr.test")
    try:
        note = write_legacy_note(ws, pid, "Vertige LOUTRE-3391", 62.0)
        assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 1
    finally:
        ws.close()

    def note_on_b() -> Consultation | None:
        ws_b, _ = Centre(joiner_dir, "").login("accueil")
        try:
            with ws_b.store.read() as session:
                return session.get(Consultation, note)
        finally:
            ws_b.close()

    monkeypatch.setattr(DbReplicaStore, "schema_version", property(lambda self: 19))
    sync_b_with_a(centre, joiner_dir)  # no error: the exchange stops before the entry
    assert note_on_b() is None
    monkeypatch.undo()
    sync_b_with_a(centre, joiner_dir)  # upgraded: it comes, sealed
    stored = note_on_b()
    assert stored is not None and "LOUTRE" not in stored.diagnosis


def test_two_stations_sealing_the_same_row_at_once_agree_on_its_text(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    pid = _a_patient(centre)
    ws, _doctor = centre.login("dr.test")
    try:
        note = write_legacy_note(ws, pid, "Psoriasis GIRAFE-8812", 66.0)
    finally:
        ws.close()
    sync_b_with_a(centre, joiner_dir)
    for data_dir in (centre.data_dir, joiner_dir):  # each before hearing of the other's
        ws, doctor = Centre(data_dir, "").login("dr.test")
        try:
            assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 1
        finally:
            ws.close()
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    for data_dir in (centre.data_dir, joiner_dir):
        assert not _reception_sees(data_dir, "GIRAFE-8812", note)
        ws, doctor = Centre(data_dir, "").login("dr.test")
        try:
            with ws.store.read() as session:
                assert len(session.scalars(select(LegacySeal.id)).all()) == 2
            view = {v.id: v for v in patient_file.open_patient_file(ws, doctor, pid).consultations}
            assert view[note].content.diagnosis == "Psoriasis GIRAFE-8812"
            assert view[note].content.weight_kg == 66.0
            assert view[note].signature is SignatureStatus.VERIFIED
            assert legacy_sealing.seal_legacy_rows(ws, doctor).sealed == 0
        finally:
            ws.close()
