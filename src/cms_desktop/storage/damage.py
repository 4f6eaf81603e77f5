"""What is damaged in a centre's database file, read with a connection of its own.

Used by ``check`` and when opening the store fails on a damaged page: SQLCipher checks each
page's HMAC (``cipher_integrity_check`` names the pages), and reading every table in full
names the tables those pages belong to. Only page numbers and table names come out: no
content, so the report can be shown and pasted to support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

_PAGE = re.compile(r"page (\d+)")
_SCAN_BATCH = 2000


@dataclass(frozen=True)
class Damage:
    pages: tuple[int, ...]  # pages whose content fails SQLCipher's check
    tables: tuple[str, ...]  # tables that cannot be read to the end
    problems: tuple[str, ...]  # SQLite's own integrity_check lines (English, for support)
    unreadable: bool = False  # the file does not open at all (its first page)

    @property
    def found(self) -> bool:
        return self.unreadable or bool(self.pages or self.tables or self.problems)


def _connection(path: Path, key: bytes) -> sqlcipher.Connection:
    conn = sqlcipher.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("PRAGMA query_only = ON")
    return conn


def diagnose(path: Path, key: bytes) -> Damage:
    """Check the whole file; never raises for a damaged file (that is what it reports)."""
    conn = _connection(path, key)
    try:
        try:
            names = [
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
        except sqlcipher.DatabaseError:
            return Damage((1,), (), (), unreadable=True)
        pages: set[int] = set()
        try:
            for (line,) in conn.execute("PRAGMA cipher_integrity_check"):
                pages.update(int(n) for n in _PAGE.findall(str(line)))
        except sqlcipher.DatabaseError as exc:
            pages.update(int(n) for n in _PAGE.findall(str(exc)))
        try:
            problems = [str(r) for (r,) in conn.execute("PRAGMA integrity_check") if r != "ok"]
        except sqlcipher.DatabaseError as exc:
            problems = [str(exc)]
        # A fresh connection per table: after one failed page read, SQLCipher fails the
        # next reads of the same connection too, which would name every table.
        damaged = [name for name in names if not _reads_to_the_end(path, key, name)]
        return Damage(tuple(sorted(pages)), tuple(damaged), tuple(problems))
    finally:
        conn.close()


def _reads_to_the_end(path: Path, key: bytes, table: str) -> bool:
    quoted = table.replace('"', '""')
    conn = _connection(path, key)
    try:
        cursor = conn.execute(f'SELECT * FROM "{quoted}"')  # a name from sqlite_master
        while cursor.fetchmany(_SCAN_BATCH):
            pass
    except sqlcipher.DatabaseError:
        return False
    finally:
        conn.close()
    return True
