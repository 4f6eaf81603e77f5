"""The write-ahead log is copied into the database file by the store's own thread."""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import AuditEntry, new_id
from cms_desktop.storage.store import Store


def _write_a_lot(store: Store, entries: int) -> None:
    with store.write() as session:
        for _ in range(entries):
            audit.append(session, store.station_id, "note", target_type="note")


def _wait_until(condition: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_commits_reach_the_database_file_without_waiting_for_sqlite_s_threshold(
    tmp_path: Path,
) -> None:
    store = Store.open(DataDir(tmp_path), secrets.token_bytes(32))
    try:
        database = DataDir(tmp_path).database
        time.sleep(0.6)  # let the checkpoint of the migrations pass
        before = database.stat().st_size
        # A few hundred pages: far below SQLite's own automatic checkpoint (16,000 pages
        # here), so only the store's thread can move them into the file.
        _write_a_lot(store, 300)
        assert _wait_until(lambda: database.stat().st_size > before)
    finally:
        store.close()


def test_closing_the_store_stops_its_checkpoint_thread(tmp_path: Path) -> None:
    store = Store.open(DataDir(tmp_path), secrets.token_bytes(32))
    _write_a_lot(store, 10)
    checkpointer = store.checkpointer
    assert checkpointer is not None and checkpointer.running
    store.close()
    assert not checkpointer.running


def test_new_ids_are_time_ordered_uuids() -> None:
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)  # neighbouring keys: indexes grow at their end
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}


def test_the_change_watch_sees_commits_of_another_store_on_the_same_file(tmp_path: Path) -> None:
    """The sync loop looks every 20 ms for what another process of the station saved,
    through this watch; it must see every commit of another connection, and nothing else."""
    key = secrets.token_bytes(32)
    store = Store.open(DataDir(tmp_path), key)
    other = Store.open(DataDir(tmp_path), key)  # as the application beside ``sync serve``
    watch = store.change_watch()
    try:
        assert not watch.changed()
        with other.read() as session:  # reading changes nothing
            session.execute(select(AuditEntry.id)).all()
        assert not watch.changed()
        _write_a_lot(other, 1)
        assert watch.changed()
        assert not watch.changed()  # seen once
        _write_a_lot(store, 1)  # this store's own pool is another connection as well
        assert watch.changed()
    finally:
        watch.close()
        other.close()
        store.close()
