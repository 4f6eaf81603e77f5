"""Documents: permissions by kind, content check, dedup by hash, audit; chunked blob storage."""

from __future__ import annotations

import hashlib
import os
from datetime import date

import pytest
from sqlalchemy import func, select

from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import documents, timeline
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage import blobs
from cms_desktop.storage.models import AuditEntry, Blob, BlobChunk, Document
from tests.conftest import Centre
from tests.integration.clinical_fixtures import make_patient

PDF = b"%PDF-1.4\n" + os.urandom(blobs.CHUNK_SIZE * 2 + 1000) + b"\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100


@pytest.fixture
def patient_id(centre: Centre) -> str:
    return make_patient(centre)


def _count(ws, model) -> int:  # type: ignore[no-untyped-def]
    with ws.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_clinical_file_imported_twice_is_two_sealed_blobs_and_reads_back_checked(
    centre: Centre, patient_id: str
) -> None:
    """Sealed with a fresh nonce each time (#17): equal files are not told apart on disk,
    and each blob is addressed by the hash of what is stored, the ciphertext."""
    ws, doctor = centre.login("dr.test")
    a = documents.import_document(
        ws,
        doctor,
        patient_id,
        "bilan.pdf",
        PDF,
        DocumentKind.EXAM_RESULT,
        "Bilan sanguin",
        date(2026, 1, 5),
    )
    b = documents.import_document(
        ws, doctor, patient_id, "copie.PDF", PDF, DocumentKind.HOSPITAL_LETTER, "Même fichier", None
    )
    assert _count(ws, Blob) == 2 and _count(ws, BlobChunk) == 6 and _count(ws, Document) == 2
    with ws.store.read() as session:
        stored = {d.id: d for d in session.scalars(select(Document))}
        for doc in stored.values():
            sealed = blobs.get_blob(session, doc.sha256)  # its hash checks, no key needed
            assert sealed.startswith(b"cms-ck1:") and PDF[:64] not in sealed
            assert (
                doc.sha256 == hashlib.sha256(sealed).hexdigest() != hashlib.sha256(PDF).hexdigest()
            )
        assert stored[a].title.startswith("cms-ck1:") and "bilan" not in stored[a].original_filename
    listed = documents.list_documents(ws, doctor, patient_id)
    assert {d.id for d in listed} == {a, b} and all(d.available for d in listed)
    content = documents.read_document(ws, doctor, a)
    assert content.data == PDF and content.document.mime_type == "application/pdf"
    assert content.document.author_name == "Compte dr.test"
    with ws.store.read() as session:
        viewed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document_viewed")
        ).all()
    assert [e.target_id for e in viewed] == [a] and "Bilan" not in viewed[0].details
    items = timeline.timeline(ws, doctor, patient_id)
    assert {(i.ref_id, i.title) for i in items} == {(a, "Bilan sanguin"), (b, "Même fichier")}
    ws.close()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("faux.pdf", PNG, "n'est pas un PDF"),
        ("image.png", b"GIF89a", "n'est pas un PNG"),
        ("script.sh", b"#!/bin/sh", "seuls les fichiers"),
    ],
)
def test_bad_content_is_refused_and_nothing_is_stored(
    centre: Centre, patient_id: str, name: str, data: bytes, message: str
) -> None:
    ws, doctor = centre.login("dr.test")
    with pytest.raises(ValidationFailed, match=message):
        documents.import_document(ws, doctor, patient_id, name, data, DocumentKind.OTHER, "x", None)
    assert _count(ws, Blob) == _count(ws, BlobChunk) == _count(ws, Document) == 0
    ws.close()


def test_reception_handles_administrative_documents_only(centre: Centre, patient_id: str) -> None:
    ws, doctor = centre.login("dr.test")
    clinical = documents.import_document(
        ws, doctor, patient_id, "cr.pdf", PDF, DocumentKind.HOSPITAL_LETTER, "Compte rendu", None
    )
    ws.close()
    ws, reception = centre.login("accueil")
    admin = documents.import_document(
        ws,
        reception,
        patient_id,
        "mutuelle.png",
        PNG,
        DocumentKind.ADMINISTRATIVE,
        "Carte mutuelle",
        None,
    )
    with pytest.raises(PermissionDenied):
        documents.import_document(
            ws, reception, patient_id, "r.pdf", PDF, DocumentKind.EXAM_RESULT, "Résultat", None
        )
    assert [d.id for d in documents.list_documents(ws, reception, patient_id)] == [admin]
    with pytest.raises(PermissionDenied):
        documents.read_document(ws, reception, clinical)
    with pytest.raises(PermissionDenied):
        timeline.timeline(ws, reception, patient_id)
    assert documents.read_document(ws, reception, admin).data == PNG
    ws.close()


