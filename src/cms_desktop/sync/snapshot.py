"""A copy of the centre's replicated data for a station that joins: rows, op-log, vector.

Exported from one read transaction (a consistent snapshot, thanks to WAL) as JSON lines, and
imported in one write transaction on the new station, without going through the op-log
capture: the copied op-log already describes every row, so the new station relays it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, insert, select, text

from cms_desktop.storage.codec import decode_value, encode_value
from cms_desktop.storage.models import OpLogRow, SyncHeld, SyncVector, utcnow
from cms_desktop.storage.store import Store
from cms_desktop.sync.tables import replicated_tables

_BATCH = 500
_OPLOG_COLUMNS = (
    "origin",
    "seq",
    "hlc",
    "schema",
    "entity",
    "row_id",
    "op",
    "values_json",
    "base",
    "prev_hash",
    "hash",
    "applied",
    "redacted_by",
)


def export_snapshot(store: Store) -> Iterator[bytes]:
    """JSON lines: every replicated row, every op-log entry and every held mark."""
    with store.read() as session:
        conn = session.connection()
        for name, info in sorted(replicated_tables().items()):
            for row in conn.execute(select(info.table)).mappings():
                values = {key: encode_value(value) for key, value in row.items()}
                yield _line({"t": "row", "table": name, "v": values})
        for row in conn.execute(select(OpLogRow.__table__)).mappings():
            yield _line({"t": "op", "v": {c: row[c] for c in _OPLOG_COLUMNS}})
        for held in conn.execute(select(SyncHeld.origin, SyncHeld.seq, SyncHeld.reason)):
            yield _line({"t": "held", "v": list(held)})


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def import_snapshot(store: Store, lines: Iterable[bytes]) -> int:
    """Load a snapshot into an empty store; returns the number of op-log entries copied."""
    tables = replicated_tables()
    pending: dict[str, list[dict[str, Any]]] = {}
    ops = 0
    tips: dict[str, tuple[int, str]] = {}
    with store.write() as session:
        conn = session.connection()
        # Rows arrive table by table: references are checked once everything is in.
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))

        def flush(kind: str) -> None:
            rows = pending.pop(kind, [])
            if not rows:
                return
            if kind == "op":
                conn.execute(insert(OpLogRow), rows)
            elif kind == "held":
                conn.execute(insert(SyncHeld), rows)
            else:
                conn.execute(insert(tables[kind].table), rows)

        for raw in lines:
            item = json.loads(raw)
            kind = item["t"]
            if kind == "row":
                info = tables.get(item["table"])
                if info is None:
                    continue  # a table this version does not know: its op-log entries wait
                columns = info.table.c
                row = {k: decode_value(columns[k], v) for k, v in item["v"].items() if k in columns}
                key = item["table"]
            elif kind == "op":
                row = item["v"]
                row.setdefault("redacted_by", None)  # a snapshot of an earlier version
                ops += 1
                if row["seq"] > tips.get(row["origin"], (0, ""))[0]:
                    tips[row["origin"]] = (row["seq"], row["hash"])
                key = "op"
            else:
                origin, seq, reason = item["v"]
                row = {"origin": origin, "seq": seq, "reason": reason, "since": utcnow()}
                key = "held"
            pending.setdefault(key, []).append(row)
            if len(pending[key]) >= _BATCH:
                flush(key)
        for key in list(pending):
            flush(key)
        if tips:
            conn.execute(
                insert(SyncVector),
                [{"origin": o, "seq": s, "hash": h} for o, (s, h) in sorted(tips.items())],
            )
    last = _max_hlc(store)
    if last:
        store.replication.observe(last)  # the new station's clock starts after the centre's
    return ops


def _max_hlc(store: Store) -> str | None:
    with store.read() as session:
        value = session.scalar(select(func.max(OpLogRow.hlc)))
    return None if value is None else str(value)
