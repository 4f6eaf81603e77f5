"""The audit trail: append-only, hash-chained per station, so any edit or removal shows.

Entries name users and record ids, never a patient's name or clinical text.
"""

from __future__ import annotations

import hashlib
import json
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
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.station_id == station_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    # Entries added earlier in this same unit of work are not flushed yet.
    pending = [o for o in session.new if isinstance(o, AuditEntry) and o.station_id == station_id]
    if pending:
        tip = max(pending, key=lambda o: o.seq)
        seq, prev = tip.seq, tip.hash
    else:
        seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
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


def rechain(
    conn: Connection, entry_id: str, station_id: str, seq: int, prev_hash: str
) -> dict[str, Any]:
    """Move the audit entry ``entry_id`` to the end of the chain ``station_id`` (number
    ``seq``, after ``prev_hash``); returns the fields changed, hash included.

    Only for what a copy of a station wrote under an origin its peers hold with other
    entries: the op-log entry carrying the row is re-issued under the new origin with these
    fields (``sync.db_store``), so no peer ever held the row as it was. Core SQL: the ORM
    refuses any update of an insert-only row, and this must not make an op-log entry."""
    table = AuditEntry.__table__
    row = conn.execute(select(table).where(table.c.id == entry_id)).mappings().one()
    moved = AuditEntry(
        **{**dict(row), "station_id": station_id, "seq": seq, "prev_hash": prev_hash}
    )
    fields: dict[str, Any] = {
        "station_id": station_id,
        "seq": seq,
        "prev_hash": prev_hash,
        "hash": _entry_hash(moved),
    }
    conn.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**fields))
    return fields


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
