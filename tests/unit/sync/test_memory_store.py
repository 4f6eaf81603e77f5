from __future__ import annotations

import pytest

from cms_desktop.domain.hlc import HlcTimestamp
from cms_desktop.domain.oplog import GENESIS_HASH, ChainError, verify_chain
from cms_desktop.sync.memory_store import HoldReason, MemoryReplicaStore
from cms_desktop.sync.replica import ReplicaStore
from cms_desktop.sync.vector import VersionVector

from .factories import make_chain

NOW_MS = 1_700_000_000_000


def store(station: str = "salle1", schema: int = 1) -> MemoryReplicaStore:
    return MemoryReplicaStore(station, schema, now_ms=lambda: NOW_MS)


def test_is_a_replica_store_and_local_writes_chain() -> None:
    replica = store()
    assert isinstance(replica, ReplicaStore)
    for n in range(3):
        replica.record("patient", "p1", {"nom_usage": f"Nom{n}"})
    entries = replica.entries_since("salle1", 0, 10)
    verify_chain(entries, 0, GENESIS_HASH)
    assert replica.vector() == VersionVector({"salle1": 3})
    assert replica.chain_tip("salle1") == (3, entries[-1].hash)
    assert replica.entries_since("salle1", 1, 1) == entries[1:2]
    assert replica.rows()[("patient", "p1")] == {"nom_usage": "Nom2"}


def test_apply_is_idempotent_and_ignores_old_entries() -> None:
    replica, chain = store(), make_chain("recep", 10)
    replica.apply_batch("recep", chain[:6])
    before = replica.rows()
    replica.apply_batch("recep", chain[:6])
    assert replica.rows() == before
    replica.apply_batch("recep", chain[3:10])
    assert replica.vector().seq("recep") == 10
    assert replica.entries_since("recep", 0, 100) == chain


def test_apply_refuses_a_gap_or_a_foreign_history_and_changes_nothing() -> None:
    replica, chain = store(), make_chain("recep", 10)
    replica.apply_batch("recep", chain[:3])
    with pytest.raises(ChainError):
        replica.apply_batch("recep", chain[5:])
    with pytest.raises(ChainError):
        replica.apply_batch("recep", make_chain("recep", 3, start_seq=4))
    assert replica.vector().seq("recep") == 3


def test_newer_schema_entries_are_stored_but_held_until_upgrade() -> None:
    replica = store(schema=1)
    chain = make_chain("recep", 3, schema=2, wall_ms=NOW_MS)
    replica.apply_batch("recep", chain)
    assert replica.vector().seq("recep") == 3  # stored, so it will be relayed
    assert [held.reason for held in replica.held] == [HoldReason.SCHEMA] + [HoldReason.ORDER] * 2
    assert replica.rows() == {}
    replica.upgrade(2)
    assert replica.retry_held() == 3
    assert replica.held == [] and len(replica.rows()) == 3


def test_entry_from_a_clock_far_ahead_is_held_with_those_after_it() -> None:
    replica = store()
    chain = make_chain("recep", 4, wall_ms=NOW_MS + 3_600_000)
    replica.apply_batch("recep", chain)
    assert [held.reason for held in replica.held] == [HoldReason.CLOCK] + [HoldReason.ORDER] * 3
    assert replica.rows() == {}
    # Our own clock was not dragged forward by the held entries.
    assert HlcTimestamp.decode(replica.record("patient", "x", {"a": 1}).hlc).wall_ms == NOW_MS
