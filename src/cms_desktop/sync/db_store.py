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
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cms_desktop.domain.oplog import GENESIS_HASH, ChainError, OpEntry, OpKind, seal
from cms_desktop.storage import audit, keyslot_sync
from cms_desktop.storage import origin as origins
from cms_desktop.storage.models import (
    AuditEntry,
    AuditHead,
    LocalState,
    OpLogRow,
    SyncHeld,
    SyncPeer,
    SyncVector,
    utcnow,
)
from cms_desktop.storage.oplog_capture import (
    entry_from_row,
    row_from_entry,
    stored_values_if_canonical,
)
from cms_desktop.storage.store import Store
from cms_desktop.sync import audit_heads, legacy_seal
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
            hidden = origins.resolving(conn)
        for origin, seq in own:
            if seq:
                seqs[origin] = max(seq, seqs.get(origin, 0))
        # A copy's own entries after the last one known shared are not shown until the
        # peers' history says where the two part (``_settle_fork``).
        for origin, floor in hidden.items():
            seqs[origin] = min(seqs.get(origin, 0), floor)
        return VersionVector(seqs)

    # --- restored stations and diverged histories ------------------------------------

    def tips(self) -> dict[str, list[object]]:
        """Origin → [seq, hash] of the last entry held (told in HELLO): two stations at
        the same seq of an origin with other hashes hold two histories. The seq travels
        with the hash: the vector sent beside it may have moved on in between."""
        held = self.vector()
        tips: dict[str, list[object]] = {}
        with self.store.read() as session:
            settling = origins.resolving(session.connection())
            for origin in held:
                seq, hash_ = _tip(session, origin, settling.get(origin, _ALL))
                if seq:
                    tips[origin] = [seq, hash_]
        return tips

    def check_history(
        self, peer_vector: VersionVector, peer_tips: dict[str, object], peer_id: str
    ) -> bool:
        """Compare this station's history with a peer's HELLO, before anything is asked.

        A peer holding more of the origin this station writes under, or the same seq with
        another hash, or an earlier seq with another hash than ours there, means the
        station was put back from a copy (``storage.origin``): it takes a new origin before
        writing anything more, so that no sequence number is issued twice, and the old
        origin is *resolving*: what it wrote there after the copy is moved to the new origin
        once a peer's entries show where the histories part (``_settle_fork``), and the
        peers' entries of the old origin come back. Any other origin held to the same seq
        with another hash is a split, recorded (``note_diverged``). True if a new origin
        was taken."""
        mine = self.tips()
        splits: dict[str, int] = {}
        for origin, tip in peer_tips.items():
            if not (isinstance(tip, list) and len(tip) == 2 and origin in mine):
                continue
            if tip[0] == mine[origin][0] and tip[1] != mine[origin][1]:
                splits[origin] = int(str(tip[0]))
        current = self.origin
        parted = current in splits or self._parted_before_tip(current, peer_tips.get(current))
        if peer_vector.seq(current) <= self.own_seq() and not parted:
            return self._note_splits(splits, peer_id)  # the usual case: no write needed
        renewed = False
        with self._lock, self.store.write() as session:
            conn = session.connection()
            origin = origins.current_origin(conn, self.station_id)
            theirs, held = peer_vector.seq(origin), origins.own_seq(conn, origin)
            if origin == current and (theirs > held or parted):
                log.warning(
                    "sync: station %s holds this station's entries up to %d, this station "
                    "up to %d%s (restored from a copy?)",
                    peer_id,
                    theirs,
                    held,
                    ", another history" if parted else "",
                )
                floor = _shared_floor(session, origin, held, peer_tips.get(origin))
                origins.take_new_origin(conn, self.station_id, "a peer holds more of its history")
                origins.set_resolving(conn, {**origins.resolving(conn), origin: floor})
                splits.pop(origin, None)
                renewed = True
        self._note_splits(splits, peer_id)
        return renewed

    def _parted_before_tip(self, origin: str, tip: object) -> bool:
        """The peer's last entry of ``origin`` is one we hold under another hash."""
        if not (isinstance(tip, list) and len(tip) == 2 and type(tip[0]) is int):
            return False
        with self.store.read() as session:
            held = _hash_at(session, origin, tip[0])
        return held is not None and held != tip[1]

    def _note_splits(self, splits: dict[str, int], peer_id: str) -> bool:
        with self.store.read() as session:
            settling = origins.resolving(session.connection())
        for split, seq in splits.items():
            if split in settling:  # our copy parts from the peers before what we show
                self._lower_floor(split, seq - 1)
            elif origins.station_of_origin(split) == peer_id:
                # The peer's own origin: the peer was put back from a copy and settles it
                # itself (it moves what it wrote there and takes our history back).
                continue
            else:
                self.note_diverged(split, seq, peer_id)
        return False

    def resolving(self) -> dict[str, int]:
        """Own origins whose split with the peers is being settled (``storage.origin``)."""
        with self.store.read() as session:
            return origins.resolving(session.connection())

    def _lower_floor(self, origin: str, below: int) -> None:
        """The peers' history parts from ours at or before ``below``: ask from half-way
        down next time (a binary search over sessions; the range asked then is compared
        entry by entry)."""
        with self._lock, self.store.write() as session:
            conn = session.connection()
            settling = origins.resolving(conn)
            if origin not in settling:
                return
            settling[origin] = min(settling[origin], max(below, 0) // 2)
            origins.set_resolving(conn, settling)

    def diverged(self) -> dict[str, dict[str, object]]:
        """Origins whose history here differs from a peer's: origin → {seq, peer, at}."""
        with self.store.read() as session:
            return _diverged(session)

    def note_diverged(self, origin: str, seq: int, peer_id: str) -> None:
        """A peer's entries of ``origin`` do not continue the ones held here (same origin and
        seq, another hash). Recorded and shown; that origin is no longer asked for nor
        served (``diverged_origins``) so that the rest keeps flowing and the split does
        not spread, until the station at fault is removed and paired again."""
        if origin in self.resolving():  # our own copy's split: ask from further back
            self._lower_floor(origin, seq)
            return
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
                    OpLogRow.redacted_by,
                )
                .where(
                    OpLogRow.origin == origin,
                    OpLogRow.seq > after_seq,
                    OpLogRow.seq <= _shown_up_to(session, origin),
                )
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
                _values(vj),
                base,
                prev,
                hsh,
                encoded_values=stored_values_if_canonical(vj),
                redacted=red,
            )
            for o, s, h, sc, ent, rid, op, vj, base, prev, hsh, red in rows
        ]

    def chain_tip(self, origin: str) -> tuple[int, str]:
        with self.store.read() as session:
            return _tip(session, origin, _shown_up_to(session, origin))

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
        moved: tuple[str, int] | None = None
        with self._lock, self.store.write() as session:
            floor = origins.resolving(session.connection()).get(origin)
            if floor is not None:
                entries, moved = self._settle_fork(session, origin, floor, entries)
            seq, tip = _tip(session, origin)
            new = [entry for entry in entries if entry.seq > seq]
            if not new:
                return
            _check_links(origin, new, seq, tip)
            merger = self._merger(session, committing)
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
            legacy_seal.apply_pending(session)  # seals that came, or rows they waited for
            run_post_merge(session, frozenset(outcome.touched))
            failpoint("sync.apply.before_commit")
            if committing is not None:
                committing.set()  # what is left is the COMMIT, outside the GIL
        if committing is not None:
            committing.clear()  # Python again: the seals, the listeners
        failpoint("sync.apply.after_commit")
        if moved is not None and self.store.replication.seal_path is not None:
            origins.write_seals(self.store.replication.seal_path.parent, self.station_id, *moved)
        self._notify(outcome)

    # --- a copy's split with its peers ----------------------------------------------

    def _settle_fork(
        self, session: Session, origin: str, floor: int, entries: Sequence[OpEntry]
    ) -> tuple[Sequence[OpEntry], tuple[str, int] | None]:
        """A peer's entries of ``origin`` (this station's own, resolving) from ``floor + 1``
        on, checked as continuing our entry ``floor``: compared with ours one by one. While
        they are ours, the floor moves up; where they part (or where ours stop), what we
        wrote after that point is moved to our current origin (``_reissue``), our copies
        are dropped and the peer's entries follow as any received entries. Returns the
        entries left to apply and the (origin, seq) to seal if entries were moved."""
        held = {
            seq: hash_
            for seq, hash_ in session.execute(
                select(OpLogRow.seq, OpLogRow.hash).where(
                    OpLogRow.origin == origin, OpLogRow.seq > floor
                )
            )
        }
        shared = floor
        for entry in entries:
            if entry.seq <= shared:
                continue
            if held.get(entry.seq) != entry.hash:
                break
            shared = entry.seq
        conn = session.connection()
        settling = origins.resolving(conn)
        if entries and shared == entries[-1].seq and shared < max(held, default=floor):
            settling[origin] = shared  # all ours so far: the parting is further on
            origins.set_resolving(conn, settling)
            return [], None
        moved = self._reissue(session, origin, shared)
        settling.pop(origin, None)
        origins.set_resolving(conn, settling)
        return [entry for entry in entries if entry.seq > shared], moved

    def _reissue(self, session: Session, origin: str, shared: int) -> tuple[str, int] | None:
        """Move this station's entries of ``origin`` after ``shared`` to the end of its
        current origin: same rows, values and HLCs (so the rows and the bases of later
        entries stay as they are), new numbers and chain; the audit entries they carry are
        moved to the current origin's audit chain, and audit heads this station signed of
        the old origin's chain (as it held it) are dropped. Inside the caller's write."""
        conn = session.connection()
        rows = session.scalars(
            select(OpLogRow)
            .where(OpLogRow.origin == origin, OpLogRow.seq > shared)
            .order_by(OpLogRow.seq)
        ).all()
        if not rows:
            return None
        target = origins.current_origin(conn, self.station_id)
        if target == origin:  # another process went back to it: never number it again
            target = origins.take_new_origin(conn, self.station_id, "its copy's split")
        seq, prev = _tip(session, target)
        entries = [entry_from_row(row) for row in rows]
        # The audit entries they carry go to the end of the current origin's audit chain;
        # heads of the old origin's audit chain signed here (as this copy held it) go.
        trail = [
            e.row_id
            for e in entries
            if e.entity == _AUDIT_LOG and e.values.get("station_id") == origin
        ]
        heads = {
            e.row_id
            for e in entries
            if e.entity == _AUDIT_HEADS and e.values.get("origin_id") == origin
        }
        rechained = audit.rechain(conn, trail, target, *audit.chain_tip(session, target))
        if heads:
            with audit.append_only_lifted(conn, _AUDIT_HEADS):
                conn.execute(delete(AuditHead).where(AuditHead.id.in_(sorted(heads))))
        moved: list[dict[str, object]] = []
        for entry, row in zip(entries, rows, strict=True):
            if entry.entity == _AUDIT_HEADS and entry.row_id in heads:
                continue
            values = dict(entry.values)
            if entry.entity == _AUDIT_LOG:
                values.update(rechained.get(entry.row_id, {}))
            seq += 1
            # A redacted entry is hashed anew over its sealed values: a plain entry again.
            sealed = seal(
                replace(entry, origin=target, seq=seq, values=values, prev_hash=prev, redacted=None)
            )
            prev = sealed.hash
            moved.append(row_from_entry(sealed, applied=row.applied))
        conn.execute(delete(SyncHeld).where(SyncHeld.origin == origin, SyncHeld.seq > shared))
        conn.execute(delete(OpLogRow).where(OpLogRow.origin == origin, OpLogRow.seq > shared))
        legacy_seal.forget_scan(conn)  # rowids may now be given again below its mark
        if moved:
            conn.execute(insert(OpLogRow), moved)
        log.warning(
            "sync: %d entries this station wrote under %s after entry %d (a copy's, which "
            "its peers hold otherwise) moved to %s; %d audit head(s) of the old chain dropped",
            len(moved),
            origin,
            shared,
            target,
            len(heads),
        )
        return (target, seq) if moved else None

    # --- held entries -----------------------------------------------------------------

    def retry_held(self) -> int:
        """Apply held entries that have become acceptable (clock caught up, upgrade, base
        arrived); returns how many were applied."""
        with self._lock, self.store.write() as session:
            outcome = MergeOutcome()
            self._retry(session, outcome)
            if outcome.applied:
                legacy_seal.apply_pending(session)
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

    def _merger(self, session: Session, sql_running: threading.Event | None = None) -> Merger:
        return Merger(
            session, self.store.replication, self._schema, self._now_ms, sql_running=sql_running
        )

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


