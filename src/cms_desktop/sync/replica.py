"""What the sync protocol needs from a station's storage (``MemoryReplicaStore`` for the
protocol tests, ``DbReplicaStore`` on a workstation)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cms_desktop.domain.oplog import OpEntry
from cms_desktop.sync.vector import VersionVector


@runtime_checkable
class ReplicaStore(Protocol):
    """A station's op log as seen by sync. Implementations must be thread-safe."""

    @property
    def station_id(self) -> str: ...

    @property
    def schema_version(self) -> int: ...

    def wall_clock_ms(self) -> int:
        """This station's wall clock (the physical part of its HLC), told to peers in HELLO."""
        ...

    def vector(self) -> VersionVector:
        """Highest contiguous seq *stored* per origin (applied or held)."""
        ...

    def entries_since(self, origin: str, after_seq: int, limit: int) -> list[OpEntry]:
        """Up to ``limit`` stored entries of ``origin`` with seq > ``after_seq``, in seq order."""
        ...

    def chain_tip(self, origin: str) -> tuple[int, str]:
        """(seq, hash) of the last stored entry of ``origin``; (0, GENESIS_HASH) if none."""
        ...

    def prepare_batch(self, entries: Sequence[OpEntry]) -> object | None:
        """Work on verified ``entries`` that needs no storage, done before the write
        transaction opens; handed back to ``apply_batch`` (None: nothing to prepare)."""
        ...

    def apply_batch(
        self,
        origin: str,
        entries: Sequence[OpEntry],
        prepared: object | None = None,
        committing: threading.Event | None = None,
    ) -> None:
        """Store and apply verified entries and advance the vector, all in one transaction.

        Entries at or below the current tip are ignored (another session got them first);
        the first new entry must chain onto the tip, else ``ChainError`` and nothing changes.
        Entries that cannot be applied yet (newer schema, clock too far ahead) are stored
        and held, so the vector still advances and they are relayed to other stations.
        ``prepared`` is what ``prepare_batch`` returned for these entries, or None.
        ``committing`` is set while the transaction commits (no Python runs on this
        thread then: another thread may), and cleared before this returns.
        """
        ...
