"""The ReplicaStore of a real workstation: its SQLCipher op-log, rows and version vector.

A received batch is stored, merged (``sync.merge``) and the vector advanced in ONE write
transaction (``BEGIN IMMEDIATE``): a crash leaves the station before or after the batch,
never between. Rows are written without going through the op-log capture, so applying a
remote entry creates no local entry; the received entries themselves are kept in the
local op-log so that this station relays them (A and C converge through B).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cms_desktop.domain.oplog import GENESIS_HASH, ChainError, OpEntry, OpKind
from cms_desktop.storage import keyslot_sync
from cms_desktop.storage import origin as origins
from cms_desktop.storage.models import LocalState, OpLogRow, SyncHeld, SyncVector, utcnow
from cms_desktop.storage.oplog_capture import entry_from_row, stored_values_if_canonical
from cms_desktop.storage.store import Store
from cms_desktop.sync import audit_heads
from cms_desktop.sync.failpoints import failpoint
from cms_desktop.sync.hooks import run_post_merge
from cms_desktop.sync.merge import (
    HoldReason,
    MergeOutcome,
    Merger,
    PreparedBatch,
    prepare_batch,
    release_held,
)
from cms_desktop.sync.vector import VersionVector

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldSummary:
    """How many entries wait, per reason, and which stations need updating this one."""

    counts: dict[str, int]
    newer_schema_origins: tuple[str, ...]
    # Stations whose changes wait because they are stamped too far ahead of our clock.
    clock_ahead_origins: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class DbReplicaStore:
    """Thread-safe; several sessions may call ``apply_batch`` concurrently."""

    def __init__(
        self,
        store: Store,
        *,
        schema_version: int | None = None,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self._schema = schema_version or store.replication.schema_version
        clock = store.replication.clock
        self._now_ms = now_ms or (lambda: clock._now_ms())
        self._lock = threading.Lock()
        self._listeners: list[Callable[[MergeOutcome], None]] = []

    @property
    def station_id(self) -> str:
        return self.store.station_id

    def wall_clock_ms(self) -> int:
        return self._now_ms()

    @property
    def schema_version(self) -> int:
        return self._schema

    def add_listener(self, listener: Callable[[MergeOutcome], None]) -> None:
        """Called after each committed batch (from the sync thread that applied it)."""
        self._listeners.append(listener)

    # --- ReplicaStore -----------------------------------------------------------------

    @property
    def origin(self) -> str:
        """The origin this station writes under now (``storage.origin``)."""
        with self.store.read() as session:
            return origins.current_origin(session.connection(), self.station_id)

    def own_seq(self) -> int:
        """Highest seq written under the current origin."""
        with self.store.read() as session:
            conn = session.connection()
            return origins.own_seq(conn, origins.current_origin(conn, self.station_id))

    def vector(self) -> VersionVector:
        with self.store.read() as session:
            seqs = {
                origin: seq
                for origin, seq in session.execute(select(SyncVector.origin, SyncVector.seq))
            }
            # This station's own entries (every origin it wrote under) are not in the
            # vector table: they were never received.
            conn = session.connection()
            own = [
                (o, origins.own_seq(conn, o)) for o in origins.own_origins(conn, self.station_id)
            ]
        for origin, seq in own:
            if seq:
                seqs[origin] = max(seq, seqs.get(origin, 0))
        return VersionVector(seqs)

    # --- restored stations and diverged histories ------------------------------------

    def tips(self) -> dict[str, list[object]]:
        """Origin → [seq, hash] of the last entry held (told in HELLO): two stations at
        the same seq of an origin with other hashes hold two histories. The seq travels
        with the hash: the vector sent beside it may have moved on in between."""
        held = self.vector()
        tips: dict[str, list[object]] = {}
        with self.store.read() as session:
            for origin in held:
                seq, hash_ = _tip(session, origin)
                if seq:
                    tips[origin] = [seq, hash_]
        return tips

    def check_history(
        self, peer_vector: VersionVector, peer_tips: dict[str, object], peer_id: str
    ) -> bool:
        """Compare this station's history with a peer's HELLO, before anything is asked.

        A peer holding more of the origin this station writes under, or as much with
        another last hash, means the station was put back from a copy (``storage.origin``):
        it takes a new origin before writing anything more, so that no sequence number is
        issued twice; the entries the copy lacked come back from the peers like any
        station's. Any origin held to the same seq with another hash is a split, recorded
        (``note_diverged``). True if a new origin was taken."""
        mine = self.tips()
        splits: dict[str, int] = {}
        for origin, tip in peer_tips.items():
            if not (isinstance(tip, list) and len(tip) == 2 and origin in mine):
                continue
            if tip[0] == mine[origin][0] and tip[1] != mine[origin][1]:
                splits[origin] = int(str(tip[0]))
        renewed = False
        current = self.origin
        if peer_vector.seq(current) <= self.own_seq() and current not in splits:
            return self._note_splits(splits, peer_id)  # the usual case: no write needed
        with self._lock, self.store.write() as session:
            conn = session.connection()
            origin = origins.current_origin(conn, self.station_id)
            theirs, held = peer_vector.seq(origin), origins.own_seq(conn, origin)
            if theirs > held or origin in splits:
                log.warning(
                    "sync: station %s holds this station's entries up to %d, this station "
                    "up to %d%s (restored from a copy?)",
                    peer_id,
                    theirs,
                    held,
                    ", another history" if origin in splits else "",
                )
                origins.take_new_origin(conn, self.station_id, "a peer holds more of its history")
                renewed = True
        self._note_splits(splits, peer_id)
        return renewed

    def _note_splits(self, splits: dict[str, int], peer_id: str) -> bool:
        for split, seq in splits.items():
            self.note_diverged(split, seq, peer_id)
        return False

    def diverged(self) -> dict[str, dict[str, object]]:
        """Origins whose history here differs from a peer's: origin → {seq, peer, at}."""
        with self.store.read() as session:
            return _diverged(session)

    def note_diverged(self, origin: str, seq: int, peer_id: str) -> None:
        """A peer's entries of ``origin`` do not continue the ones held here (same origin and
        seq, another hash). Recorded and shown; that origin is no longer asked for nor
        served (``diverged_origins``) so that the rest keeps flowing and the split does
        not spread, until the station at fault is removed and paired again."""
        with self._lock, self.store.write() as session:
            known = _diverged(session)
            if origin in known:
                return
            known[origin] = {"seq": seq, "peer": peer_id, "at": utcnow().isoformat()}
            row = session.get(LocalState, _DIVERGED)
            text = json.dumps(known, sort_keys=True)
            if row is None:
                session.add(LocalState(key=_DIVERGED, value=text))
            else:
                row.value = text
        log.warning(
            "sync: history of origin %s differs from station %s's from entry %d; "
            "that origin is no longer exchanged",
            origin,
            peer_id,
            seq,
        )

    def diverged_origins(self) -> frozenset[str]:
        return frozenset(self.diverged())

    def entries_since(self, origin: str, after_seq: int, limit: int) -> list[OpEntry]:
        # Plain tuples, not ORM objects: this feeds every batch a station sends.
        with self.store.read() as session:
            rows = session.execute(
                select(
                    OpLogRow.origin,
                    OpLogRow.seq,
                    OpLogRow.hlc,
                    OpLogRow.schema,
                    OpLogRow.entity,
                    OpLogRow.row_id,
                    OpLogRow.op,
                    OpLogRow.values_json,
                    OpLogRow.base,
                    OpLogRow.prev_hash,
                    OpLogRow.hash,
                )
                .where(OpLogRow.origin == origin, OpLogRow.seq > after_seq)
                .order_by(OpLogRow.seq)
                .limit(max(limit, 0))
            ).all()
        kinds = {str(kind): kind for kind in OpKind}
        return [
            OpEntry(
                o,
                s,
                h,
                sc,
                ent,
                rid,
                kinds[op],
                json.loads(vj),
                base,
                prev,
                hsh,
                encoded_values=stored_values_if_canonical(vj),
            )
            for o, s, h, sc, ent, rid, op, vj, base, prev, hsh in rows
        ]

    def chain_tip(self, origin: str) -> tuple[int, str]:
        with self.store.read() as session:
            return _tip(session, origin)

    def prepare_batch(self, entries: Sequence[OpEntry]) -> PreparedBatch:
        return prepare_batch(entries, self.store.engine.dialect)

    def apply_batch(
        self,
        origin: str,
        entries: Sequence[OpEntry],
        prepared: object | None = None,
        committing: threading.Event | None = None,
    ) -> None:
        try:
            self._apply_batch(origin, entries, prepared, committing)
        finally:
            if committing is not None:
                committing.clear()

    def _apply_batch(
        self,
        origin: str,
        entries: Sequence[OpEntry],
        prepared: object | None,
        committing: threading.Event | None,
    ) -> None:
        with self._lock, self.store.write() as session:
            seq, tip = _tip(session, origin)
            new = [entry for entry in entries if entry.seq > seq]
            if not new:
                return
            _check_links(origin, new, seq, tip)
            merger = self._merger(session)
            outcome = merger.merge(
                new,
                stored=False,
                prepared=prepared if isinstance(prepared, PreparedBatch) else None,
            )
            failpoint("sync.apply.before_vector")
            session.execute(
                sqlite_insert(SyncVector)
                .values(origin=origin, seq=new[-1].seq, hash=new[-1].hash)
                .on_conflict_do_update(
                    index_elements=["origin"], set_={"seq": new[-1].seq, "hash": new[-1].hash}
                )
            )
            if outcome.applied and session.scalar(select(func.count()).select_from(SyncHeld)):
                self._retry(session, outcome)
            run_post_merge(session, frozenset(outcome.touched))
            failpoint("sync.apply.before_commit")
            if committing is not None:
                committing.set()  # what is left is the COMMIT, outside the GIL
        failpoint("sync.apply.after_commit")
        self._notify(outcome)

    # --- held entries -----------------------------------------------------------------

    def retry_held(self) -> int:
        """Apply held entries that have become acceptable (clock caught up, upgrade, base
        arrived); returns how many were applied."""
        with self._lock, self.store.write() as session:
            outcome = MergeOutcome()
            self._retry(session, outcome)
            if outcome.applied:
                run_post_merge(session, frozenset(outcome.touched))
        if outcome.applied:
            self._notify(outcome)
        return outcome.applied

    def held_summary(self) -> HeldSummary:
        with self.store.read() as session:
            counts = {
                reason: count
                for reason, count in session.execute(
                    select(SyncHeld.reason, func.count()).group_by(SyncHeld.reason)
                )
            }
            newer = session.scalars(
                select(SyncHeld.origin)
                .where(SyncHeld.reason == str(HoldReason.SCHEMA))
                .distinct()
                .order_by(SyncHeld.origin)
            ).all()
            ahead = session.scalars(
                select(SyncHeld.origin)
                .where(SyncHeld.reason == str(HoldReason.CLOCK))
                .distinct()
                .order_by(SyncHeld.origin)
            ).all()
        return HeldSummary({str(k): int(v) for k, v in counts.items()}, tuple(newer), tuple(ahead))

    def _merger(self, session: Session) -> Merger:
        return Merger(session, self.store.replication, self._schema, self._now_ms)

    def _retry(self, session: Session, total: MergeOutcome) -> None:
        while True:
            rows = session.scalars(
                select(OpLogRow)
                .join(
                    SyncHeld, (SyncHeld.origin == OpLogRow.origin) & (SyncHeld.seq == OpLogRow.seq)
                )
                .order_by(OpLogRow.origin, OpLogRow.seq)
            ).all()
            if not rows:
                return
            entries = [entry_from_row(row) for row in rows]
            release_held(session, entries)
            outcome = self._merger(session).merge(entries, stored=True)
            total.applied += outcome.applied
            total.conflicts += outcome.conflicts
            total.touched |= outcome.touched
            if not outcome.applied:
                return

    def attest_audit_heads(self, signer: Ed25519PrivateKey) -> None:
        """Sign the audit heads held here (``sync.audit_heads``). A failure costs only
        this round's heads (the next session signs them): the exchange goes on."""
        try:
            audit_heads.attest(self.store, signer)
        except (OSError, SQLAlchemyError) as exc:
            log.warning("sync: audit heads not signed (%s)", type(exc).__name__)

    def _notify(self, outcome: MergeOutcome) -> None:
        if keyslot_sync.TABLE in outcome.touched:
            try:  # accounts created or reset elsewhere
                keyslot_sync.refresh_key_slots(self.store)
            except OSError:  # the batch is committed; the service retries at its next start
                log.warning("sync: key-slot file could not be updated")
        for listener in list(self._listeners):
            listener(outcome)


_DIVERGED = "sync.diverged"


def _diverged(session: Session) -> dict[str, dict[str, object]]:
    text = session.scalar(select(LocalState.value).where(LocalState.key == _DIVERGED))
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _tip(session: Session, origin: str) -> tuple[int, str]:
    row = session.execute(
        select(OpLogRow.seq, OpLogRow.hash)
        .where(OpLogRow.origin == origin)
        .order_by(OpLogRow.seq.desc())
        .limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _check_links(origin: str, entries: Sequence[OpEntry], seq: int, tip: str) -> None:
    """Hashes were checked when the batch was decoded; here only the links to our tip."""
    for entry in entries:
        if entry.origin != origin:
            raise ChainError(f"batch mixes origins (expected {origin})")
        if entry.seq != seq + 1 or entry.prev_hash != tip:
            raise ChainError(f"batch does not continue origin {origin} at seq {seq}")
        seq, tip = entry.seq, entry.hash
