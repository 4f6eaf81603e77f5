"""Stations updated one at a time (SYNC.md, invariant 9): a station still on the previous
schema keeps what a newer station wrote, passes it on, applies none of it and says it needs
the update; once it runs the new version everything is applied and every station agrees."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cms_desktop.storage.models import AuditEntry, Patient
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.service import SyncState, read_status
from tests.integration.sync.stations import Station, converge, deliver, make_stations


def _run_previous_version(station: Station, schema: int) -> None:
    """What the older software does: its writes and its merges know ``schema`` only."""
    station.store.replication.schema_version = schema
    station.replica = DbReplicaStore(station.store, schema_version=schema, now_ms=station.now)


def _has(station: Station, model: type[Patient] | type[AuditEntry], row_id: str) -> bool:
    with station.store.read() as session:
        return session.scalar(select(model.id).where(model.id == row_id)) is not None


def test_a_station_on_the_previous_schema_keeps_newer_entries_until_its_update(
    tmp_path: Path,
) -> None:
    new, old, other = make_stations(tmp_path, 3)
    try:
        current = new.replica.schema_version
        _run_previous_version(old, current - 1)
        note = new.write_note("écrit sur un poste à jour")
        patient = new.new_patient("LEGRAND")
        from_old = old.new_patient("ANCIEN")
        deliver(new, old)
        deliver(old, new)

        # The newer station applies what the older one wrote (older schemas are understood).
        assert _has(new, Patient, from_old)
        # The older one stores the newer entries (its vector counts them: never asked again)…
        assert old.replica.vector().seq(new.station_id) == new.replica.vector().seq(new.station_id)
        # …but applies none of them, and says this station needs the update.
        assert not _has(old, AuditEntry, note) and not _has(old, Patient, patient)
        held = old.replica.held_summary()
        # The first newer entry is held for its schema, the ones after it behind it (order).
        assert held.counts.get("schema") and set(held.counts) <= {"schema", "order"}
        assert held.total >= 2
        assert held.newer_schema_origins == (new.station_id,)
        status = read_status(old.store, old.replica)
        assert status.state is SyncState.UPDATE_NEEDED
        assert status.text == (
            "Synchronisation : mettez ce poste à jour (un poste utilise une version plus récente)"
        )

        # It relays them: a third station hears the newer entries through it alone.
        deliver(old, other)
        assert _has(other, AuditEntry, note) and _has(other, Patient, patient)

        # Restarted, still on the previous version: the held entries are still there.
        old.restart()
        _run_previous_version(old, current - 1)
        assert old.replica.held_summary().total == held.total
        assert old.replica.retry_held() == 0

        # The update: the new version starts (SyncService.start retries what was held).
        old.restart()
        assert old.replica.schema_version == current
        assert old.replica.retry_held() == held.total
        assert _has(old, AuditEntry, note) and _has(old, Patient, patient)
        assert read_status(old.store, old.replica).state is not SyncState.UPDATE_NEEDED

        # Nothing lost anywhere once all run the new version: identical replicated tables.
        converge([new, old, other])
        assert new.snapshot() == old.snapshot() == other.snapshot()
        assert all(s.replica.held_summary().total == 0 for s in (new, old, other))
    finally:
        for station in (new, old, other):
            station.close()
