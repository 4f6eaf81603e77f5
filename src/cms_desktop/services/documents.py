"""Documents of the patient file: import (content checked, stored once, encrypted), list, view.

Reception imports and reads administrative documents only (``document.admin.*``);
clinicians every kind (``document.clinical.*``). Viewing a document is audited.

A clinical document (every kind but « Document administratif ») is sealed under the
clinical key (#17): its content as one AES-GCM ciphertext bound to the document's id, made
before it is chunked, so the stored blob is addressed by the hash of the ciphertext (a
station without the key relays and checks it; two imports of one file are two blobs, and
equal files cannot be told apart across patients); its title and file name as sealed
fields. Documents stored before are plaintext and read as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.document_limits import check_expansion
from cms_desktop.domain.documents import (
    DOCUMENT_KIND_LABELS,
    DocumentError,
    DocumentKind,
    detect_mime_type,
    is_administrative,
)
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission, PermissionDenied
from cms_desktop.domain.synthesis import SynthesisError, clean_text
from cms_desktop.services.access import requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import _patient_ids, live_patient
from cms_desktop.services.clinical_fields import open_bytes, open_text, seal_text, writing_key
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, blobs, clinical_crypto
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import Document, User, new_id

__all__ = [
    "DocumentContent",
    "DocumentView",
    "import_document",
    "list_documents",
    "read_document",
    "withdraw_document",
]


@dataclass(frozen=True)
class DocumentView:
    id: str
    patient_id: str
    kind: DocumentKind
    title: str
    document_date: date | None
    author_name: str
    mime_type: str
    size: int
    original_filename: str
    sha256: str
    created_at: datetime
    available: bool  # the content is held on this workstation

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KIND_LABELS[self.kind]


@dataclass(frozen=True)
class DocumentContent:
    document: DocumentView
    data: bytes
    # Why the content must not be shown (it would expand past the limits), in French; "" if
    # it may be. Checked here, on the worker thread, before any viewer parses it.
    refused: str = ""


def _read_permission(kind: DocumentKind) -> Permission:
    return (
        Permission.DOCUMENT_ADMIN_READ
        if is_administrative(kind)
        else Permission.DOCUMENT_CLINICAL_READ
    )


def _write_permission(kind: DocumentKind) -> Permission:
    return (
        Permission.DOCUMENT_ADMIN_WRITE
        if is_administrative(kind)
        else Permission.DOCUMENT_CLINICAL_WRITE
    )


TABLE = "documents"
CONTENT = "content"  # the field name the content's ciphertext is bound to
SEALED_FIELDS = ("title", "original_filename")


def seal_content(key: ClinicalKey, document_id: str, data: bytes) -> bytes:
    """A clinical document's whole content, sealed once with a fresh nonce (then chunked)."""
    return clinical_crypto.encrypt_bytes(key, TABLE, document_id, CONTENT, data)


def content_owner(session: Session, doc: Document) -> str:
    """The id the content's ciphertext is bound to: the document that imported it (a
    withdrawal marker points at the same blob)."""
    while doc.supersedes_id:
        previous = session.get(Document, doc.supersedes_id)
        if previous is None or previous.sha256 != doc.sha256:
            break
        doc = previous
    return doc.id


def open_content(
    keys: Mapping[str, ClinicalKey], session: Session, doc: Document, stored: bytes
) -> bytes:
    """The content in clear (legacy plaintext as it is); ClinicalKeyUnavailable, or the
    French refusal when the ciphertext was altered or moved from another document."""
    return open_bytes(keys, TABLE, content_owner(session, doc), CONTENT, stored)


def opened_fields(keys: Mapping[str, ClinicalKey], doc: Document) -> tuple[str, str]:
    """(title, original file name) in clear."""
    title, filename = (
        open_text(keys, TABLE, doc.id, name, getattr(doc, name)) for name in SEALED_FIELDS
    )
    return title, filename


def _kind(kind: str) -> DocumentKind:
    try:
        return DocumentKind(kind)
    except ValueError:
        raise ValidationFailed("Type de document inconnu.") from None


@requires(Permission.DOCUMENT_CLINICAL_WRITE, note="administrative kind: document.admin.write")
def import_document(
    ws: Workspace,
    actor: Actor,
    patient_id: str,
    filename: str,
    data: bytes,
    kind: DocumentKind,
    title: str,
    document_date: date | None,
) -> str:
    """Check and store a PDF/JPEG/PNG file for the patient; returns the document id.

    The content goes into the encrypted store, chunked and addressed by SHA-256 (of the
    ciphertext for a clinical kind: see the module); on any error nothing is stored.
    """
    kind = _kind(kind)
    actor.require(_write_permission(kind))
    try:
        mime = detect_mime_type(filename, data)
        check_expansion(mime, data)
        title = clean_text(title, "Titre", required=True)
    except (DocumentError, SynthesisError) as exc:
        raise ValidationFailed(str(exc)) from None
    if document_date is not None and document_date > paris_today():
        raise ValidationFailed(f"La date du document ({document_date:%d/%m/%Y}) est dans le futur.")
    doc_id = new_id()
    stored, name = data, PurePath(filename).name[:255]
    if not is_administrative(kind):
        key = writing_key(ws)  # French refusal before anything is stored
        stored = seal_content(key, doc_id, data)
        title = seal_text(key, TABLE, doc_id, "title", title)
        name = seal_text(key, TABLE, doc_id, "original_filename", name)
    with ws.store.write() as session:
        live_patient(session, patient_id)
        sha = blobs.put_blob(session, stored)
        doc = Document(
            id=doc_id,
            patient_id=patient_id,
            sha256=sha,
            kind=kind.value,
            title=title,
            document_date=document_date,
            author_id=actor.user_id,
            mime_type=mime,
            size=len(data),
            original_filename=name,
        )
        session.add(doc)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "document_imported",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="document",
            target_id=doc.id,
            details={"patient_id": patient_id, "sha256": sha, "kind": kind.value},
        )
        return doc.id


