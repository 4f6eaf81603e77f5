"""In-memory ReplicaStore: the reference behaviour for protocol tests and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cms_desktop.domain.hlc import ClockSkewError, HlcTimestamp, HybridLogicalClock, wall_clock_ms
from cms_desktop.domain.oplog import GENESIS_HASH, ChainError, JsonValue, OpEntry, OpKind, seal
from cms_desktop.sync.vector import VersionVector


class HoldReason(StrEnum):
    SCHEMA = "schema"  # written by a newer version of the software
    CLOCK = "clock"  # stamped too far in the future
    ORDER = "order"  # an earlier entry of the same origin is held


@dataclass(frozen=True)
class HeldEntry:
    entry: OpEntry
    reason: HoldReason


class MemoryReplicaStore:
    """Op log + a per-field last-writer-wins row map; held entries are kept, not applied."""

    def __init__(
        self,
        station_id: str,
        schema_version: int = 1,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self._station_id = station_id
        self._schema = schema_version
        self.clock = HybridLogicalClock(station_id, now_ms=now_ms)
        self._now_ms = now_ms
        self._lock = threading.RLock()
        self._log: dict[str, list[OpEntry]] = {}
        self._rows: dict[tuple[str, str], dict[str, tuple[str, JsonValue]]] = {}
        self._held: list[HeldEntry] = []
        self._held_origins: set[str] = set()

    @property
    def station_id(self) -> str:
        return self._station_id

    @property
    def schema_version(self) -> int:
        return self._schema

    def wall_clock_ms(self) -> int:
        return self._now_ms()

    def upgrade(self, schema_version: int) -> None:
        """Simulate installing a newer release; held entries can then be retried."""
        self._schema = schema_version

    # --- local writes -----------------------------------------------------------------

    def record(
        self,
        entity: str,
        row_id: str,
        values: Mapping[str, JsonValue],
        op: OpKind = OpKind.UPDATE,
        base: str | None = None,
    ) -> OpEntry:
        with self._lock:
            seq, prev = self.chain_tip(self._station_id)
            entry = seal(
                OpEntry(
                    origin=self._station_id,
                    seq=seq + 1,
                    hlc=self.clock.now().encode(),
                    schema=self._schema,
                    entity=entity,
                    row_id=row_id,
                    op=op,
                    values=dict(values),
                    base=base,
                    prev_hash=prev,
                )
            )
            self._log.setdefault(self._station_id, []).append(entry)
            self._apply(entry)
            return entry

    # --- ReplicaStore -----------------------------------------------------------------

    def vector(self) -> VersionVector:
        with self._lock:
            return VersionVector({origin: log[-1].seq for origin, log in self._log.items() if log})

    def entries_since(self, origin: str, after_seq: int, limit: int) -> list[OpEntry]:
        with self._lock:
            log = self._log.get(origin, [])
            start = max(after_seq, 0)  # seqs start at 1, so entry seq n sits at index n - 1
            return log[start : start + max(limit, 0)]

    def chain_tip(self, origin: str) -> tuple[int, str]:
        with self._lock:
            log = self._log.get(origin)
            return (log[-1].seq, log[-1].hash) if log else (0, GENESIS_HASH)

    def prepare_batch(self, entries: Sequence[OpEntry]) -> None:
        return None

    def apply_batch(
        self,
        origin: str,
        entries: Sequence[OpEntry],
        prepared: object | None = None,
        committing: threading.Event | None = None,
    ) -> None:
        with self._lock:
            seq, tip = self.chain_tip(origin)
            new = [entry for entry in entries if entry.seq > seq]
            if not new:
                return
            if new[0].seq != seq + 1 or new[0].prev_hash != tip:
                raise ChainError(f"batch does not continue origin {origin} at seq {seq}")
            if any(entry.origin != origin for entry in new):
                raise ChainError(f"batch mixes origins (expected {origin})")
            self._log.setdefault(origin, []).extend(new)
            for entry in new:
                self._apply_or_hold(entry)

    # --- held entries -----------------------------------------------------------------

    @property
    def held(self) -> list[HeldEntry]:
        with self._lock:
            return list(self._held)

    def retry_held(self) -> int:
        """Apply held entries that have become acceptable; returns how many were applied."""
        with self._lock:
            waiting, self._held = self._held, []
            self._held_origins.clear()
            for held in waiting:
                self._apply_or_hold(held.entry)
            return len(waiting) - len(self._held)

    def rows(self) -> dict[tuple[str, str], dict[str, JsonValue]]:
        """Current displayed values, for convergence checks."""
        with self._lock:
            return {
                key: {name: value for name, (_, value) in fields.items()}
                for key, fields in self._rows.items()
            }

    def _apply_or_hold(self, entry: OpEntry) -> None:
        if entry.origin in self._held_origins:
            self._hold(entry, HoldReason.ORDER)
        elif entry.schema > self._schema:
            self._hold(entry, HoldReason.SCHEMA)
        else:
            try:
                self.clock.observe(HlcTimestamp.decode(entry.hlc))
            except ClockSkewError:
                self._hold(entry, HoldReason.CLOCK)
                return
            self._apply(entry)

    def _hold(self, entry: OpEntry, reason: HoldReason) -> None:
        self._held.append(HeldEntry(entry, reason))
        self._held_origins.add(entry.origin)

    def _apply(self, entry: OpEntry) -> None:
        fields = self._rows.setdefault((entry.entity, entry.row_id), {})
        values: Mapping[str, JsonValue] = entry.values
        if entry.op is OpKind.TOMBSTONE:
            values = {"_deleted": True}
        for name, value in values.items():
            current = fields.get(name)
            if current is None or current[0] < entry.hlc:
                fields[name] = (entry.hlc, value)
