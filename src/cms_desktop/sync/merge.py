"""Applying received op-log entries to the rows (SYNC.md merge rules), inside the caller's transaction.

Insert-only tables: union (an id already held is left untouched). Per-field tables: each
field shows the value of the entry with the highest HLC touching it, whatever the arrival
order; when two edits of a protected field were concurrent (neither writer had seen the
other), the displaced value is kept in ``sync_conflicts``. Concurrency is judged on the
row's own history: an entry has seen its ``base`` (the row version its writer held), what
that base had seen, and the earlier entries of its own station on that row.

Entries that cannot be applied yet are stored but held: newer schema, clock too far ahead,
base not applied here yet, or a uniqueness clash; an origin with a held entry is held
behind it so that each origin's order is kept.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cms_desktop.domain.hlc import MAX_FUTURE_SKEW_MS
from cms_desktop.domain.oplog import JsonValue, OpEntry, OpKind, canonical_json
from cms_desktop.storage.codec import decode_value
from cms_desktop.storage.models import OpLogRow, SyncConflict, SyncHeld, utcnow
from cms_desktop.storage.oplog_capture import ReplicationContext
from cms_desktop.sync.rows import (
    carries_every_column,
    insert_from_op_log,
    insert_groups,
    stored_params,
    write_sql,
)
from cms_desktop.sync.tables import TableInfo, table_info

log = logging.getLogger(__name__)

_CONFLICT_NS = uuid.UUID("6f1d9c0e-7d1b-4c5e-9a51-2f0e3c1b5a77")
_CHUNK = 400  # bound parameters per IN (...) clause


class HoldReason(StrEnum):
    SCHEMA = "schema"  # written by a newer version of the software (or an unknown table)
    CLOCK = "clock"  # stamped more than ~5 minutes ahead of this station's clock
    ORDER = "order"  # an earlier entry of the same origin is held
    CAUSAL = "causal"  # the version it was based on has not been applied here yet
    CONSTRAINT = "constraint"  # clashes with a uniqueness rule of this station's data


INSERT_OP_LOG = (
    "INSERT INTO op_log (origin, seq, hlc, schema, entity, row_id, op, values_json, base,"
    " prev_hash, hash, applied, redacted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class MergeOutcome:
    applied: int = 0
    held: dict[HoldReason, int] = field(default_factory=lambda: defaultdict(int))
    touched: set[str] = field(default_factory=set)
    conflicts: int = 0

    @property
    def held_total(self) -> int:
        return sum(self.held.values())


_Groups = list[tuple[str, list[tuple[OpEntry, tuple[Any, ...]]]]]  # rows.insert_groups
_Made = tuple[list[OpEntry], _Groups]
_Winners = tuple[str, dict[str, JsonValue]]  # a reworked row: its id, key → winning value


@dataclass(frozen=True)
class PreparedBatch:
    """What the merge of a batch can work out before its write transaction (no database).

    The merge uses each part only if its own decisions (which need the database) match
    the assumption it was built on; otherwise it builds that part again itself.
    """

    entries: Sequence[OpEntry]
    op_rows: list[tuple[Any, ...]]  # INSERT_OP_LOG parameters, every entry applied
    # insert-only tables whose entries here all carry every column (``insert_from_op_log``)
    full_rows: frozenset[str]
    # entity → (the INSERT entries of a per-field table, one per row id; INSERT groups)
    fresh: dict[str, _Made]


def prepare_batch(entries: Sequence[OpEntry], dialect: Dialect) -> PreparedBatch:
    """The op-log rows and the INSERT parameters of ``entries`` (see ``PreparedBatch``)."""
    insert_only: dict[str, list[OpEntry]] = defaultdict(list)
    fresh: dict[str, list[OpEntry]] = defaultdict(list)
    per_row: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        info = table_info(entry.entity)
        if info is None:
            continue
        if info.insert_only:
            insert_only[entry.entity].append(entry)
        else:
            per_row[(entry.entity, entry.row_id)] += 1
            if entry.op is OpKind.INSERT:
                fresh[entry.entity].append(entry)
    single = {
        entity: [e for e in items if per_row[(entity, e.row_id)] == 1]
        for entity, items in fresh.items()
    }
    return PreparedBatch(
        entries,
        _op_rows(entries, None),
        frozenset(
            entity
            for entity, items in insert_only.items()
            if carries_every_column(_known(entity), items)
        ),
        {entity: _made(entity, items, dialect, False) for entity, items in single.items()},
    )


def _known(entity: str) -> TableInfo:
    info = table_info(entity)
    assert info is not None  # entries of unknown tables are held before they are applied
    return info


def _made(entity: str, entries: list[OpEntry], dialect: Dialect, ignore_existing: bool) -> _Made:
    return entries, insert_groups(_known(entity), dialect, entries, ignore_existing=ignore_existing)


def _made_for(made: dict[str, _Made] | None, entity: str, entries: list[OpEntry]) -> _Groups | None:
    """The prepared INSERT groups of exactly ``entries``, if they were prepared."""
    found = made.get(entity) if made is not None else None
    return found[1] if found is not None and _same(found[0], entries) else None


def _op_rows(
    entries: Sequence[OpEntry], applied: set[tuple[str, int]] | None
) -> list[tuple[Any, ...]]:
    """INSERT_OP_LOG parameters (plain tuples straight to the driver: SQLAlchemy's per-row
    parameter processing cost more than the insert itself); ``None``: all applied."""
    return [
        (
            e.origin,
            e.seq,
            e.hlc,
            e.schema,
            e.entity,
            e.row_id,
            str(e.op),
            e.encoded_values
            if e.encoded_values is not None
            else canonical_json(dict(e.values)).decode(),
            e.base,
            e.prev_hash,
            e.hash,
            applied is None or (e.origin, e.seq) in applied,
            e.redacted,
        )
        for e in entries
    ]


def _same(a: Sequence[OpEntry], b: Sequence[OpEntry]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def conflict_id(entity: str, row_id: str, key: str, kept_version: str) -> str:
    """Same conflict, same id on every station that detects it."""
    return str(uuid.uuid5(_CONFLICT_NS, f"{entity}|{row_id}|{key}|{kept_version}"))


@dataclass
class _Hist:
    origin: str
    seq: int
    hlc: str
    base: str | None
    values: dict[str, JsonValue]


class Merger:
    """One merge pass over entries of any origins, each origin in seq order."""

    def __init__(
        self,
        session: Session,
        ctx: ReplicationContext,
        schema_version: int,
        now_ms: Callable[[], int],
        max_skew_ms: int = MAX_FUTURE_SKEW_MS,
        sql_running: threading.Event | None = None,
    ) -> None:
        self.session = session
        # Set while one long statement runs in SQLite, which releases the GIL for it: a
        # receiving session verifies its next frames meanwhile (sync/pipeline.py).
        self.sql_running = sql_running
        self.conn = session.connection()
        self.ctx = ctx
        self.schema_version = schema_version
        self.now_ms = now_ms
        self.max_skew_ms = max_skew_ms
        self.outcome = MergeOutcome()
        self.prepared: PreparedBatch | None = None

    # --- entry point ------------------------------------------------------------------

    def merge(
        self,
        entries: Sequence[OpEntry],
        *,
        stored: bool,
        prepared: PreparedBatch | None = None,
    ) -> MergeOutcome:
        """Store (unless ``stored``) and apply or hold ``entries``; ``prepared`` is
        ``prepare_batch(entries)`` if the caller made it (it saves work, changes nothing)."""
        if prepared is not None and not _same(prepared.entries, entries):
            prepared = None
        self.prepared = prepared
        applied, held = self._decide(entries)
        if stored:
            self._set_applied([e for e in applied], True)
        elif prepared is not None and not held:
            self.conn.exec_driver_sql(INSERT_OP_LOG, prepared.op_rows)
        else:
            self._store(entries, {(e.origin, e.seq) for e in applied})
        insert_only: list[OpEntry] = []
        per_field: list[OpEntry] = []
        kinds = {entity: _known(entity).insert_only for entity in {e.entity for e in applied}}
        for entry in applied:
            (insert_only if kinds[entry.entity] else per_field).append(entry)
        # Per-field rows first: insert-only rows (notes, documents, prescriptions) point at
        # patients and appointments far more often than the reverse, so a patient and the
        # note written for them in one batch apply in one pass instead of via a hold.
        clashes = self._apply_per_field(per_field)
        stored_range = (
            not stored
            and bool(entries)
            and entries[-1].seq - entries[0].seq == len(entries) - 1
            and all(entry.origin == entries[0].origin for entry in entries)
        )
        clashes += self._apply_insert_only(insert_only, stored_range)
        if clashes:
            self._set_applied(clashes, False)
            clash_keys = {(e.origin, e.seq) for e in clashes}
            applied = [e for e in applied if (e.origin, e.seq) not in clash_keys]
            held.extend((e, HoldReason.CONSTRAINT) for e in clashes)
        self._record_held(held)
        # Stamps beyond the tolerated skew (a station's day ahead, applied once its clock
        # was set right) are not followed: this station's clock stays near the wall clock.
        limit_ms = self.now_ms() + self.max_skew_ms
        trusted = [e.hlc for e in applied if int(e.hlc[:15]) <= limit_ms]
        if trusted:
            self._observe(max(trusted))
        self.outcome.applied += len(applied)
        self.outcome.touched.update(e.entity for e in applied)
        return self.outcome

    # --- apply or hold ----------------------------------------------------------------

    def _decide(
        self, entries: Sequence[OpEntry]
    ) -> tuple[list[OpEntry], list[tuple[OpEntry, HoldReason]]]:
        held_origins = set(self.session.scalars(select(SyncHeld.origin).distinct()))
        bases = self._known_bases(entries)
        limit_ms = self.now_ms() + self.max_skew_ms
        schema_version = self.schema_version
        infos = {entity: table_info(entity) for entity in {e.entity for e in entries}}
        applied: list[OpEntry] = []
        held: list[tuple[OpEntry, HoldReason]] = []
        # A station whose latest entry here is stamped within the tolerated skew has its
        # clock right now: what it stamped while it was ahead no longer waits (it would for
        # as long as it had been ahead, a day for a clock a day ahead, and everything it
        # typed since would wait behind it). Entries come in each origin's seq order.
        latest = {entry.origin: entry.hlc for entry in entries}
        right_now = {origin for origin, hlc in latest.items() if int(hlc[:15]) <= limit_ms}
        # One pass, no call per entry: this runs for every entry a station receives.
        for entry in entries:
            info = infos[entry.entity]
            if entry.origin in held_origins:
                reason = HoldReason.ORDER
            elif info is None or entry.schema > schema_version:
                reason = HoldReason.SCHEMA
            elif int(entry.hlc[:15]) > limit_ms and entry.origin not in right_now:
                reason = HoldReason.CLOCK  # (hlc[:15]: HlcTimestamp.decode(…).wall_ms)
            elif info.insert_only:
                applied.append(entry)
                continue
            elif entry.base and not bases.get(entry.base, False):
                reason = HoldReason.CAUSAL
            else:
                applied.append(entry)
                bases[entry.hlc] = True  # the base of later entries of this row
                continue
            held.append((entry, reason))
            held_origins.add(entry.origin)
        return applied, held

    def _known_bases(self, entries: Sequence[OpEntry]) -> dict[str, bool]:
        """base HLC → applied here; a base no entry carries counts if it is the row's version
        (rows written before the op-log existed, e.g. by a bulk loader)."""
        wanted = sorted({e.base for e in entries if e.base})
        known: dict[str, bool] = {}
        for chunk in _chunks(wanted):
            for hlc, applied in self.conn.execute(
                select(OpLogRow.hlc, OpLogRow.applied).where(OpLogRow.hlc.in_(chunk))
            ):
                known[hlc] = known.get(hlc, False) or bool(applied)
        unknown = [e for e in entries if e.base and e.base not in known]
        by_entity: dict[str, list[OpEntry]] = defaultdict(list)
        for entry in unknown:
            by_entity[entry.entity].append(entry)
        for entity, group in by_entity.items():
            info = table_info(entity)
            if info is None:
                continue
            ids = sorted({e.row_id for e in group})
            for chunk in _chunks(ids):
                for version in self.conn.execute(
                    select(info.table.c.version).where(info.table.c.id.in_(chunk))
                ).scalars():
                    known.setdefault(str(version), True)
        return known

    def _store(self, entries: Sequence[OpEntry], applied: set[tuple[str, int]]) -> None:
        rows = _op_rows(entries, applied)
        if rows:
            self.conn.exec_driver_sql(INSERT_OP_LOG, rows)

    def _set_applied(self, entries: Iterable[OpEntry], applied: bool) -> None:
        params = [{"o": e.origin, "s": e.seq} for e in entries]
        if params:
            self.conn.execute(
                update(OpLogRow)
                .where(OpLogRow.origin == bindparam("o"), OpLogRow.seq == bindparam("s"))
                .values(applied=applied),
                params,
            )

    def _record_held(self, held: list[tuple[OpEntry, HoldReason]]) -> None:
        if not held:
            return
        now = utcnow()
        counts: dict[tuple[str, HoldReason], int] = defaultdict(int)
        for entry, reason in held:
            counts[(entry.origin, reason)] += 1
            self.outcome.held[reason] += 1
        self.conn.execute(
            sqlite_insert(SyncHeld).on_conflict_do_nothing(),
            [{"origin": e.origin, "seq": e.seq, "reason": str(r), "since": now} for e, r in held],
        )
        for (origin, reason), count in sorted(counts.items()):
            # Station ids and counts only: never a value from the entries.
            log.warning("sync: %d change(s) from station %s held (%s)", count, origin, reason)

    def _observe(self, hlc: str) -> None:
        self.ctx.observe(hlc)

    # --- insert-only tables: union ---------------------------------------------------

    def _apply_insert_only(self, entries: list[OpEntry], stored_range: bool) -> list[OpEntry]:
        """``stored_range``: ``entries`` were stored in this transaction, all of one origin
        and numbered without a gap, so their op-log rows are those of that range."""
        by_entity: dict[str, list[OpEntry]] = defaultdict(list)
        for entry in entries:
            by_entity[entry.entity].append(entry)
        clashes: list[OpEntry] = []
        for entity, group in by_entity.items():
            info = _known(entity)
            full = (
                entity in self.prepared.full_rows
                if self.prepared is not None
                else carries_every_column(info, group)
            )
            if stored_range and full and self._from_op_log(info, group):
                continue
            clashes += self._insert_rows(info, group, ignore_existing=True)
        return clashes

    def _from_op_log(self, info: TableInfo, group: list[OpEntry]) -> bool:
        """The rows of ``group`` read by SQLite from the op-log rows just stored (no Python
        per value); False, nothing done, if that path does not apply or a row clashes."""
        origin, first, last = group[0].origin, group[0].seq, group[-1].seq
        savepoint = self.conn.begin_nested()
        if self.sql_running is not None:
            self.sql_running.set()
        try:
            done = insert_from_op_log(self.conn, info, origin, first, last)
        except IntegrityError:
            done = False
        finally:
            if self.sql_running is not None:
                self.sql_running.clear()
        if done:
            savepoint.commit()
        else:
            savepoint.rollback()
        return done

    def _insert_rows(
        self,
        info: TableInfo,
        entries: list[OpEntry],
        *,
        ignore_existing: bool,
        groups: _Groups | None = None,
    ) -> list[OpEntry]:
        """New rows in one executemany per column set; the entries that clashed.
        ``groups``: ``insert_groups`` of these entries, if already made."""
        clashes: list[OpEntry] = []
        execute = self.conn.exec_driver_sql
        if groups is None:
            groups = insert_groups(
                info, self.conn.dialect, entries, ignore_existing=ignore_existing
            )
        for sql, rows in groups:
            if not self._try(execute, sql, [params for _, params in rows]):
                for entry, params in rows:
                    if not self._try(execute, sql, [params]):
                        clashes.append(entry)
        return clashes

    def _try(self, action: Callable[..., object], *args: Any) -> bool:
        """Run ``action`` in a savepoint; False (and nothing done) on a uniqueness clash."""
        savepoint = self.conn.begin_nested()
        try:
            action(*args)
        except IntegrityError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    # --- per-field tables ------------------------------------------------------------

    def _apply_per_field(self, entries: list[OpEntry]) -> list[OpEntry]:
        groups: dict[tuple[str, str], list[OpEntry]] = defaultdict(list)
        for entry in entries:
            groups[(entry.entity, entry.row_id)].append(entry)
        existing = self._existing_rows(groups)
        clashes: list[OpEntry] = []
        fresh: dict[str, list[OpEntry]] = defaultdict(list)
        rework: list[tuple[TableInfo, str, list[OpEntry]]] = []
        for (entity, row_id), group in groups.items():
            info = table_info(entity)
            assert info is not None
            if (
                (entity, row_id) not in existing
                and len(group) == 1
                and group[0].op is OpKind.INSERT
            ):
                fresh[entity].append(group[0])
            else:
                rework.append((info, row_id, group))
        # New rows first: a conflict that the rework below detects may arrive in this very
        # batch, written by the station that detected it first.
        for entity, items in fresh.items():
            info = table_info(entity)
            assert info is not None
            made = self.prepared.fresh if self.prepared else None
            clashes += self._insert_rows(
                info, items, ignore_existing=False, groups=_made_for(made, entity, items)
            )
        histories = self._histories([(info.name, row_id) for info, row_id, _ in rework])
        # One savepoint for all reworked rows; row by row only if a uniqueness rule bites.
        if not self._try(self._rework_all, rework, existing, histories):
            for info, row_id, group in rework:
                exists = (info.name, row_id) in existing
                history = histories[(info.name, row_id)]
                if not self._try(self._recompute, info, row_id, group, exists, history):
                    clashes.extend(group)
        return clashes

    def _rework_all(
        self,
        rework: list[tuple[TableInfo, str, list[OpEntry]]],
        existing: set[tuple[str, str]],
        histories: dict[tuple[str, str], list[_Hist]],
    ) -> None:
        # Rows of one table with the same columns are written in one executemany.
        writes: dict[tuple[str, bool, tuple[str, ...]], list[_Winners]] = defaultdict(list)
        for info, row_id, group in rework:
            exists = (info.name, row_id) in existing
            values = self._merged(info, row_id, group, histories[(info.name, row_id)], exists)
            writes[(info.name, exists, tuple(sorted(values)))].append((row_id, values))
        for (entity, exists, keys), rows in writes.items():
            self._write(_known(entity), exists, keys, rows)

    def _write(
        self, info: TableInfo, exists: bool, keys: tuple[str, ...], rows: list[_Winners]
    ) -> None:
        """UPDATE or INSERT ``rows`` (row id, key → winning value), all setting ``keys``.

        Bound as ``insert_groups`` binds a new row's values (no SQLAlchemy per-row work:
        it was half of a received patient's cost). A new row missing some column takes
        SQLAlchemy's statement, which fills the column's Python default as it always did."""
        if exists or len(keys) == len(info.columns) - 1:  # every column but the id
            dialect = self.conn.dialect
            self.conn.exec_driver_sql(
                write_sql(info, dialect, keys, exists),
                [(*stored_params(info, dialect, keys, values), row_id) for row_id, values in rows],
            )
            return
        decoded = [
            {
                **{info.column_name(k): decode_value(info.columns[k], values[k]) for k in keys},
                "_row_id": row_id,
            }
            for row_id, values in rows
        ]
        names = tuple(sorted(info.column_name(k) for k in keys))
        self.conn.execute(_write_statement(info, exists, names), decoded)

    def _existing_rows(self, groups: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        by_entity: dict[str, list[str]] = defaultdict(list)
        for entity, row_id in groups:
            by_entity[entity].append(row_id)
        found: set[tuple[str, str]] = set()
        for entity, ids in by_entity.items():
            info = table_info(entity)
            assert info is not None
            for chunk in _chunks(sorted(ids)):
                for row_id in self.conn.execute(
                    select(info.table.c.id).where(info.table.c.id.in_(chunk))
                ).scalars():
                    found.add((entity, str(row_id)))
        return found

    def _histories(self, rows: list[tuple[str, str]]) -> dict[tuple[str, str], list[_Hist]]:
        """The applied op-log entries of each row, in HLC order (one query per entity chunk)."""
        histories: dict[tuple[str, str], list[_Hist]] = {key: [] for key in rows}
        by_entity: dict[str, list[str]] = defaultdict(list)
        for entity, row_id in rows:
            by_entity[entity].append(row_id)
        for entity, ids in by_entity.items():
            for chunk in _chunks(sorted(ids)):
                for origin, seq, hlc, base, values, row_id in self.conn.execute(
                    select(
                        OpLogRow.origin,
                        OpLogRow.seq,
                        OpLogRow.hlc,
                        OpLogRow.base,
                        OpLogRow.values_json,
                        OpLogRow.row_id,
                    ).where(
                        OpLogRow.entity == entity,
                        OpLogRow.row_id.in_(chunk),
                        OpLogRow.applied.is_(True),
                    )
                ):
                    histories[(entity, row_id)].append(
                        _Hist(origin, seq, hlc, base, json.loads(values))
                    )
        for history in histories.values():
            history.sort(key=lambda h: h.hlc)
        return histories

    def _recompute(
        self,
        info: TableInfo,
        row_id: str,
        new: list[OpEntry],
        exists: bool,
        history: list[_Hist],
    ) -> None:
        values = self._merged(info, row_id, new, history, exists)
        self._write(info, exists, tuple(sorted(values)), [(row_id, values)])

    def _merged(
        self,
        info: TableInfo,
        row_id: str,
        new: list[OpEntry],
        history: list[_Hist],
        exists: bool,
    ) -> dict[str, JsonValue]:
        """The row rebuilt from its whole applied history (key → value as the entries carry
        it, the id excepted): the same
        whatever order the entries arrived in. Records the conflicts it finds.

        For a row already held, only the keys the new entries carry: the winner of any other
        key is the one the row already shows (adding entries cannot change it), and not
        rewriting those columns spares the triggers they feed (the patient search index
        is rebuilt only when a name, a date of birth, a NIR or a phone is written)."""
        carried = {key for entry in new for key in entry.values}
        winners: dict[str, _Hist] = {}
        for hist in history:  # ascending HLC: the last writer of each key wins
            for key in hist.values:
                if key in info.columns and key != "id" and (not exists or key in carried):
                    winners[key] = hist
        values = {key: hist.values[key] for key, hist in winners.items()}
        touched = carried & info.protected
        if touched:  # every carried key has a winner: the new entries are in the history
            self._detect_conflicts(info, row_id, history, touched, winners)
        return values

    def _detect_conflicts(
        self,
        info: TableInfo,
        row_id: str,
        history: list[_Hist],
        keys: set[str],
        winners: dict[str, _Hist],
    ) -> None:
        seen = _causal_vectors(history)
        for key in sorted(keys):
            writers = [h for h in history if key in h.values]
            if len(writers) < 2:
                continue
            for hist in writers:
                if hist is winners[key]:
                    continue
                superseded = any(
                    other is not hist and seen[other.hlc].get(hist.origin, 0) >= hist.seq
                    for other in writers
                )
                if not superseded:
                    self._keep_conflict(info, row_id, key, hist)

    def _keep_conflict(self, info: TableInfo, row_id: str, key: str, lost: _Hist) -> None:
        cid = conflict_id(info.name, row_id, key, lost.hlc)
        if self.session.get(SyncConflict, cid) is not None:
            return  # already known here (perhaps already resolved): never reopened
        # Written through the op-log capture, as a local change, so that it replicates.
        self.session.add(
            SyncConflict(
                id=cid,
                entity=info.name,
                row_id=row_id,
                field=key,
                kept_value=json.dumps(lost.values[key], ensure_ascii=False),
                kept_version=lost.hlc,
                kept_origin=lost.origin,
                permission=str(info.permission),
                detected_at=utcnow(),
            )
        )
        self.session.flush()
        self.outcome.conflicts += 1


def _causal_vectors(history: list[_Hist]) -> dict[str, dict[str, int]]:
    """For each entry (by HLC): origin → highest seq of that origin it had seen on this row."""
    by_hlc: dict[str, dict[str, int]] = {}
    last_of_origin: dict[str, dict[str, int]] = {}
    for hist in history:  # ascending HLC: a base and a same-origin predecessor come first
        seen: dict[str, int] = {}
        for earlier in (last_of_origin.get(hist.origin), by_hlc.get(hist.base or "")):
            if earlier:
                for origin, seq in earlier.items():
                    if seq > seen.get(origin, 0):
                        seen[origin] = seq
        seen[hist.origin] = max(seen.get(hist.origin, 0), hist.seq)
        by_hlc[hist.hlc] = seen
        last_of_origin[hist.origin] = seen
    return by_hlc


def _write_statement(info: TableInfo, exists: bool, keys: tuple[str, ...]) -> Any:
    """INSERT or UPDATE of the columns ``keys`` (plus ``_row_id``), for executemany."""
    columns: dict[str, Any] = {key: bindparam(key) for key in keys if key != "_row_id"}
    id_column = info.table.c[info.column_name("id")]
    if exists:
        return update(info.table).where(id_column == bindparam("_row_id")).values(columns)
    return insert(info.table).values({**columns, id_column.name: bindparam("_row_id")})


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def release_held(session: Session, entries: Sequence[OpEntry]) -> None:
    """Forget the held marks of ``entries`` before a retry pass re-decides them."""
    conn = session.connection()
    params = [{"o": e.origin, "s": e.seq} for e in entries]
    if params:
        conn.execute(
            delete(SyncHeld).where(
                SyncHeld.origin == bindparam("o"), SyncHeld.seq == bindparam("s")
            ),
            params,
        )