def _view(
    session: Session, doc: Document, names: dict[str, str], keys: Mapping[str, ClinicalKey]
) -> DocumentView:
    title, filename = opened_fields(keys, doc)
    return DocumentView(
        doc.id,
        doc.patient_id,
        DocumentKind(doc.kind),
        title,
        doc.document_date,
        names.get(doc.author_id, ""),
        doc.mime_type,
        doc.size,
        filename,
        doc.sha256,
        doc.created_at,
        blobs.has_blob(session, doc.sha256),
    )


def _current(session: Session, ids: list[str]) -> list[Document]:
    rows = session.scalars(select(Document).where(Document.patient_id.in_(ids))).all()
    replaced = {r.supersedes_id for r in rows if r.supersedes_id}
    return [r for r in rows if r.id not in replaced and not r.withdrawn]


@requires_any(
    Permission.DOCUMENT_ADMIN_READ,
    Permission.DOCUMENT_CLINICAL_READ,
    note="each document filtered by its kind",
)
def list_documents(ws: Workspace, actor: Actor, patient_id: str) -> list[DocumentView]:
    """The patient's current documents the actor may see, newest first."""
    if not (
        actor.can(Permission.DOCUMENT_ADMIN_READ) or actor.can(Permission.DOCUMENT_CLINICAL_READ)
    ):
        actor.require(Permission.DOCUMENT_ADMIN_READ)
    with ws.store.read() as session:
        live_patient(session, patient_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        docs = [
            d
            for d in _current(session, _patient_ids(session, patient_id))
            if actor.can(_read_permission(DocumentKind(d.kind)))
        ]
        views = [_view(session, d, names, ws.clinical_keys) for d in docs]
    views.sort(key=lambda v: (v.document_date or v.created_at.date(), v.created_at), reverse=True)
    return views


def _document(session: Session, actor: Actor, document_id: str) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("Document introuvable.")
    actor.require(_read_permission(DocumentKind(doc.kind)))
    return doc


@requires(Permission.DOCUMENT_CLINICAL_READ, note="administrative kind: document.admin.read")
def read_document(ws: Workspace, actor: Actor, document_id: str) -> DocumentContent:
    """The document and its checked content; audited as ``document_viewed``."""
    with ws.store.write() as session:
        doc = _document(session, actor, document_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        try:
            stored = blobs.get_blob(session, doc.sha256)
        except blobs.BlobError as exc:
            raise NotFound(str(exc)) from None
        view = _view(session, doc, names, ws.clinical_keys)
        owner = content_owner(session, doc)
        audit.append(
            session,
            ws.store.station_id,
            "document_viewed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="document",
            target_id=doc.id,
            details={"patient_id": doc.patient_id},
        )
    # Opened after the audited read is committed: a refusal still leaves its trace.
    data = open_bytes(ws.clinical_keys, TABLE, owner, CONTENT, stored)
    # Imported before the limits existed, or received from a station that had none.
    try:
        check_expansion(view.mime_type, data)
    except DocumentError as exc:
        return DocumentContent(view, b"", refused=str(exc))
    return DocumentContent(view, data)


@requires(
    Permission.DOCUMENT_CLINICAL_READ,
    Permission.DOCUMENT_CLINICAL_WRITE,
    note="administrative kind: document.admin.read and document.admin.write",
)
def withdraw_document(ws: Workspace, actor: Actor, document_id: str) -> str:
    """Withdraw a document filed by mistake: a new row marks it withdrawn (it stays stored)."""
    with ws.store.write() as session:
        doc = _document(session, actor, document_id)
        kind = DocumentKind(doc.kind)
        if not actor.can(_write_permission(kind)):
            raise PermissionDenied(actor.role, _write_permission(kind))
        if session.scalar(select(Document.id).where(Document.supersedes_id == doc.id)):
            raise ValidationFailed("Ce document a déjà été remplacé ou retiré.")
        marker_id = new_id()
        title, filename = doc.title, doc.original_filename
        if clinical_crypto.is_sealed(title) or clinical_crypto.is_sealed(filename):
            # Sealed fields are bound to their row: the marker gets its own ciphertexts.
            key = writing_key(ws)
            plain_title, plain_name = opened_fields(ws.clinical_keys, doc)
            title = seal_text(key, TABLE, marker_id, "title", plain_title)
            filename = seal_text(key, TABLE, marker_id, "original_filename", plain_name)
        marker = Document(
            id=marker_id,
            patient_id=doc.patient_id,
            sha256=doc.sha256,
            kind=doc.kind,
            title=title,
            document_date=doc.document_date,
            author_id=actor.user_id,
            mime_type=doc.mime_type,
            size=doc.size,
            original_filename=filename,
            supersedes_id=doc.id,
            withdrawn=True,
        )
        session.add(marker)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "document_withdrawn",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="document",
            target_id=doc.id,
            details={"patient_id": doc.patient_id},
        )
        return marker.id
