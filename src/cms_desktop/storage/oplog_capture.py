"""Writes an op-log entry for every change to a replicated row, in the same transaction.

Hooked on the session factory's flush events: before the flush each new or changed row
gets a fresh HLC version (its previous version becomes the entry's ``base``); after the
flush the entries are chained to this station's last one and inserted on the same
connection, so a change and its log entry commit or roll back together.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from cms_desktop.domain.hlc import HlcTimestamp, HybridLogicalClock
from cms_desktop.domain.oplog import GENESIS_HASH, OpEntry, OpKind, canonical_json, seal
from cms_desktop.storage import origin as origins
from cms_desktop.storage.codec import row_values
from cms_desktop.storage.models.base import Replicated, Replication, utcnow
from cms_desktop.storage.models.core import OpLogRow

TOUCHED_KEY = "touched_tables"


class ForbiddenWrite(Exception):
    """A physical delete of a replicated row, or an update of an insert-only row."""


@dataclass
class ReplicationContext:
    station_id: str
    schema_version: int
    clock: HybridLogicalClock
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The op-log origin entries are written under (``storage.origin``), read again from the
    # database at each write: another process of this station may have taken a new one.
    origin: str = ""
    seal_path: Path | None = None
    sealed: tuple[str, int] = ("", 0)  # last (origin, seq) written to the seal

    def __post_init__(self) -> None:
        self.origin = self.origin or self.station_id

    def next_version(self) -> str:
        with self.lock:
            return self.clock.now().encode()

    def next_version_after(self, seen: str | None) -> str:
        """A version above ``seen`` (the row's version the writer read), whatever this
        process's clock says: another process of the station, or a peer a little ahead,
        may have written it; an edit made after seeing a value must supersede it."""
        with self.lock:
            try:
                previous = HlcTimestamp.decode(seen) if seen else None
            except ValueError:  # not an HLC (a hand-made test row): nothing to order after
                previous = None
            if previous is None:
                return self.clock.now().encode()
            return self.clock.now_after(previous).encode()

    def observe(self, version: str) -> None:
        with self.lock:
            self.clock.observe(HlcTimestamp.decode(version))


@dataclass
class _Pending:
    obj: Replicated
    op: OpKind
    base: str | None
    keys: list[str] | None


def install_capture(factory: sessionmaker[Session], ctx: ReplicationContext) -> None:
    event.listen(factory, "before_flush", lambda s, fc, inst: _before_flush(s, ctx))
    event.listen(factory, "after_flush", lambda s, fc: _after_flush(s, ctx))
    event.listen(factory, "after_commit", lambda s: _after_commit(s, ctx))
    event.listen(factory, "after_rollback", lambda s: s.info.pop("_sealed_seq", None))


def _before_flush(session: Session, ctx: ReplicationContext) -> None:
    if session.info.get("applying_remote"):
        return
    pending: list[_Pending] = session.info.setdefault("_pending_ops", [])
    for obj in session.deleted:
        if isinstance(obj, Replicated):
            raise ForbiddenWrite(f"{type(obj).__name__} rows are never deleted: use a tombstone")
    for obj in session.new:
        if isinstance(obj, Replicated):
            obj.version = ctx.next_version()
            pending.append(_Pending(obj, OpKind.INSERT, None, None))
    for obj in session.dirty:
        if not isinstance(obj, Replicated) or not session.is_modified(obj):
            continue
        if obj.__replication__ is Replication.INSERT_ONLY:
            raise ForbiddenWrite(f"{type(obj).__name__} rows are insert-only")
        state = inspect(obj)
        changed = [
            attr.key
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.has_changes()
        ]
        if not changed:
            continue
        tombstone = "deleted" in changed and obj.deleted
        base = obj.version
        obj.version = ctx.next_version_after(base)
        obj.updated_at = utcnow()
        keys = sorted({*changed, "version", "updated_at"})
        pending.append(_Pending(obj, OpKind.TOMBSTONE if tombstone else OpKind.UPDATE, base, keys))


def _after_flush(session: Session, ctx: ReplicationContext) -> None:
    pending: list[_Pending] = session.info.pop("_pending_ops", [])
    if not pending:
        return
    conn = session.connection()
    origin = ctx.origin = origins.current_origin(conn, ctx.station_id)
    last = conn.execute(
        select(OpLogRow.seq, OpLogRow.hash)
        .where(OpLogRow.origin == origin)
        .order_by(OpLogRow.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
    rows: list[dict[str, Any]] = []
    for item in pending:
        mapper = inspect(item.obj).mapper
        seq += 1
        entry = seal(
            OpEntry(
                origin=origin,
                seq=seq,
                hlc=item.obj.version,
                schema=ctx.schema_version,
                entity=str(mapper.local_table.name),
                row_id=item.obj.id,
                op=item.op,
                values=row_values(mapper, item.obj, item.keys),
                base=item.base,
                prev_hash=prev,
            )
        )
        prev = entry.hash
        rows.append(row_from_entry(entry, applied=True))
    conn.execute(insert(OpLogRow), rows)
    # What this transaction changed, for the screens told once it commits (Store.write).
    touched: set[str] = session.info.setdefault(TOUCHED_KEY, set())
    touched.update(row["entity"] for row in rows)
    session.info["_sealed_seq"] = (origin, seq)


def _after_commit(session: Session, ctx: ReplicationContext) -> None:
    """Record in the seal how far this station's own history goes (``storage.origin``)."""
    written = session.info.pop("_sealed_seq", None)
    if written is None or ctx.seal_path is None:
        return
    with ctx.lock:
        if written[0] == ctx.sealed[0] and written[1] <= ctx.sealed[1]:
            return
        ctx.sealed = written
    origins.write_seals(ctx.seal_path.parent, ctx.station_id, *written)


def stored_values_if_canonical(text: str) -> str | None:
    """``text`` if it is the canonical JSON of its values, else None.

    Entries are stored canonical (sorted keys, no spaces) since the sync fast path; older
    rows were written by ``json.dumps`` with its default ``": "`` separator, which always
    follows the first key of a non-empty object (keys are column names, never quoted).
    """
    if text == "{}":
        return text
    end = text.find('":', 2)
    if not text.startswith('{"') or end < 0 or text[end + 2 : end + 3] == " ":
        return None
    return text


def row_from_entry(entry: OpEntry, *, applied: bool) -> dict[str, Any]:
    """The ``op_log`` row of ``entry``, for a Core INSERT."""
    return {
        "origin": entry.origin,
        "seq": entry.seq,
        "hlc": entry.hlc,
        "schema": entry.schema,
        "entity": entry.entity,
        "row_id": entry.row_id,
        "op": str(entry.op),
        # Canonical, as received entries are stored: a batch can then carry the stored
        # text as it is (see ``stored_values_if_canonical``).
        "values_json": canonical_json(dict(entry.values)).decode(),
        "base": entry.base,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "applied": applied,
        "redacted_by": entry.redacted,
    }


def entry_from_row(row: OpLogRow) -> OpEntry:
    return OpEntry(
        origin=row.origin,
        seq=row.seq,
        hlc=row.hlc,
        schema=row.schema,
        entity=row.entity,
        row_id=row.row_id,
        op=OpKind(row.op),
        values=json.loads(row.values_json),
        base=row.base,
        prev_hash=row.prev_hash,
        hash=row.hash,
        redacted=row.redacted_by,
    )
