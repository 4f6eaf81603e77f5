"""The open encrypted store of one workstation: engine, session factory, replication context."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from cms_desktop.domain.hlc import HlcTimestamp, HybridLogicalClock
from cms_desktop.storage import in_use as in_use_lock
from cms_desktop.storage import migrations
from cms_desktop.storage import origin as origins
from cms_desktop.storage.checkpoint import Checkpointer
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import KEY_BYTES, create_encrypted_engine
from cms_desktop.storage.models.base import new_id
from cms_desktop.storage.models.core import LocalState, OpLogRow
from cms_desktop.storage.oplog_capture import TOUCHED_KEY, ReplicationContext, install_capture


class CentreMismatch(Exception):
    """The database opened but belongs to another centre than the key-slot file."""


class ChangeWatch:
    """Tells whether another connection committed since the last look, from ``PRAGMA
    data_version`` on a connection of its own (about 2 µs a look, against 0.35 ms for a
    query of the op-log): a loop can look every few milliseconds and query only after a
    commit. The connection is taken out of the engine's pool, so it never holds a slot."""

    def __init__(self, engine: Engine) -> None:
        proxied = engine.raw_connection()
        proxied.detach()
        self._conn: Any = proxied.dbapi_connection
        self._version = self._read()

    def _read(self) -> int:
        assert self._conn is not None
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def changed(self) -> bool:
        version = self._read()
        if version == self._version:
            return False
        self._version = version
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@dataclass
class Store:
    data_dir: DataDir
    engine: Engine
    sessions: sessionmaker[Session]
    replication: ReplicationContext
    checkpointer: Checkpointer | None = field(default=None, repr=False)
    # This station's last op-log seq (of the origin it writes under) when the store was
    # opened, i.e. before the session's own login was recorded: a one-shot ``sync status``
    # counts what was waiting before it.
    own_seq_at_open: int = 0
    # Called after each local write transaction commits, with the replicated tables it
    # changed (the audit trail left out): the screens refresh from it. Called on the
    # thread that wrote; listeners must hand over to their own thread.
    commit_listeners: list[Callable[[frozenset[str]], None]] = field(
        default_factory=list, repr=False
    )
    # Tells an in-place restore (another process) that this store is open.
    in_use: in_use_lock.InUseLock | None = field(default=None, repr=False)

    @property
    def station_id(self) -> str:
        return self.replication.station_id

    @property
    def origin(self) -> str:
        """The op-log origin this station writes under now (``storage.origin``)."""
        with self.engine.connect() as conn:
            return origins.current_origin(conn, self.station_id)

    @classmethod
    def open(cls, data_dir: DataDir, key: bytes, centre_id: str | None = None) -> Store:
        """Open (creating if needed) and migrate; raises WrongKeyError or CentreMismatch."""
        engine = create_encrypted_engine(data_dir.database, key)
        try:
            migrations.upgrade(engine)
            with engine.begin() as conn:
                station = _local(conn, "station_id") or _set_local(conn, "station_id", new_id())
                stored_centre = _local(conn, "centre_id")
                if centre_id is not None:
                    if stored_centre is None:
                        _set_local(conn, "centre_id", centre_id)
                    elif stored_centre != centre_id:
                        raise CentreMismatch(stored_centre)
                last = conn.execute(select(func.max(OpLogRow.hlc))).scalar()
                writing_as = origins.current_origin(conn, station)
                own_seq = origins.own_seq(conn, writing_as)
                seal = origins.seal_path(data_dir.path)
                # Before anything is written: a station put back from a copy must not
                # number entries its peers already hold under other contents.
                reason = origins.restore_reason_at_open(data_dir.path, station, writing_as, own_seq)
                if reason is not None:
                    writing_as, own_seq = origins.take_new_origin(conn, station, reason), 0
                    origins.write_seals(data_dir.path, station, writing_as, 0)
        except BaseException:
            engine.dispose()
            raise
        clock = HybridLogicalClock(station, HlcTimestamp.decode(last) if last else None)
        ctx = ReplicationContext(
            station, migrations.schema_version(), clock, origin=writing_as, seal_path=seal
        )
        factory = sessionmaker(engine, expire_on_commit=False)
        install_capture(factory, ctx)
        store = cls(data_dir, engine, factory, ctx, Checkpointer(engine), int(own_seq or 0))
        store.in_use = in_use_lock.hold(data_dir.path)
        return store

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE): commits on success, rolls back on error."""
        with self.sessions() as session:
            session.connection(execution_options={"cms_write": True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            touched = frozenset(session.info.pop(TOUCHED_KEY, set()) - {"audit_log"})
        if self.checkpointer is not None:
            self.checkpointer.poke()
        if touched:
            for listener in list(self.commit_listeners):
                listener(touched)

    def change_watch(self) -> ChangeWatch:
        """A watch on commits made by any other connection (another process of this
        station included); ``close`` it when done."""
        return ChangeWatch(self.engine)

    def integrity_check(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("PRAGMA integrity_check")).scalars().all()
            cipher = conn.execute(text("PRAGMA cipher_integrity_check")).scalars().all()
        problems = [r for r in rows if r != "ok"]
        return problems + [str(r) for r in cipher]

    def truncate_wal(self) -> None:
        """Copy the WAL into the database and empty it (best effort: a reader holding an
        older snapshot keeps its frames until the next checkpoint). After rewriting
        plaintext, so that no earlier page image stays in the WAL file."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()
        if self.in_use is not None:
            self.in_use.release()
            self.in_use = None


def warm_up() -> None:
    """What the first store opening of a process would otherwise do on the login path:
    read the migration files, configure the ORM mappers, and build SQLAlchemy's lazily
    computed compile state (a few hundred ms together). Called by the application on a
    thread of its own while the login window waits for the password."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.orm import configure_mappers

    from cms_desktop.storage import models

    migrations.head_revision()
    configure_mappers()
    for statement in (
        select(LocalState.value).where(LocalState.key == ""),
        select(func.max(OpLogRow.hlc)),
        select(models.User).where(models.User.login == ""),
        select(models.Patient).where(models.Patient.id == ""),
        select(models.Appointment).where(models.Appointment.id == ""),
    ):
        statement.compile(dialect=sqlite.dialect())


def _local(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(LocalState.value).where(LocalState.key == key)).scalar()
    return None if value is None else str(value)


def _set_local(conn: Connection, key: str, value: str) -> str:
    conn.execute(insert(LocalState).values(key=key, value=value))
    return value
