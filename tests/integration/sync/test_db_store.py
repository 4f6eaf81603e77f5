"""DbReplicaStore on real SQLCipher files: merge rules, holds, relays and rejections."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cms_desktop.domain.oplog import ChainError
from cms_desktop.storage.models import AuditEntry, OpLogRow, Patient, SyncHeld, SyncStation
from cms_desktop.sync import hooks
from cms_desktop.sync.merge import INSERT_OP_LOG
from cms_desktop.sync.replica import ReplicaStore
from cms_desktop.sync.service import SyncState, read_status
from tests.integration.sync.stations import (
    Station,
    VirtualTime,
    converge,
    deliver,
    frames,
    make_stations,
    receive,
)


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[list[Station]]:
    stations = make_stations(tmp_path, 3)
    yield stations
    for station in stations:
        station.close()


def city(station: Station, patient_id: str) -> str:
    with station.store.read() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return patient.city


def log_count(station: Station, origin: str) -> int:
    with station.store.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OpLogRow).where(OpLogRow.origin == origin)
            )
            or 0
        )


def test_is_a_replica_store(trio: list[Station]) -> None:
    assert isinstance(trio[0].replica, ReplicaStore)


def test_insert_only_union_is_idempotent(trio: list[Station]) -> None:
    a, b, _ = trio
    note = a.write_note("n1")
    deliver(a, b, "duplicate")
    deliver(a, b)
    with b.store.read() as session:
        assert session.get(AuditEntry, note) is not None
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert b.replica.vector() == a.replica.vector()


def test_applying_remote_entries_writes_no_local_entry(trio: list[Station]) -> None:
    a, b, _ = trio
    pid = a.new_patient("MARTIN")
    a.set_field(pid, "city", "Lyon")
    deliver(a, b)
    assert city(b, pid) == "Lyon"
    assert log_count(b, b.station_id) == 0
    assert log_count(b, a.station_id) == log_count(a, a.station_id)


def test_sequential_edits_on_two_stations_make_no_conflict(trio: list[Station]) -> None:
    a, b, _ = trio
    pid = a.new_patient("MARTIN")
    a.set_field(pid, "city", "Lyon")
    a.set_field(pid, "address", "1 rue A")
    deliver(a, b)
    b.set_field(pid, "city", "Paris")  # B had seen Lyon: an ordinary edit
    deliver(b, a)
    assert city(a, pid) == city(b, pid) == "Paris"
    assert a.conflicts() == b.conflicts() == []


def test_concurrent_edits_keep_the_other_value_on_every_station(trio: list[Station]) -> None:
    a, b, c = trio
    pid = a.new_patient("MARTIN")
    converge(trio)
    a.set_field(pid, "phone_mobile", "0611111111")
    b.set_field(pid, "phone_mobile", "0622222222")
    b.set_field(pid, "city", "Paris")  # another field: no conflict on it
    converge(trio)
    shown = {city(s, pid) for s in trio}
    assert shown == {"Paris"}
    conflicts = [s.conflicts() for s in trio]
    assert conflicts[0] == conflicts[1] == conflicts[2]
    assert len(conflicts[0]) == 1
    (_, entity, row_id, key, kept, _, resolved) = conflicts[0][0]
    assert (entity, row_id, key, resolved) == ("patients", pid, "phone_mobile", None)
    with a.store.read() as session:
        patient = session.get(Patient, pid)
        assert patient is not None
        both = {patient.phone_mobile, json.loads(kept)}
    assert both == {"0611111111", "0622222222"}
    assert a.snapshot() == b.snapshot() == c.snapshot()


def test_low_risk_fields_merge_last_writer_wins_without_conflict(trio: list[Station]) -> None:
    a, b, _ = trio
    with a.store.write() as session:
        session.add(SyncStation(id="poste-1", name="Accueil"))
    converge(trio)
    for station, name in ((a, "Accueil 1"), (b, "Accueil 2")):
        with station.store.write() as session:
            row = session.get(SyncStation, "poste-1")
            assert row is not None
            row.name = name
    converge(trio)
    assert a.conflicts() == []
    assert a.snapshot() == b.snapshot()


def test_relay_converges_a_and_c_through_b(trio: list[Station]) -> None:
    a, b, c = trio
    note = a.write_note("relayed")
    deliver(a, b)
    deliver(b, c)
    with c.store.read() as session:
        assert session.get(AuditEntry, note) is not None
    assert c.replica.vector().seq(a.station_id) == a.replica.vector().seq(a.station_id)


def test_batch_not_continuing_the_chain_changes_nothing(trio: list[Station]) -> None:
    a, b, _ = trio
    for i in range(3):
        a.write_note(f"n{i}")
    entries = a.replica.entries_since(a.station_id, 1, 10)  # seq 2.. : a gap at b
    before = b.snapshot()
    with pytest.raises(ChainError):
        b.replica.apply_batch(a.station_id, entries)
    assert b.snapshot() == before
    assert b.replica.vector().seq(a.station_id) == 0


def test_rejected_frames_leave_the_next_pass_working(trio: list[Station]) -> None:
    a, b, _ = trio
    for i in range(5):
        a.write_note(f"n{i}")
    keys = {a.station_id: a.signer.public_key()}
    batch = frames(a, b, batch_size=2)
    assert receive(b, batch[1], keys) == -1  # gap: rejected
    assert receive(b, batch[0][:-5], keys) == -1  # truncated
    assert receive(b, batch[0], keys) == 2
    assert receive(b, batch[0], keys) == 0  # replay: harmless
    deliver(a, b)
    assert b.replica.vector() == a.replica.vector()


def test_entries_from_a_clock_far_ahead_are_held_then_applied(tmp_path: Path) -> None:
    time = VirtualTime()
    a, b = make_stations(tmp_path, 2, time)
    try:
        a.skew_ms = 60 * 60_000  # an hour ahead
        note = a.write_note("future")
        deliver(a, b)
        assert b.replica.vector().seq(a.station_id) == 1  # stored and relayable…
        with b.store.read() as session:
            assert session.get(AuditEntry, note) is None  # …but not applied
        assert b.replica.held_summary().counts == {"clock": 1}
        # Said where people look: whose clock, and what to do.
        status = read_status(b.store, b.replica)
        assert status.state is SyncState.CLOCK_AHEAD
        assert status.text == (
            f"Synchronisation : horloge en avance sur le poste « {a.station_id[:8]} », ses "
            "modifications attendent (réglez sa date et son heure)"
        )
        assert b.replica.retry_held() == 0
        time.advance(61)
        assert b.replica.retry_held() == 1
        with b.store.read() as session:
            assert session.get(AuditEntry, note) is not None
            assert session.scalar(select(func.count()).select_from(SyncHeld)) == 0
        assert read_status(b.store, b.replica).state is not SyncState.CLOCK_AHEAD
    finally:
        a.close()
        b.close()


def test_entries_from_a_newer_schema_wait_for_the_upgrade(tmp_path: Path) -> None:
    from cms_desktop.sync.db_store import DbReplicaStore

    a, b = make_stations(tmp_path, 2)
    try:
        current = b.replica.schema_version
        b.replica = DbReplicaStore(b.store, schema_version=current - 1, now_ms=b.now)
        note = a.write_note("new schema")
        deliver(a, b)
        summary = b.replica.held_summary()
        assert summary.counts == {"schema": 1}
        assert summary.newer_schema_origins == (a.station_id,)
        b.replica = DbReplicaStore(b.store, now_ms=b.now)  # "after the upgrade"
        assert b.replica.retry_held() == 1
        with b.store.read() as session:
            assert session.get(AuditEntry, note) is not None
    finally:
        a.close()
        b.close()


def test_an_edit_arriving_before_the_row_it_is_based_on_waits(trio: list[Station]) -> None:
    a, b, c = trio
    pid = a.new_patient("MARTIN")
    deliver(a, b)
    b.set_field(pid, "city", "Nantes")
    # C hears from B first: B's edit is based on A's insert, which C does not hold yet.
    deliver(b, c, origins={b.station_id})
    with c.store.read() as session:
        assert session.get(Patient, pid) is None
    assert c.replica.held_summary().counts.get("causal") == 1
    deliver(a, c)
    assert city(c, pid) == "Nantes"
    assert c.replica.held_summary().total == 0
    assert c.conflicts() == []


def test_post_merge_hooks_see_touched_tables(trio: list[Station]) -> None:
    a, b, _ = trio
    seen: list[frozenset[str]] = []

    def hook(session: object, touched: frozenset[str]) -> None:
        seen.append(touched)

    hooks.register_post_merge(hook)
    try:
        a.new_patient("MARTIN")
        a.write_note("x")
        deliver(a, b)
    finally:
        hooks.unregister_post_merge(hook)
    assert seen and set().union(*seen) >= {"patients", "audit_log"}


def test_restart_keeps_vector_and_data_in_agreement(trio: list[Station]) -> None:
    a, b, _ = trio
    a.new_patient("MARTIN")
    deliver(a, b)
    b.restart()
    assert b.vector_matches_log()
    assert b.replica.vector() == a.replica.vector()


def test_a_no_known_allergy_statement_and_its_withdrawal_reach_the_other_station(
    trio: list[Station],
) -> None:
    from datetime import date

    from cms_desktop.storage.models import AllergyStatementRow

    a, b, _ = trio
    pid = a.new_patient("LEROY")
    with a.store.write() as session:
        row = AllergyStatementRow(patient_id=pid, stated_on=date(2026, 12, 1))
        session.add(row)
        session.flush()
        statement_id = row.id
    deliver(a, b)

    def on_b() -> list[tuple[str, date, bool]]:
        with b.store.read() as session:
            rows = session.scalars(select(AllergyStatementRow)).all()
            return [(r.patient_id, r.stated_on, r.deleted) for r in rows]

    assert on_b() == [(pid, date(2026, 12, 1), False)]
    with a.store.write() as session:
        stored = session.get(AllergyStatementRow, statement_id)
        assert stored is not None
        stored.deleted = True
    deliver(a, b)
    assert on_b() == [(pid, date(2026, 12, 1), True)]


def stored(station: Station, table: str) -> list[tuple[object, ...]]:
    """The rows as SQLite holds them (no type conversion on the way out)."""
    with station.store.read() as session:
        sql = f"SELECT * FROM {table} ORDER BY id"
        return [tuple(row) for row in session.connection().exec_driver_sql(sql)]


def test_rows_the_merge_rebuilds_are_stored_as_their_writer_stored_them(
    trio: list[Station],
) -> None:
    # Dates, timestamps and flags keep the stored text of the station that wrote them,
    # whether the row is created and edited in one batch (rebuilt from its history) or
    # edited later (an UPDATE of the row held).
    a, b, _ = trio
    pid = a.new_patient("MARTIN")
    a.set_field(pid, "birth_date", dt.date(1980, 2, 29))
    a.set_field(pid, "city", "Lyon")
    deliver(a, b)
    assert stored(b, "patients") == stored(a, "patients")
    a.set_field(pid, "birth_date", dt.date(1981, 3, 1))
    a.set_field(pid, "deleted", True)
    deliver(a, b)
    assert stored(b, "patients") == stored(a, "patients")


def test_entries_an_early_version_wrote_with_json_dumps_are_read_and_sent(
    trio: list[Station],
) -> None:
    # json.dumps wrote NaN and spaces, which orjson (the fast reader) refuses or parses:
    # either way the entry is served with the values it holds.
    a, _, _ = trio
    origin = "00000000-0000-7000-8000-00000000000a"
    rows = [
        (origin, 1, f"{1:015d}.000000.{origin}", 1, "patients", "p1", "update",
         '{"weight": NaN}', None, "0" * 64, "1" * 64, True, None),
        (origin, 2, f"{2:015d}.000000.{origin}", 1, "patients", "p1", "update",
         '{"city": "Lyon", "zip": "69001"}', None, "1" * 64, "2" * 64, True, None),
    ]  # fmt: skip
    with a.store.write() as session:
        session.connection().exec_driver_sql(INSERT_OP_LOG, rows)
    first, second = a.replica.entries_since(origin, 0, 10)
    assert math.isnan(float(first.values["weight"]))  # type: ignore[arg-type]
    assert second.values == {"city": "Lyon", "zip": "69001"}
    assert second.encoded_values is None  # not canonical: re-encoded when sent
