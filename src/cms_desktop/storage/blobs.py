"""Document content addressed by SHA-256, kept in fixed-size chunks inside the encrypted store.

The same file is stored once. Content is not replicated through the op-log: a station that
lacks a file (``missing_blobs``) fetches it chunk by chunk (``read_chunk`` on the holder,
``write_chunk`` here), which resumes after an interruption; a file counts as present only
once every chunk is there and the whole hashes to its name.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cms_desktop.storage.models.documents import Blob, BlobChunk, Document

__all__ = [
    "CHUNK_SIZE",
    "BlobError",
    "chunk_count",
    "get_blob",
    "has_blob",
    "has_chunk",
    "held_chunks",
    "missing_blobs",
    "put_blob",
    "read_chunk",
    "write_chunk",
]

CHUNK_SIZE = 256 * 1024
_SHA = re.compile(r"[0-9a-f]{64}")


class BlobError(Exception):
    """Missing, incomplete or corrupt content; ``str()`` is a French message."""


def _check_sha(sha: str) -> None:
    if _SHA.fullmatch(sha) is None:
        raise BlobError("Identifiant de contenu invalide.")


def _chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK_SIZE))


def has_blob(session: Session, sha: str) -> bool:
    blob = session.get(Blob, sha)
    return blob is not None and blob.complete


def put_blob(session: Session, data: bytes) -> str:
    """Store ``data`` (once) and return its SHA-256 in hex."""
    sha = hashlib.sha256(data).hexdigest()
    if has_blob(session, sha):
        return sha
    # A partial copy from an interrupted transfer is replaced by the full content.
    session.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha))
    total = _chunk_count(len(data))
    blob = session.get(Blob, sha)
    if blob is None:
        blob = Blob(sha256=sha, total_chunks=total)
        session.add(blob)
    blob.total_chunks, blob.size, blob.complete = total, len(data), True
    session.add_all(
        BlobChunk(sha256=sha, idx=i, data=data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE])
        for i in range(total)
    )
    session.flush()
    return sha


def _assemble(session: Session, sha: str) -> bytes:
    parts = session.scalars(
        select(BlobChunk.data).where(BlobChunk.sha256 == sha).order_by(BlobChunk.idx)
    ).all()
    return b"".join(parts)


def get_blob(session: Session, sha: str) -> bytes:
    """The content, checked against its hash; BlobError if absent or damaged."""
    _check_sha(sha)
    if not has_blob(session, sha):
        raise BlobError(
            "Le contenu de ce document n'est pas encore disponible sur ce poste "
            "(il sera récupéré à la prochaine synchronisation)."
        )
    data = _assemble(session, sha)
    if hashlib.sha256(data).hexdigest() != sha:
        raise BlobError("Le contenu de ce document est endommagé sur ce poste.")
    return data


def missing_blobs(session: Session) -> list[str]:
    """Hashes referenced by documents but not held complete here, sorted."""
    held = select(Blob.sha256).where(Blob.complete.is_(True))
    rows = session.scalars(
        select(Document.sha256).distinct().where(Document.sha256.not_in(held))
    ).all()
    return sorted(rows)


def held_chunks(session: Session, sha: str) -> list[int]:
    """Indexes of the chunks already received (to resume a transfer)."""
    return list(
        session.scalars(
            select(BlobChunk.idx).where(BlobChunk.sha256 == sha).order_by(BlobChunk.idx)
        ).all()
    )


def has_chunk(session: Session, sha: str, idx: int) -> bool:
    """Whether chunk ``idx`` is held (after ``write_chunk``: False if the whole was dropped)."""
    found = session.execute(
        select(BlobChunk.idx).where(BlobChunk.sha256 == sha, BlobChunk.idx == idx)
    ).first()
    return found is not None


def chunk_count(session: Session, sha: str) -> int | None:
    """How many chunks a complete blob has (what a station announces), or None."""
    blob = session.get(Blob, sha)
    return blob.total_chunks if blob is not None and blob.complete else None


def read_chunk(session: Session, sha: str, idx: int) -> bytes | None:
    """Chunk ``idx`` of a complete blob (to send to another station), or None."""
    _check_sha(sha)
    # One Core statement: this runs for every chunk a station serves.
    data = session.execute(
        select(BlobChunk.data)
        .join(Blob, Blob.sha256 == BlobChunk.sha256)
        .where(BlobChunk.sha256 == sha, BlobChunk.idx == idx, Blob.complete.is_(True))
    ).scalar()
    return None if data is None else bytes(data)


def write_chunk(session: Session, sha: str, idx: int, data: bytes, total_chunks: int) -> bool:
    """Store one received chunk; True once the blob is complete and its hash checks.

    A chunk of the wrong size raises BlobError. A whole that does not hash to ``sha`` is
    discarded (False is returned and ``held_chunks`` is empty again), so that the transfer
    starts over; no exception there, or the caller's rollback would keep the bad chunks.
    Core statements, not ORM objects: this runs for every 256 KiB received (``blobs`` and
    ``blob_chunks`` are local tables, outside the op-log).
    """
    _check_sha(sha)
    conn = session.connection()
    blob = conn.execute(select(Blob.total_chunks, Blob.complete).where(Blob.sha256 == sha)).first()
    if blob is not None and blob.complete:
        return True
    if not 0 <= idx < total_chunks or total_chunks < 1:
        raise BlobError("Morceau de document hors limites.")
    if len(data) > CHUNK_SIZE or (idx < total_chunks - 1 and len(data) != CHUNK_SIZE):
        raise BlobError("Morceau de document de taille incorrecte.")
    if blob is None:
        conn.execute(
            insert(Blob).values(sha256=sha, total_chunks=total_chunks, complete=False, size=0)
        )
    elif blob.total_chunks != total_chunks:
        conn.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha))
        conn.execute(update(Blob).where(Blob.sha256 == sha).values(total_chunks=total_chunks))
    conn.execute(
        sqlite_insert(BlobChunk)
        .values(sha256=sha, idx=idx, data=data)
        .on_conflict_do_update(index_elements=["sha256", "idx"], set_={"data": data})
    )
    held = conn.execute(select(func.count()).where(BlobChunk.sha256 == sha)).scalar() or 0
    if held < total_chunks:
        return False
    whole = _assemble(session, sha)
    if hashlib.sha256(whole).hexdigest() != sha:
        conn.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha))
        return False
    conn.execute(update(Blob).where(Blob.sha256 == sha).values(size=len(whole), complete=True))
    session.expire_all()  # a Blob this session loaded earlier must not look incomplete
    return True
