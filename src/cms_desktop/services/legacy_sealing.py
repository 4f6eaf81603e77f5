"""Sealing the clinical content written in clear before the clinical key (#17, item 5).

A centre upgraded from a version without the clinical key holds its earlier notes,
synthesis, prescriptions… in clear, in the tables *and* in the op-log history every
station keeps. A session holding the clinical key seals them in batches: for each row
still holding plaintext, a replicated ``legacy_seals`` row carries the ciphertext of the
row and of every op-log entry that carried its plaintext; every upgraded station (this one
at once, the others when it reaches them, reception PCs included) applies it with
``sync.legacy_seal``, which rewrites the row and redacts those entries. Nothing is lost:
each value becomes its own ciphertext under the newest clinical key; nothing is
duplicated: the row keeps its id and version, and a value already sealed is never
replaced.

Which rows: op-log entries written by a version before this one (``schema`` below
``SEALING_SCHEMA``) and not yet redacted, found from the last entry looked at (kept in
``local_state``), so a station scans its history once and then only what arrived since
(a station not yet upgraded keeps writing in clear until it is; its entries are sealed
when they arrive). Stations not yet upgraded hold the seals without applying them
(unknown table) and keep relaying everything.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cms_desktop.domain.documents import DocumentKind, is_administrative
from cms_desktop.domain.permissions import Permission
from cms_desktop.services import documents, patients, prescriptions, records, synthesis
from cms_desktop.services.access import no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_fields import writing_key
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, blobs, clinical_crypto
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.codec import encode_value
from cms_desktop.storage.models import (
    Consultation,
    ConsultationDraft,
    Document,
    LegacySeal,
    LocalState,
    OpLogRow,
)
from cms_desktop.sync import legacy_seal
from cms_desktop.sync.legacy_seal import is_clear, is_sealed_json
from cms_desktop.sync.tables import table_info

# Entries written by this schema or later seal their clinical fields when written.
SEALING_SCHEMA = 20
# Rows a window seals per batch: about a third of a second of the writer (bench), so a
# user's save waits at most that; the window pauses a second between batches.
WINDOW_BATCH = 200
_SCANNED_KEY = legacy_seal.SCANNED_KEY
CONFLICTS = "sync_conflicts"
DOCUMENTS = documents.TABLE
_NOT_HERE = ""  # marks, among the contents sealed in a pass, one whose blob was missing


@dataclass(frozen=True)
class _Target:
    texts: tuple[str, ...]
    vitals: bool = False  # the REAL measurement columns, sealed as one JSON object
    blobs: tuple[str, ...] = ()  # bytes columns, sealed whole


def _targets() -> dict[str, _Target]:
    """Each table's fields its writers seal (records, synthesis, documents, prescriptions,
    patients.set_ald_label), named from their own constants where they have one."""
    notes = _Target(records.TEXT_FIELDS, vitals=True)
    found = {
        Consultation.__tablename__: notes,
        ConsultationDraft.__tablename__: notes,
        prescriptions.TABLE: _Target(("lines_json",), blobs=("pdf",)),
        prescriptions.TEMPLATES: _Target(("name", "lines_json")),
        patients.ALD_TABLE: _Target(("label", "code")),
        documents.TABLE: _Target(documents.SEALED_FIELDS),
    }
    for section, model in synthesis.SYNTHESIS_ROWS.items():
        found[model.__tablename__] = _Target(synthesis.SEALED_FIELDS[section])
    return found


TARGETS = _targets()
_VITALS = tuple(records.VITAL_FIELDS)


@dataclass(frozen=True)
class SealingProgress:
    sealed: int  # rows sealed by this call
    remaining: bool  # more to do (call again)

    @property
    def message(self) -> str:
        if not self.sealed:
            return ""
        more = " (la suite se poursuit)" if self.remaining else ""
        return f"Anciennes données médicales chiffrées : {self.sealed}{more}."


@requires(Permission.CLINICAL_READ)
def seal_legacy_rows(ws: Workspace, actor: Actor, limit: int = WINDOW_BATCH) -> SealingProgress:
    """Seal up to ``limit`` rows written in clear before the clinical key, newest key;
    French refusal (ClinicalKeyUnavailable) for a session that holds none."""
    actor.require(Permission.CLINICAL_READ)
    key = writing_key(ws)
    with ws.store.write() as session:
        conn = session.connection()
        scanned = _scanned(conn)
        rows, last, remaining = _rows_to_seal(conn, scanned, limit)
        contents: dict[tuple[str, str], str] = {}  # (clear sha, owner) -> sealed blob's sha
        seals = [
            s
            for s in (
                _seal_for(session, key, entity, row_id, actor.login, contents)
                for entity, row_id in rows
            )
            if s
        ]
        session.add_all(seals)
        session.flush()  # the trigger queues each seal to apply
        legacy_seal.apply_pending(session)
        if not any(owner == _NOT_HERE for _sha, owner in contents):
            _set_scanned(session, last)
        if seals:
            audit.append(
                session,
                ws.store.station_id,
                "legacy_rows_sealed",
                user_id=actor.user_id,
                user_login=actor.login,
                details={"rows": len(seals)},
            )
    if seals:
        ws.store.truncate_wal()  # the pages that held the plaintext leave the WAL too
    return SealingProgress(len(seals), remaining)


def _scanned(conn: Connection) -> int:
    value = conn.execute(select(LocalState.value).where(LocalState.key == _SCANNED_KEY)).scalar()
    return int(value) if value else 0


def _set_scanned(session: Session, rowid: int) -> None:
    row = session.get(LocalState, _SCANNED_KEY)
    if row is None:
        session.add(LocalState(key=_SCANNED_KEY, value=str(rowid)))
    elif int(row.value) < rowid:
        row.value = str(rowid)


def _rows_to_seal(
    conn: Connection, after: int, limit: int
) -> tuple[list[tuple[str, str]], int, bool]:
    """Rows whose earlier-version entries (after rowid ``after``) carry plaintext: up to
    ``limit`` of them, the rowid scanned up to, and whether the scan stopped short."""
    entities = (*TARGETS, CONFLICTS)
    found: dict[tuple[str, str], None] = {}
    last = after
    stmt = (
        "SELECT rowid, entity, row_id, values_json FROM op_log WHERE rowid > ? "
        f"AND schema < ? AND redacted_by IS NULL AND entity IN ({', '.join('?' for _ in entities)}) "
        "ORDER BY rowid LIMIT ?"
    )
    chunk = 2000
    while True:
        batch = conn.exec_driver_sql(stmt, (last, SEALING_SCHEMA, *entities, chunk)).all()
        for rid, entity, row_id, values_json in batch:
            if (entity, row_id) not in found and _entry_is_clear(entity, json.loads(values_json)):
                if len(found) >= limit:
                    return list(found), last, True
                found[(entity, row_id)] = None
            last = int(rid)
        if len(batch) < chunk:
            break
    return list(found), last, False


def _entry_is_clear(entity: str, values: Mapping[str, Any]) -> bool:
    if entity == CONFLICTS:
        return _conflict_value(values, "kept_value") is not None
    if entity == DOCUMENTS and _administrative(values.get("kind")):
        return False  # reception's own documents: never sealed
    target = TARGETS[entity]
    for name in target.texts + target.blobs:
        value = values.get(name)
        if isinstance(value, str) and value and not is_sealed_json(value):
            return True
    return target.vitals and any(values.get(name) is not None for name in _VITALS)


def _conflict_value(values: Mapping[str, Any], name: str) -> Any:
    """The clear value a conflict entry holds for a sealed field (None: nothing to seal)."""
    target = TARGETS.get(str(values.get("entity")))
    field = values.get("field")
    raw = values.get(name)
    if target is None or not isinstance(raw, str) or not raw:
        return None
    if field not in target.texts and not (target.vitals and field in _VITALS):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if isinstance(value, str):
        return value if value and not is_sealed_json(value) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class _Sealer:
    """Encrypts one row's plaintexts, the same plaintext of a field to the same ciphertext
    (the row and the entry that set it then hold the same bytes)."""

    def __init__(self, key: ClinicalKey, entity: str, row_id: str) -> None:
        self.key, self.entity, self.row_id = key, entity, row_id
        self._made: dict[tuple[str, str], str] = {}

    def text(self, field: str, plain: str) -> str:
        found = self._made.get((field, plain))
        if found is None:
            found = clinical_crypto.encrypt_field(self.key, self.entity, self.row_id, field, plain)
            self._made[(field, plain)] = found
        return found

    def blob(self, field: str, plain: bytes) -> str:
        digest = hashlib.sha256(plain).hexdigest()  # a PDF's bytes are not a good dict key
        found = self._made.get((field, digest))
        if found is None:
            sealed = clinical_crypto.encrypt_bytes(self.key, self.entity, self.row_id, field, plain)
            found = str(encode_value(sealed))
            self._made[(field, digest)] = found
        return found


def _seal_for(
    session: Session,
    key: ClinicalKey,
    entity: str,
    row_id: str,
    login: str,
    contents: dict[tuple[str, str], str],
) -> LegacySeal | None:
    conn = session.connection()
    info = table_info(entity)
    if info is None:
        return None
    sealer = _Sealer(key, entity, row_id)
    conflict_texts: dict[tuple[str, ...], str] = {}
    found = conn.execute(select(info.table).where(info.table.c.id == row_id)).mappings().first()
    row = None if found is None else dict(found)
    row_json: dict[str, Any] = {}
    if row is not None and entity == DOCUMENTS and _administrative(row.get("kind")):
        return None
    if row is not None:
        row_json = (
            _conflict_row(key, row, conflict_texts)
            if entity == CONFLICTS
            else _row_values(sealer, TARGETS[entity], row)
        )
    clear_sha = None
    if row is not None and entity == DOCUMENTS:
        clear_sha = str(row["sha256"])
        sealed_sha = _sealed_content(session, key, row_id, clear_sha, contents)
        if sealed_sha is not None:
            row_json["sha256"] = sealed_sha
        elif (clear_sha, _NOT_HERE) in contents:
            return None  # the whole document waits for its content (title in clear too)
    entries = conn.execute(
        select(OpLogRow.origin, OpLogRow.seq, OpLogRow.hash, OpLogRow.hlc, OpLogRow.values_json)
        .where(
            OpLogRow.entity == entity,
            OpLogRow.row_id == row_id,
            OpLogRow.redacted_by.is_(None),
        )
        .order_by(OpLogRow.hlc)
    ).all()
    listed: list[list[Any]] = []
    for origin, seq, hash_, _hlc, values_json in entries:
        values = json.loads(values_json)
        if entity == CONFLICTS:
            replacement = _conflict_row(key, values, conflict_texts)
        else:
            replacement = _entry_values(sealer, TARGETS[entity], values)
            if "sha256" in row_json and values.get("sha256") == clear_sha:
                replacement["sha256"] = row_json["sha256"]  # a replay points at the sealed blob
        if replacement:
            listed.append([origin, seq, hash_, replacement])
    if "vitals" in row_json and listed:
        # The entry a replay takes the row's last values from carries the sealed
        # measurements (the REAL columns become NULL everywhere).
        listed[-1][3]["vitals"] = row_json["vitals"]
    if not row_json and not listed:
        return None
    return LegacySeal(
        entity=entity,
        row_id=row_id,
        sealed_by=login,
        key_id=key.key_id,
        row_json=json.dumps(row_json, sort_keys=True),
        entries_json=json.dumps(listed, sort_keys=True),
    )


def _administrative(kind: object) -> bool:
    try:
        return is_administrative(DocumentKind(str(kind)))
    except ValueError:
        return False


def _sealed_content(
    session: Session,
    key: ClinicalKey,
    document_id: str,
    clear_sha: str,
    made: dict[tuple[str, str], str],
) -> str | None:
    """The sha of the document's content sealed as a new import would seal it (bound to
    the document that imported it), stored here; None if it is sealed already or not here
    yet (the next pass, once it has come, seals it)."""
    try:
        data = blobs.get_blob(session, clear_sha)
    except blobs.BlobError:
        # Not here yet: sealed by a later pass once it has come (the scan will look
        # again from where it stood), rather than leaving the content in clear.
        made[(clear_sha, _NOT_HERE)] = clear_sha
        return None
    if clinical_crypto.is_sealed_bytes(data):
        return None
    doc = session.get(Document, document_id)
    if doc is None:
        return None
    owner = documents.content_owner(session, doc)
    found = made.get((clear_sha, owner))
    if found is None:
        found = blobs.put_blob(session, documents.seal_content(key, owner, data))
        made[(clear_sha, owner)] = found
    return found


def _row_values(sealer: _Sealer, target: _Target, row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in target.texts:
        value = row.get(name)
        if isinstance(value, str) and is_clear(value):
            out[name] = sealer.text(name, value)
    for name in target.blobs:
        value = row.get(name)
        if isinstance(value, bytes) and is_clear(value):
            out[name] = sealer.blob(name, value)
    if target.vitals:
        measured = {name: row[name] for name in _VITALS if row.get(name) is not None}
        if measured:
            for name in measured:
                out[name] = None
            if row.get("vitals") is None:
                out["vitals"] = clinical_crypto.encrypt_json(
                    sealer.key, sealer.entity, sealer.row_id, "vitals", measured
                )
    return out


def _entry_values(sealer: _Sealer, target: _Target, values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in target.texts:
        value = values.get(name)
        if isinstance(value, str) and value and not is_sealed_json(value):
            out[name] = sealer.text(name, value)
    for name in target.blobs:
        value = values.get(name)
        if isinstance(value, str) and value and not is_sealed_json(value):
            out[name] = sealer.blob(name, base64.b64decode(value))
    if target.vitals:
        for name in _VITALS:
            if values.get(name) is not None:
                out[name] = None
    return out


def _conflict_row(
    key: ClinicalKey, values: Mapping[str, Any], made: dict[tuple[str, ...], str]
) -> dict[str, Any]:
    """A conflict over a sealed field: each clear side sealed as the field itself would be
    (so the conflict screen opens it); a measurement's number is dropped (NULL): it was
    a value the note itself no longer holds in clear."""
    out: dict[str, Any] = {}
    entity, row_id, field = (
        str(values.get("entity")),
        str(values.get("row_id")),
        str(values.get("field")),
    )
    for name in ("kept_value",):  # the other side is the row's own op-log history
        value = _conflict_value(values, name)
        if value is None:
            continue
        if isinstance(value, str):
            # The same text, the same ciphertext: in the row and in the entry that set it.
            known = (entity, row_id, field, value)
            if known not in made:
                made[known] = clinical_crypto.encrypt_field(key, entity, row_id, field, value)
            out[name] = json.dumps(made[known])
        else:
            out[name] = "null"
    return out


@no_actor("a count of rows, no content: check, the CLI and tests")
def rows_in_clear(ws: Workspace) -> int:
    """Rows whose entries of earlier versions still carry plaintext (they are sealed at the
    next login of a holder of the clinical key)."""
    with ws.store.read() as session:
        rows, _last, _more = _rows_to_seal(session.connection(), 0, 10**9)
    return len(rows)


def clear_rows_message(count: int) -> str:
    if not count:
        return "Données médicales en clair laissées par une version antérieure : aucune."
    return (
        f"Données médicales des versions antérieures encore en clair : {count} ligne(s) ; "
        "elles sont chiffrées à la prochaine connexion d'un soignant ou du médecin directeur."
    )