def _values(text: str) -> dict[str, Any]:
    """A stored entry's values. orjson parses the canonical JSON the op-log holds three
    times faster than ``json`` (this runs for every entry a station sends); what it refuses
    (a value an early version wrote with ``json.dumps``, NaN say) is read by ``json``."""
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError:
        values = json.loads(text)
    return cast(dict[str, Any], values)


def _diverged(session: Session) -> dict[str, dict[str, object]]:
    text = session.scalar(select(LocalState.value).where(LocalState.key == _DIVERGED))
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


_AUDIT_LOG = AuditEntry.__tablename__
_AUDIT_HEADS = AuditHead.__tablename__
_ALL = 2**62  # no upper bound on a seq


def _tip(session: Session, origin: str, up_to: int = _ALL) -> tuple[int, str]:
    row = session.execute(
        select(OpLogRow.seq, OpLogRow.hash)
        .where(OpLogRow.origin == origin, OpLogRow.seq <= up_to)
        .order_by(OpLogRow.seq.desc())
        .limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _shown_up_to(session: Session, origin: str) -> int:
    """The last seq of ``origin`` shown and served: all, unless it is one of our own
    origins being settled after a copy (``storage.origin.resolving``)."""
    return origins.resolving(session.connection()).get(origin, _ALL)


def _hash_at(session: Session, origin: str, seq: int) -> str | None:
    return session.scalar(
        select(OpLogRow.hash).where(OpLogRow.origin == origin, OpLogRow.seq == seq)
    )


def _shared_floor(session: Session, origin: str, held: int, peer_tip: object) -> int:
    """A seq of our own ``origin`` that the peers surely hold as we do: below what any
    peer acknowledged of it and below where the peer's last entry disagrees with ours.
    Too high is only slower (the peer's entries then do not continue ours: the floor is
    lowered and asked again); the entries after it are compared one by one."""
    acked = session.scalar(select(func.max(SyncPeer.acked_seq))) or 0
    floor = min(int(acked), held)
    if (
        isinstance(peer_tip, list)
        and len(peer_tip) == 2
        and type(peer_tip[0]) is int
        and peer_tip[0] <= held
        and _hash_at(session, origin, peer_tip[0]) != peer_tip[1]
    ):
        floor = min(floor, peer_tip[0] - 1)
    return max(floor, 0)


def _check_links(origin: str, entries: Sequence[OpEntry], seq: int, tip: str) -> None:
    """Hashes were checked when the batch was decoded; here only the links to our tip."""
    for entry in entries:
        if entry.origin != origin:
            raise ChainError(f"batch mixes origins (expected {origin})")
        if entry.seq != seq + 1 or entry.prev_hash != tip:
            raise ChainError(f"batch does not continue origin {origin} at seq {seq}")
        seq, tip = entry.seq, entry.hash
