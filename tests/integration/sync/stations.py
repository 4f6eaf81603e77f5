"""Real SQLCipher stations for sync tests, exchanging signed batches in-process.

``deliver`` mimics what the transport does with each received frame (decode against the
local chain tip, then ``apply_batch``), and can drop, duplicate or reorder frames.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from cms_desktop.domain.hlc import wall_clock_ms
from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import OpLogRow, Patient, SyncConflict, SyncVector
from cms_desktop.storage.store import Store
from cms_desktop.sync.batch import BatchRejected, decode_batch, encode_batch, read_header
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.tables import replicated_tables
from cms_desktop.sync.vector import missing_ranges

KEY = secrets.token_bytes(32)


class VirtualTime:
    """A wall clock the test moves forward; stations read it with their own skew."""

    def __init__(self) -> None:
        self.now_ms = wall_clock_ms()

    def advance(self, minutes: float) -> None:
        self.now_ms += int(minutes * 60_000)


@dataclass
class Station:
    name: str
    data_dir: DataDir
    time: VirtualTime
    skew_ms: int = 0
    signer: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    replica: DbReplicaStore = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir.path.mkdir(parents=True, exist_ok=True)
        self.open()

    def now(self) -> int:
        return self.time.now_ms + self.skew_ms

    def open(self) -> None:
        store = Store.open(self.data_dir, KEY)
        store.replication.clock._now_ms = self.now
        self.replica = DbReplicaStore(store, now_ms=self.now)

    def restart(self) -> None:
        self.replica.store.close()
        self.open()

    def close(self) -> None:
        self.replica.store.close()

    @property
    def store(self) -> Store:
        return self.replica.store

    @property
    def station_id(self) -> str:
        return self.replica.station_id

    # --- local writes ----------------------------------------------------------------

    def new_patient(self, birth_name: str) -> str:
        with self.store.write() as session:
            patient = Patient(
                birth_name=birth_name,
                first_given_name="Camille",
                birth_date=dt.date(1970, 1, 1),
                sex="F",
            )
            session.add(patient)
        return patient.id

    def set_field(self, patient_id: str, key: str, value: Any) -> tuple[str, str] | None:
        """Edit a field; returns (hlc of the new entry, origin) or None if the row is absent."""
        with self.store.write() as session:
            patient = session.get(Patient, patient_id)
            if patient is None:
                return None
            setattr(patient, key, value)
            session.flush()
            version = patient.version
        return version, self.station_id

    def write_note(self, text: str) -> str:
        with self.store.write() as session:
            entry = audit.append(
                session, self.station_id, "note", target_type="note", details={"t": text}
            )
        return entry.id

    # --- inspection ------------------------------------------------------------------

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every replicated table, rows sorted by id."""
        tables: dict[str, list[tuple[Any, ...]]] = {}
        with self.store.read() as session:
            conn = session.connection()
            for name, info in sorted(replicated_tables().items()):
                rows = conn.execute(select(info.table).order_by(info.table.c.id)).all()
                tables[name] = [tuple(row) for row in rows]
        return tables

    def conflicts(self) -> list[tuple[Any, ...]]:
        with self.store.read() as session:
            return [
                (c.id, c.entity, c.row_id, c.field, c.kept_value, c.kept_version, c.resolved_at)
                for c in session.scalars(select(SyncConflict).order_by(SyncConflict.id))
            ]

    def vector_matches_log(self) -> bool:
        """The persisted vector says exactly what the op-log holds, per remote origin."""
        with self.store.read() as session:
            stored = {o: s for o, s in session.execute(select(SyncVector.origin, SyncVector.seq))}
            logged: dict[str, int] = {}
            for origin, seq in session.execute(select(OpLogRow.origin, OpLogRow.seq)):
                logged[origin] = max(seq, logged.get(origin, 0))
        logged.pop(self.station_id, None)
        stored.pop(self.station_id, None)
        return stored == logged


def frames(
    src: Station, dst: Station, batch_size: int = 1000, origins: set[str] | None = None
) -> list[bytes]:
    """Signed batches of what ``src`` holds and ``dst`` lacks, as the transport would send."""
    out: list[bytes] = []
    for origin, (first, last) in sorted(
        missing_ranges(src.replica.vector(), dst.replica.vector()).items()
    ):
        if origins is not None and origin not in origins:
            continue
        after = first - 1
        while after < last:
            entries = src.replica.entries_since(origin, after, min(batch_size, last - after))
            if not entries:
                break
            out.append(encode_batch(entries, src.signer, src.station_id))
            after = entries[-1].seq
    return out


def receive(dst: Station, frame: bytes, keys: dict[str, Ed25519PublicKey]) -> int:
    """Apply one frame as the transport does; returns entries applied or -1 if rejected."""
    origin = str(read_header(frame)["origin"])
    seq, tip = dst.replica.chain_tip(origin)
    try:
        entries = decode_batch(frame, keys, seq, tip)
    except BatchRejected:
        return -1
    if entries:
        dst.replica.apply_batch(origin, entries)
    return len(entries)


def deliver(
    src: Station,
    dst: Station,
    mode: str = "all",
    rng: random.Random | None = None,
    batch_size: int = 1000,
    origins: set[str] | None = None,
) -> None:
    """Send ``src``'s missing entries to ``dst``: all, or with dropped/duplicated/reordered frames."""
    rng = rng or random.Random(0)
    batch = frames(src, dst, batch_size, origins)
    keys = {src.station_id: src.signer.public_key()}
    if mode == "drop":
        batch = [frame for frame in batch if rng.random() < 0.5]
    elif mode == "duplicate":
        batch = [frame for frame in batch for _ in range(2)]
    elif mode == "reorder":
        rng.shuffle(batch)
    for frame in batch:
        receive(dst, frame, keys)


def make_stations(tmp: Path, count: int, time: VirtualTime | None = None) -> list[Station]:
    clock = time or VirtualTime()
    return [Station(f"S{i}", DataDir(tmp / f"station{i}"), clock) for i in range(count)]


def converge(stations: list[Station], rounds: int = 4) -> None:
    """Everyone talks to everyone until nothing moves."""
    for _ in range(rounds):
        for station in stations:
            station.replica.retry_held()
        for src in stations:
            for dst in stations:
                if src is not dst:
                    deliver(src, dst)
        vectors = [s.replica.vector() for s in stations]
        held = sum(s.replica.held_summary().total for s in stations)
        if held == 0 and all(v == vectors[0] for v in vectors):
            return


def sync_over_tls(server_store: Store, client_store: Store) -> None:
    """One real sync session over loopback mutual TLS, the client's credentials against
    the server's (both stations paired in the same centre)."""
    from cms_desktop.sync import identity
    from cms_desktop.sync.transport import SyncClient, SyncPeerServer

    server = SyncPeerServer(
        DbReplicaStore(server_store),
        identity.require_credentials(server_store),
        host="127.0.0.1",
        timeout_s=10,
    ).start()
    try:
        SyncClient(
            DbReplicaStore(client_store), identity.require_credentials(client_store), timeout_s=10
        ).sync_with("127.0.0.1", server.address[1])
    finally:
        server.stop()
