"""Which op-log origin a station writes under (``storage.origin``), and its HLC's drift."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from cms_desktop.domain.hlc import HlcTimestamp, HybridLogicalClock
from cms_desktop.services import sync_admin
from cms_desktop.storage import audit
from cms_desktop.storage.models import AuditEntry, OpLogRow
from cms_desktop.storage.origin import outside_seal_path, read_seal
from tests.conftest import Centre

DAY_MS = 24 * 3_600_000


def own_origins(centre: Centre) -> list[str]:
    ws, _ = centre.login("dr.test")
    try:
        with ws.store.read() as session:
            station = ws.store.station_id
            return sorted(
                o
                for o in session.scalars(select(OpLogRow.origin).distinct())
                if o.startswith(station)
            )
    finally:
        ws.close()


def test_a_reopened_station_keeps_its_origin(centre: Centre) -> None:
    first = own_origins(centre)
    assert own_origins(centre) == first
    assert len(first) == 1


def test_a_database_put_back_behind_its_seal_writes_under_a_new_origin(
    centre: Centre, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy2(centre.data_dir.database, copy)  # closed: no WAL to take along
    (origin,) = own_origins(centre)  # this login wrote more entries after the copy
    shutil.copy2(copy, centre.data_dir.database)
    ws, _ = centre.login("dr.test")
    try:
        assert ws.store.origin.startswith(ws.store.station_id + "@")
        with ws.store.write() as session:
            entry = audit.append(session, ws.store.station_id, "test")
        with ws.store.read() as session:
            newest = session.scalars(select(OpLogRow).where(OpLogRow.row_id == entry.id)).first()
            stored = session.get(AuditEntry, entry.id)
        # The op-log and the audit chain both start again under the new origin.
        assert newest is not None and newest.origin == ws.store.origin
        assert stored is not None and stored.station_id == ws.store.origin
        assert origin != ws.store.origin
    finally:
        ws.close()


def test_mark_restored_makes_the_next_open_take_a_new_origin(centre: Centre) -> None:
    (before,) = own_origins(centre)
    sync_admin.mark_restored(centre.data_dir)
    after = own_origins(centre)
    assert before in after and len(after) == 2
    assert own_origins(centre) == after  # once only


def test_a_missing_seal_beside_a_written_database_means_a_new_origin(centre: Centre) -> None:
    assert len(own_origins(centre)) == 1
    (centre.data_dir.path / "station-seal.json").unlink()
    assert len(own_origins(centre)) == 2


def test_a_whole_directory_put_back_is_caught_by_the_seal_kept_outside_it(
    centre: Centre, tmp_path: Path
) -> None:
    """The copy carries its own seal, which agrees with its database; the seal kept in the
    user's state folder does not come back with it."""
    copy = tmp_path / "whole-copy"
    shutil.copytree(centre.data_dir.path, copy)
    (before,) = own_origins(centre)  # writes more after the copy
    shutil.rmtree(centre.data_dir.path)
    shutil.copytree(copy, centre.data_dir.path)
    after = own_origins(centre)
    assert before in after and len(after) == 2
    assert own_origins(centre) == after  # once only


def test_a_missing_outside_seal_proves_nothing_and_is_written_again(centre: Centre) -> None:
    """Another user's session or a new PC: no seal outside, the database is trusted (its
    own seal agrees) and the outside seal is written from it."""
    (before,) = own_origins(centre)
    station = before.split("@")[0]
    outside_seal_path(station).unlink()
    assert own_origins(centre) == [before]
    assert read_seal(outside_seal_path(station)) is not None


def test_the_clock_comes_back_to_a_corrected_wall_clock() -> None:
    wall = [10 * DAY_MS]
    clock = HybridLogicalClock("s", HlcTimestamp(11 * DAY_MS, 3, "s"), now_ms=lambda: wall[0])
    assert clock.now().wall_ms == 10 * DAY_MS  # not a day ahead
    assert clock.now() > HlcTimestamp(10 * DAY_MS, 0, "s")  # monotonic again from there


def test_the_clock_stays_ahead_within_the_tolerated_skew() -> None:
    wall = [10 * DAY_MS]
    clock = HybridLogicalClock(
        "s", HlcTimestamp(10 * DAY_MS + 60_000, 3, "s"), now_ms=lambda: wall[0]
    )
    assert clock.now() == HlcTimestamp(10 * DAY_MS + 60_000, 4, "s")


def test_an_edit_is_stamped_above_the_version_it_saw() -> None:
    clock = HybridLogicalClock("s", now_ms=lambda: 10 * DAY_MS)
    seen = HlcTimestamp(10 * DAY_MS + 120_000, 7, "other")  # a peer 2 min ahead
    assert clock.now_after(seen) > seen
    assert clock.now() > seen  # within the skew the clock follows it
    far = HlcTimestamp(11 * DAY_MS, 0, "other")  # stamped while a clock was a day ahead
    assert clock.now_after(far) > far
    assert clock.now().wall_ms == 10 * DAY_MS + 120_000  # ... but the clock does not follow
