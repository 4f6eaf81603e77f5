"""The audit trail: append-only, hash-chained per station, so any edit or removal shows.

Entries name users and record ids, never a patient's name or clinical text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from cms_desktop.domain.oplog import GENESIS_HASH, canonical_json
from cms_desktop.storage.models.audit_heads import AuditHead
from cms_desktop.storage.models.base import new_id, utcnow
from cms_desktop.storage.models.core import AuditEntry, OpLogRow
from cms_desktop.storage.origin import current_origin


def _entry_hash(e: AuditEntry) -> str:
    body = {
        "id": e.id,
        "station_id": e.station_id,
        "seq": e.seq,
        "at": e.at.isoformat(),
        "user_id": e.user_id,
        "user_login": e.user_login,
        "action": e.action,
        "target_type": e.target_type,
        "target_id": e.target_id,
        "details": e.details,
        "prev_hash": e.prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def append(
    session: Session,
    station_id: str,
    action: str,
    *,
    user_id: str | None = None,
    user_login: str = "",
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    # Chained per op-log origin, like the op-log: a station put back from a copy writes
    # under a new origin, so its audit entries never reuse numbers its peers hold.
    station_id = current_origin(session.connection(), station_id)
    # Entries added earlier in this same unit of work are not flushed yet.
    pending = [o for o in session.new if isinstance(o, AuditEntry) and o.station_id == station_id]
    if pending:
        tip = max(pending, key=lambda o: o.seq)
        seq, prev = tip.seq, tip.hash
    else:
        seq, prev = chain_tip(session, station_id)
    entry = AuditEntry(
        id=new_id(),
        station_id=station_id,
        seq=seq + 1,
        at=utcnow(),
        user_id=user_id,
        user_login=user_login,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False),
        prev_hash=prev,
    )
    entry.hash = _entry_hash(entry)
    session.add(entry)
    return entry


def chain_tip(session: Session, station_id: str) -> tuple[int, str]:
    """(seq, hash) of the last stored entry of the chain ``station_id``; (0, genesis)."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.station_id == station_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)


@contextmanager
def append_only_lifted(conn: Connection, *tables: str) -> Iterator[None]:
    """Inside the caller's write transaction, lift the triggers that keep ``tables``
    append-only (``<table>_no_update`` / ``_no_delete``, made by the migrations) and put
    the very same ones back. Schema changes are transactional in SQLite: no other
    connection ever sees a table without them, and a rollback restores them anyway."""
    names = [f"{table}_no_{action}" for table in tables for action in ("update", "delete")]
    marks = ", ".join("?" for _ in names)
    triggers = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
        tuple(names),
    ).all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)


def rechain(
    conn: Connection, entry_ids: list[str], station_id: str, seq: int, prev_hash: str
) -> dict[str, dict[str, Any]]:
    """Move the audit entries ``entry_ids`` (in that order) to the end of the chain
    ``station_id``, whose last entry is ``seq`` / ``prev_hash``; returns, per entry id,
    the fields changed (hash included).

    Only for what a copy of a station wrote under an origin its peers hold with other
    entries: the op-log entries carrying these rows are re-issued under the new origin
    with these fields (``sync.db_store``), so no peer ever held the rows as they were.
    Core SQL under ``append_only_lifted``: the trail stays append-only for everything else."""
    table = AuditEntry.__table__
    moved: dict[str, dict[str, Any]] = {}
    with append_only_lifted(conn, AuditEntry.__tablename__):
        for entry_id in entry_ids:
            row = conn.execute(select(table).where(table.c.id == entry_id)).mappings().one()
            seq += 1
            entry = AuditEntry(
                **{**dict(row), "station_id": station_id, "seq": seq, "prev_hash": prev_hash}
            )
            prev_hash = _entry_hash(entry)
            fields = {"station_id": station_id, "seq": seq, "prev_hash": entry.prev_hash}
            fields["hash"] = prev_hash
            conn.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**fields))
            moved[entry_id] = fields
    return moved


@dataclass(frozen=True)
class AuditProblem:
    station_id: str
    seq: int
    entry_id: str | None
    reason: str  # "altered", "missing", "broken_chain"


def verify(session: Session) -> AuditProblem | None:
    """Walk every station's chain; return the first bad entry, or None when all is intact."""
    stations = session.scalars(select(AuditEntry.station_id).distinct()).all()
    for station in sorted(stations):
        expected_seq, prev = 1, GENESIS_HASH
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.station_id == station).order_by(AuditEntry.seq)
        )
        for entry in rows:
            if entry.seq != expected_seq:
                return AuditProblem(station, expected_seq, None, "missing")
            if entry.prev_hash != prev:
                return AuditProblem(station, entry.seq, entry.id, "broken_chain")
            if _entry_hash(entry) != entry.hash:
                return AuditProblem(station, entry.seq, entry.id, "altered")
            expected_seq, prev = entry.seq + 1, entry.hash
    # The op-log also lists every audit entry ever written: one removed from the tail of a
    # chain (which the chain alone cannot show) is still named there.
    # Likewise the audit heads other stations signed (#17): deleting them here would hide a
    # rewrite from the comparison with what the peers saw.
    logged = session.execute(
        select(OpLogRow.row_id, OpLogRow.origin, OpLogRow.seq).where(
            OpLogRow.entity.in_(("audit_log", "audit_heads"))
        )
    ).all()
    present = set(session.scalars(select(AuditEntry.id)).all())
    present |= set(session.scalars(select(AuditHead.id)).all())
    for row_id, origin, _seq in logged:
        if row_id not in present:
            return AuditProblem(origin, 0, row_id, "missing")
    return None
