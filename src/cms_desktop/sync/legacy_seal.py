"""Applying a legacy seal (#17): a row written in clear before the clinical key, and every
op-log entry that carried its plaintext, rewritten as ciphertext on this station.

A seal (``models.LegacySeal``) is made once, by a session holding the clinical key
(``services.legacy_sealing``), and replicated like any row; each upgraded station applies
it to its own copy here, without the key: the seal holds the ciphertext. Applying is
idempotent and partial-tolerant: what is not here yet (the row, an entry) is applied when
it arrives (the seal stays in ``legacy_seal_pending`` and is retried after each merge).

What is rewritten, and only that:
- the row's listed columns, **only where they still hold plaintext** (a value already
  sealed, by this seal or a concurrent one, is left alone: a seal can never replace a
  ciphertext, so a forged seal can do no more than the plaintext it targets);
- each listed op-log entry whose hash is the one the seal names and which no seal has
  redacted yet: its values are replaced key by key and it is marked ``redacted_by``.

The row is rewritten in place, without a new op-log entry nor a new version: the seal *is*
the change, and every station converges on a row whose values its (redacted) op-log
history replays to. ``PRAGMA secure_delete`` is on (as on every store connection), so the
freed cells are zeroed rather than left in the database file; the caller checkpoints the
WAL.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from cms_desktop.domain.oplog import canonical_json
from cms_desktop.storage.audit import append_only_lifted
from cms_desktop.storage.clinical_crypto import BYTES_PREFIX, FIELD_PREFIX
from cms_desktop.storage.codec import decode_value
from cms_desktop.storage.models import (
    Blob,
    BlobChunk,
    Document,
    LegacySeal,
    LegacySealPending,
    LocalState,
)
from cms_desktop.sync.tables import table_info

log = logging.getLogger(__name__)

# In local_state: the last op-log rowid the sealing scan looked at (services.legacy_sealing).
# Forgotten when op-log rows are deleted (a copy's split re-issues them): SQLite may then
# give new rows rowids below it, which the scan would never look at.
SCANNED_KEY = "legacy_sealing_scanned"
DOCUMENTS = "documents"


def is_clear(value: object) -> bool:
    """A stored value that says something in clear: a non-empty text not sealed, a number,
    bytes not sealed. None and "" say nothing."""
    if value is None or value == "" or value == b"":
        return False
    if isinstance(value, str):
        return not is_sealed_json(value)
    if isinstance(value, bytes):
        return not value.startswith(BYTES_PREFIX)
    return True


# Sealed bytes in their op-log JSON form (base64) start with the base64 of the prefix.
_B64_PREFIX = base64.b64encode(BYTES_PREFIX).decode("ascii")[:8]


# A conflict's kept value is the JSON text of the value: a ciphertext there is quoted.
_QUOTED_PREFIX = '"' + FIELD_PREFIX


def is_sealed_json(value: object) -> bool:
    """A value in its op-log JSON form that is a ciphertext (text, bytes in base64, or a
    conflict's JSON text of a ciphertext)."""
    return isinstance(value, str) and value.startswith((FIELD_PREFIX, _B64_PREFIX, _QUOTED_PREFIX))


# Plain SQL for the two statements run once per entry (thousands per batch).
_ENTRY_SQL = "SELECT values_json, hash, redacted_by FROM op_log WHERE origin = ? AND seq = ?"
_REDACT_SQL = "UPDATE op_log SET values_json = ?, redacted_by = ? WHERE origin = ? AND seq = ?"
_INSERT_ONLY = ("consultations", "prescriptions", "documents")  # the tables seals rewrite


def apply(conn: Connection, seal: Mapping[str, Any]) -> bool:
    """Apply ``seal`` (a ``legacy_seals`` row as a mapping) to this station's row and
    op-log; True when nothing it names is missing here any more."""
    info = table_info(str(seal["entity"]))
    if info is None:
        return False  # a table this version does not know: kept pending
    complete = True
    row_values: dict[str, Any] = json.loads(seal["row_json"])
    if row_values:
        current = (
            conn.execute(select(info.table).where(info.table.c.id == seal["row_id"]))
            .mappings()
            .first()
        )
        if current is None:
            complete = False
        else:
            changes: dict[str, Any] = {}
            dropped: list[str] = []  # a document's clear content, once nothing points at it
            for key, value in row_values.items():
                column = info.columns.get(key)
                if column is None:
                    continue
                stored = current[column.name]
                if info.name == DOCUMENTS and column.name == "sha256":
                    if stored != value and _may_repoint(conn, seal, str(stored), str(value)):
                        changes[column.name] = value
                        dropped.append(str(stored))
                # Plaintext is replaced, by ciphertext or NULL only (a forged seal cannot
                # put other words in a note); an empty column may receive a ciphertext
                # (the measurements' one sealed object); a ciphertext is never replaced.
                elif _may_replace(stored, value):
                    changes[column.name] = decode_value(column, value)
            if changes:
                # The caller (apply_pending) has lifted the insert-only triggers.
                conn.execute(
                    update(info.table).where(info.table.c.id == seal["row_id"]).values(changes)
                )
                for sha in dropped:
                    _drop_if_unused(conn, sha)
    for origin, seq, hash_, replacement in json.loads(seal["entries_json"]):
        found = conn.exec_driver_sql(_ENTRY_SQL, (origin, seq)).first()
        if found is None:
            complete = False
            continue
        values_json, stored_hash, redacted_by = found
        if stored_hash != hash_:
            # Not the entry the seal was made for (a station's history was settled
            # differently): left alone, and said.
            log.warning(
                "legacy seal %s names entry %s/%s with another hash", seal["id"], origin, seq
            )
            continue
        if redacted_by is not None:
            continue
        values = json.loads(values_json)
        for key, value in replacement.items():
            # Never replace a ciphertext, and bring in only ciphertext or NULL.
            if not is_sealed_json(values.get(key)) and _incoming(value):
                values[key] = value
        conn.exec_driver_sql(
            _REDACT_SQL, (canonical_json(values).decode(), seal["id"], origin, seq)
        )
    return complete


def _incoming(value: object) -> bool:
    """What a seal may bring in: a ciphertext, or NULL (a measurement's REAL column, or a
    conflict over one: its JSON text ``null``)."""
    return value is None or value == "null" or is_sealed_json(value)


def _may_replace(stored: object, value: object) -> bool:
    return (is_clear(stored) and _incoming(value)) or (stored is None and is_sealed_json(value))


def _first_chunk(conn: Connection, sha: str) -> bytes | None:
    first = conn.execute(
        select(BlobChunk.data).where(BlobChunk.sha256 == sha, BlobChunk.idx == 0)
    ).scalar()
    return None if first is None else bytes(first)


def _may_repoint(conn: Connection, seal: Mapping[str, Any], current: str, target: str) -> bool:
    """A document's content is moved to the sealed blob only away from a clear one (held
    here and clear, or not here and not already where another seal put it), and only to
    sealed content where it is held here: never to another document's clear content."""
    incoming = _first_chunk(conn, target)
    if incoming is not None and not incoming.startswith(BYTES_PREFIX):
        return False
    first = _first_chunk(conn, current)
    if first is not None:
        return not first.startswith(BYTES_PREFIX)
    placed = conn.execute(
        select(LegacySeal.id).where(
            LegacySeal.entity == DOCUMENTS,
            LegacySeal.row_id == seal["row_id"],
            LegacySeal.id != seal["id"],
            LegacySeal.row_json.contains(current),
        )
    ).first()
    return placed is None


def _drop_if_unused(conn: Connection, sha: str) -> None:
    """The clear content goes once no document points at it (secure_delete zeroes it)."""
    if conn.execute(select(Document.id).where(Document.sha256 == sha)).first() is None:
        conn.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha))
        conn.execute(delete(Blob).where(Blob.sha256 == sha))