def test_withdrawn_document_leaves_the_list_but_stays_stored(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    doc = documents.import_document(
        ws, doctor, patient_id, "x.png", PNG, DocumentKind.OTHER, "Erreur", None
    )
    documents.withdraw_document(ws, doctor, doc)
    assert documents.list_documents(ws, doctor, patient_id) == []
    assert _count(ws, Document) == 2 and documents.read_document(ws, doctor, doc).data == PNG
    with pytest.raises(ValidationFailed, match="déjà"):
        documents.withdraw_document(ws, doctor, doc)
    ws.close()


def test_chunk_transfer_resumes_and_completes_only_when_the_hash_checks(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    doc = documents.import_document(
        ws, doctor, patient_id, "a.pdf", PDF, DocumentKind.OTHER, "A", None
    )
    with ws.store.read() as session:
        sha = session.get(Document, doc).sha256  # type: ignore[union-attr]
        total = blobs.chunk_count(session, sha)
        chunks = [blobs.read_chunk(session, sha, i) for i in range(total or 0)]
        assert blobs.read_chunk(session, sha, 99) is None
    assert total == 3 and all(c is not None for c in chunks)
    # Simulate a station that has the metadata but not the content.
    other = b"%PDF-1.7 other" + os.urandom(blobs.CHUNK_SIZE + 5)
    other_sha = hashlib.sha256(other).hexdigest()
    parts = [other[: blobs.CHUNK_SIZE], other[blobs.CHUNK_SIZE :]]
    with ws.store.write() as session:
        session.add(
            Document(
                patient_id=patient_id,
                sha256=other_sha,
                kind="other",
                title="B",
                author_id=doctor.user_id,
                mime_type="application/pdf",
                size=len(other),
            )
        )
    with ws.store.write() as session:
        assert blobs.missing_blobs(session) == [other_sha]
        assert blobs.write_chunk(session, other_sha, 1, parts[1], 2) is False
    with ws.store.write() as session:  # resumed later: chunk 1 is already there
        assert blobs.held_chunks(session, other_sha) == [1]
        assert not blobs.has_blob(session, other_sha)
        assert blobs.write_chunk(session, other_sha, 0, parts[0], 2) is True
        assert blobs.missing_blobs(session) == [] and blobs.get_blob(session, other_sha) == other
    with ws.store.write() as session:  # a corrupted transfer is discarded, not kept
        bad_sha = hashlib.sha256(b"expected").hexdigest()
        assert blobs.write_chunk(session, bad_sha, 0, b"tampered", 1) is False
        assert blobs.held_chunks(session, bad_sha) == [] and not blobs.has_blob(session, bad_sha)
        with pytest.raises(blobs.BlobError, match="taille"):
            blobs.write_chunk(session, bad_sha, 0, b"short", 2)
    ws.close()


def test_a_pdf_bomb_is_refused_at_import_saying_why_and_nothing_is_stored(
    centre: Centre, patient_id: str
) -> None:
    from tests.document_bombs import deflate_bomb_pdf

    ws, doctor = centre.login("dr.test")
    with pytest.raises(ValidationFailed, match="se décompresse en plus de 256 Mo"):
        documents.import_document(
            ws, doctor, patient_id, "bilan.pdf", deflate_bomb_pdf(), DocumentKind.OTHER, "x", None
        )
    assert (_count(ws, Document), _count(ws, Blob)) == (0, 0)
    ws.close()


def test_a_bomb_already_stored_is_not_handed_to_the_viewer(centre: Centre, patient_id: str) -> None:
    """Imported by a version without the limits, or received from such a station."""
    from tests.document_bombs import deflate_bomb_pdf

    ws, doctor = centre.login("dr.test")
    bomb = deflate_bomb_pdf()
    with ws.store.write() as session:
        doc = Document(
            patient_id=patient_id,
            sha256=blobs.put_blob(session, bomb),
            kind=DocumentKind.OTHER.value,
            title="Reçu d'un autre poste",
            author_id=doctor.user_id,
            mime_type="application/pdf",
            size=len(bomb),
            original_filename="bombe.pdf",
        )
        session.add(doc)
    content = documents.read_document(ws, doctor, doc.id)
    assert content.data == b"" and "se décompresse en plus de 256 Mo" in content.refused
    ws.close()
