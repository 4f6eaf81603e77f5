"""The SQLCipher engine: one encrypted database file per workstation.

The raw 256-bit key is handed to SQLCipher as a hex blob (``x'…'``) so no passphrase
KDF runs at open time (the password KDF is done once, by the key slot). Parameters are
hidden from SQLAlchemy's error messages so no patient data reaches a log or traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from cms_desktop.storage.patient_index import register_functions

KEY_BYTES = 32
CACHE_SIZE = -32000  # KiB per connection
# The store's own thread checkpoints the WAL (storage/checkpoint.py); SQLite's automatic
# checkpoint inside a COMMIT is only a backstop, at 16,000 pages (64 MiB) instead of 1,000.
WAL_AUTOCHECKPOINT_PAGES = 16_000
WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024  # the WAL file is cut back to this after a reset

# The driver binds int, float and str as they are, but sends every other parameter, None
# and bool included, through its adapter lookup, whose miss costs about 0.9 µs (ten times
# an int): a received batch binds hundreds of thousands of NULLs and flags. With these
# adapters registered the lookup hits at once. Same values stored (NULL; 0 or 1).
sqlcipher.register_adapter(type(None), {}.get)  # a C callable: {}.get(None) is None
sqlcipher.register_adapter(bool, int)


class WrongKeyError(Exception):
    """The file is not a database for this key (another centre, or a damaged file)."""


def _connect(path: Path, key: bytes) -> Any:
    if not path.exists():
        path.touch(mode=0o600)
    conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
    cur = conn.cursor()
    # SQLCipher otherwise prints its own error lines on stderr for a wrong key.
    cur.execute("PRAGMA cipher_log_level = NONE")
    cur.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        cur.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        raise WrongKeyError(str(exc)) from None
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    cur.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA secure_delete = ON")
    cur.execute("PRAGMA temp_store = MEMORY")
    cur.execute("PRAGMA busy_timeout = 5000")
    # A larger page cache means fewer pages decrypted again (the main cost of SQLCipher).
    cur.execute(f"PRAGMA cache_size = {CACHE_SIZE}")
    cur.close()
    # The patient search triggers call these functions (storage/patient_index.py).
    register_functions(conn)
    return conn


def opens_with(path: Path, key: bytes) -> bool:
    """Whether ``key`` opens the existing database at ``path``."""
    try:
        _connect(path, key).close()
    except WrongKeyError:
        return False
    return True


def rekey(path: Path, old: bytes, new: bytes) -> None:
    """Re-encrypt the database at ``path`` from ``old`` to ``new`` with ``PRAGMA rekey``.

    In WAL mode SQLCipher writes every page, under the new key, into the WAL in one
    transaction: a power cut before its commit leaves the file under ``old`` (uncommitted
    frames are ignored), after it under ``new``; never half of each (tested with a kill
    in the middle). No other connection may be open (their pages are under ``old``)."""
    if len(new) != KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    conn = _connect(path, old)
    try:
        cur = conn.cursor()
        cur.execute(f"PRAGMA rekey = \"x'{new.hex()}'\"")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        conn.close()


def create_encrypted_engine(path: Path, key: bytes, *, pool_size: int = 4) -> Engine:
    """Open (or create) the SQLCipher database at ``path`` with ``key``.

    Raises WrongKeyError at once if the key does not open an existing file.
    """
    if len(key) != KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    _connect(path, key).close()  # fail fast on a wrong key, before any pool exists
    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=lambda: _connect(path, key),
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=2,
        # LIFO: the most recently used connection is the one whose page cache is warm.
        pool_use_lifo=True,
        hide_parameters=True,
    )
    _use_explicit_transactions(engine)
    return engine


def create_plain_engine(path: Path, *, pool_size: int = 4) -> Engine:
    """Same settings, no key: only for the encryption-cost benchmark.

    Opened with ``sqlcipher3`` like the real store, without ``PRAGMA key``: the same SQLite
    build (sqlcipher3 bundles its own, 3.53 today, where the system ``sqlite3`` module was
    3.40 with another query planner), so the ratio measures encryption and nothing else.
    """

    def connect() -> Any:
        conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            f"wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}",
            f"journal_size_limit = {WAL_SIZE_LIMIT_BYTES}",
            "foreign_keys = ON",
            "secure_delete = ON",
            "temp_store = MEMORY",
            "busy_timeout = 5000",
            f"cache_size = {CACHE_SIZE}",
        ):
            conn.execute(f"PRAGMA {pragma}")
        register_functions(conn)
        return conn

    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=connect,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=2,
        pool_use_lifo=True,
        hide_parameters=True,
    )
    _use_explicit_transactions(engine)
    return engine


def _use_explicit_transactions(engine: Engine) -> None:
    # pysqlite's implicit transactions are broken for SAVEPOINT and for reads that must be
    # consistent with a later write; SQLAlchemy's documented recipe takes control of BEGIN.
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("cms_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