def forget_scan(conn: Connection) -> None:
    """The sealing scan starts again from the first op-log row (see ``SCANNED_KEY``)."""
    conn.execute(delete(LocalState).where(LocalState.key == SCANNED_KEY))


def apply_pending(session: Session) -> int:
    """Apply the seals that arrived (or were waiting for their row or entries); the post-
    merge hook and the sealing service call it. Returns how many are now complete."""
    conn = session.connection()
    pending_ids = list(conn.execute(select(LegacySealPending.seal_id)).scalars())
    if not pending_ids:
        return 0
    # Every store connection has secure_delete on (storage.engine); said again here, where
    # it matters most: the cells the plaintext leaves are zeroed, not left in free space.
    conn.exec_driver_sql("PRAGMA secure_delete = ON")
    with append_only_lifted(conn, *_INSERT_ONLY):
        return _apply_all(conn, pending_ids)


def _apply_all(conn: Connection, pending_ids: list[str]) -> int:
    done = 0
    for seal_id in pending_ids:
        seal = (
            conn.execute(select(LegacySeal.__table__).where(LegacySeal.id == seal_id))
            .mappings()
            .first()
        )
        if seal is None:
            continue
        if apply(conn, dict(seal)):
            conn.execute(delete(LegacySealPending).where(LegacySealPending.seal_id == seal_id))
            done += 1
    return done
