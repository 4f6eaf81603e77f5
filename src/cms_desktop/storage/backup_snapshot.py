"""A consistent, encrypted copy of the live database, taken while people keep working.

SQLite's online backup API, through the keyed SQLCipher connections: each page is read
(decrypted) from the live file and written (encrypted, same key) to the copy, so no clear
page ever reaches the disk and no clear temp file is made (``temp_store = MEMORY``).
The source connection holds one read transaction for the whole copy: in WAL mode writers
go on saving meanwhile, and the copy is the snapshot at its start even though it is made
in steps (the steps give progress; a step never waits for a writer). The row counts and
the op-log high-water marks written in the manifest are read in that same transaction,
so they describe exactly the copied pages.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from cms_desktop.storage import audit
from cms_desktop.storage.engine import WrongKeyError

# 4 MiB of 4 KiB pages per step: a progress report every few tenths of a second.
PAGES_PER_STEP = 1024
SYNC_EVERY_STEPS = 8  # 32 MiB

Progress = Callable[[int, int], None]  # pages done, pages in all


class SnapshotFailed(Exception):
    """SQLite could not make the copy (disk full, I/O error); no patient data in it."""


@dataclass(frozen=True)
class SnapshotFacts:
    """What the manifest says of the copied database (read in the copy's own snapshot)."""

    centre_id: str
    station_id: str
    schema_revision: str
    row_counts: dict[str, int]
    high_water: dict[str, dict[str, Any]]  # origin station → {"seq": int, "hlc": str}
    # What sync says this copy holds: its own last seq, and per peer the highest
    # contiguous seq stored (sync_vector), as peers compare it.
    version_vector: dict[str, int]


def _keyed(path: Path, key: bytes) -> Any:
    conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def _facts(conn: Any) -> SnapshotFacts:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    counts = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
    local = dict(conn.execute("SELECT key, value FROM local_state").fetchall())
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    rows = conn.execute(
        "SELECT origin, max(seq), max(hlc) FROM op_log GROUP BY origin ORDER BY origin"
    ).fetchall()
    marks: dict[str, dict[str, Any]] = {
        str(origin): {"seq": int(seq), "hlc": str(hlc)} for origin, seq, hlc in rows
    }
    own_seq = {str(origin): int(seq) for origin, seq, _hlc in rows}
    station = str(local.get("station_id", ""))
    vector = {str(o): int(q) for o, q in conn.execute("SELECT origin, seq FROM sync_vector")}
    if station in own_seq:
        vector[station] = own_seq[station]
    return SnapshotFacts(
        centre_id=str(local.get("centre_id", "")),
        station_id=station,
        schema_revision=str(revision[0]) if revision else "",
        row_counts=counts,
        high_water=marks,
        version_vector=dict(sorted(vector.items())),
    )


def _create_private(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def take_snapshot(
    engine: Engine, key: bytes, dest: Path, progress: Progress | None = None
) -> SnapshotFacts:
    """Copy the live database behind ``engine`` into the new file ``dest`` (same key)."""
    _create_private(dest)
    try:
        return _copy(engine, key, dest, progress)
    except sqlcipher.Error as exc:
        # The SQLite message names no data, only what failed (e.g. "database or disk is full").
        raise SnapshotFailed(type(exc).__name__) from None


def _copy(engine: Engine, key: bytes, dest: Path, progress: Progress | None) -> SnapshotFacts:
    raw = engine.raw_connection()
    target = None
    try:
        source = raw.driver_connection
        assert source is not None
        source.execute("BEGIN")
        try:
            facts = _facts(source)
            target = _keyed(dest, key)
            dest_fd = os.open(dest, os.O_RDONLY)
            steps = [0]

            def report(_status: int, remaining: int, total: int) -> None:
                # Sync the copy as it grows (see backup_archive.SYNC_EVERY).
                steps[0] += 1
                if steps[0] % SYNC_EVERY_STEPS == 0:
                    os.fsync(dest_fd)
                if progress is not None:
                    progress(total - remaining, total)

            try:
                source.backup(target, pages=PAGES_PER_STEP, progress=report)
            finally:
                os.close(dest_fd)
        finally:
            source.execute("ROLLBACK")
        target.close()
        target = None
        _fsync(dest)
        return facts
    finally:
        if target is not None:
            target.close()
        raw.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class CheckResult:
    problems: list[str]  # French sentences; empty when the copy is sound
    facts: SnapshotFacts | None


@contextlib.contextmanager
def _opened(path: Path, key: bytes) -> Iterator[Any]:
    conn = _keyed(path, key)
    try:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError:
            raise WrongKeyError("not a database for this key") from None
        yield conn
    finally:
        conn.close()


def check_copy(path: Path, key: bytes, *, thorough: bool = True) -> CheckResult:
    """Open a copied database: SQLCipher and SQLite integrity, audit chain, its facts.

    SQLCipher's check authenticates every page (HMAC). ``thorough`` runs SQLite's full
    ``integrity_check`` (indexes against their tables too: 70 s on the 620 MB benchmark
    centre); otherwise ``quick_check`` (the b-trees, 10 s). Raises WrongKeyError when
    the file does not open with ``key``.
    """
    with _opened(path, key) as conn:
        problems: list[str] = []
        pragma = "integrity_check" if thorough else "quick_check"
        try:
            rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}")]
            cipher = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check")]
        except sqlcipher.DatabaseError as exc:
            rows, cipher = [str(exc)], []
        if rows != ["ok"]:
            problems.append(f"contrôle d'intégrité SQLite en échec ({_first_line(rows)})")
        if cipher:
            problems.append(f"contrôle d'intégrité SQLCipher en échec ({_first_line(cipher)})")
        facts = None
        if not problems:
            try:
                facts = _facts(conn)
            except sqlcipher.Error:  # sound pages, but not this application's database
                problems.append("ce n'est pas une base du logiciel")
    if not problems:
        problems.extend(_audit_problems(path, key))
    return CheckResult(problems, facts)


def _first_line(rows: list[str]) -> str:
    """SQLite's report may be thousands of lines: one short line for a one-line message."""
    lines = [line for row in rows for line in row.splitlines() if "***" not in line]
    text = lines[0] if lines else "?"
    more = len(lines) - 1
    return (text[:100] + (f" et {more} autres erreurs" if more > 0 else "")).strip()


def _audit_problems(path: Path, key: bytes) -> list[str]:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=lambda: _keyed(path, key),
        poolclass=NullPool,
        hide_parameters=True,
    )
    try:
        with sessionmaker(engine)() as session:
            problem = audit.verify(session)
    except SQLAlchemyError:
        return ["journal d'audit illisible"]
    finally:
        engine.dispose()
    if problem is None:
        return []
    reason = {"altered": "modifiée", "missing": "manquante", "broken_chain": "chaîne rompue"}
    return [
        f"journal d'audit altéré : entrée n° {problem.seq} du poste {problem.station_id} "
        f"{reason.get(problem.reason, problem.reason)}"
    ]


def account_in_copy(path: Path, key: bytes, login: str) -> tuple[str, bool] | None:
    """(role, usable) of ``login`` in a copied database, None when it has no such account."""
    with _opened(path, key) as conn:
        try:
            row = conn.execute(
                "SELECT role, active, deleted FROM users WHERE login = ?", (login,)
            ).fetchone()
        except sqlcipher.Error:
            return None
    return None if row is None else (str(row[0]), bool(row[1]) and not bool(row[2]))
