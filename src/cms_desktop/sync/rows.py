"""Received entry values as DB-API parameters for plain INSERT statements (merge hot path).

SQLAlchemy's per-row parameter processing cost more than SQLCipher's insert itself, so the
merge writes new rows with precompiled SQL through ``exec_driver_sql``: each value is
turned once into exactly what SQLAlchemy would have stored (the column type's own bind
processor, with a string fast path for UTC timestamps), rows of one table with the same
keys share one statement and one executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.engine import Dialect

from cms_desktop.domain.oplog import JsonValue, OpEntry
from cms_desktop.storage.codec import decode_value
from cms_desktop.storage.models.base import UtcDateTime
from cms_desktop.sync.tables import TableInfo

Converter = Callable[[JsonValue], Any]
# key → (column name, converter or None when the JSON value is stored as it is)
_Columns = dict[str, tuple[str, Converter | None]]

_PLAIN = (String, Text, Integer, Boolean, Float)
_columns_cache: dict[tuple[str, str], _Columns] = {}
_sql_cache: dict[tuple[str, str, tuple[str, ...], bool], str] = {}


def _converter(column: Any, dialect: Dialect) -> Converter | None:
    if isinstance(column.type, _PLAIN):
        return None
    bind = column.type.bind_processor(dialect)

    def slow(value: JsonValue) -> Any:
        if value is None:
            return None
        decoded = decode_value(column, value)
        return bind(decoded) if bind is not None else decoded

    if not isinstance(column.type, UtcDateTime):
        return slow

    def utc_text(value: JsonValue) -> Any:
        # "2026-11-23T12:31:04.123456+00:00" → "2026-11-23 12:31:04.123456", the format
        # SQLAlchemy's SQLite DATETIME stores; anything else takes the general path.
        if (
            type(value) is str
            and len(value) == 32
            and value[10] == "T"
            and value[19] == "."
            and value.endswith("+00:00")
        ):
            datetime.fromisoformat(value)  # a malformed date fails as it would below
            return value[:10] + " " + value[11:26]
        return slow(value)

    return utc_text


def columns(info: TableInfo, dialect: Dialect) -> _Columns:
    """How each key of an entry's values reaches its column (cached per table)."""
    key = (info.name, dialect.name)
    found = _columns_cache.get(key)
    if found is None:
        found = {
            name: (str(column.name), _converter(column, dialect))
            for name, column in info.columns.items()
            if name != "id"  # the id is the entry's row_id
        }
        _columns_cache[key] = found
    return found


def _insert_sql(
    info: TableInfo, dialect: Dialect, names: tuple[str, ...], ignore_existing: bool
) -> str:
    key = (info.name, dialect.name, names, ignore_existing)
    sql = _sql_cache.get(key)
    if sql is None:
        quote = dialect.identifier_preparer.quote
        id_name = quote(info.column_name("id"))
        cols = ", ".join([*(quote(name) for name in names), id_name])
        marks = ", ".join("?" * (len(names) + 1))
        sql = f"INSERT INTO {quote(info.name)} ({cols}) VALUES ({marks})"
        if ignore_existing:
            sql += f" ON CONFLICT ({id_name}) DO NOTHING"
        _sql_cache[key] = sql
    return sql


# column names, the entry keys they come from, (position, converter) where one is needed
_Plan = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[int, Converter], ...]]


def _plan(order: tuple[str, ...], cols: _Columns) -> _Plan:
    kept = tuple(key for key in order if key in cols)
    names = tuple(cols[key][0] for key in kept)
    conversions = tuple(
        (index, convert) for index, key in enumerate(kept) if (convert := cols[key][1]) is not None
    )
    return names, kept, conversions


def insert_groups(
    info: TableInfo, dialect: Dialect, entries: Sequence[OpEntry], *, ignore_existing: bool
) -> list[tuple[str, list[tuple[OpEntry, tuple[Any, ...]]]]]:
    """INSERT statements for ``entries`` (new rows of one table), each with its rows.

    Keys unknown to this table are dropped, as the ORM would; ``ignore_existing`` keeps
    a row already held (insert-only union).
    """
    cols = columns(info, dialect)
    groups: dict[tuple[str, ...], list[tuple[OpEntry, tuple[Any, ...]]]] = {}
    # Entries of one table nearly always carry the same keys in the same order: the way to
    # turn them into parameters is worked out once per key order, not once per value.
    plans: dict[tuple[str, ...], _Plan] = {}
    for entry in entries:
        values: Mapping[str, JsonValue] = entry.values
        order = tuple(values)
        plan = plans.get(order)
        if plan is None:
            plan = plans[order] = _plan(order, cols)
        names, kept, conversions = plan
        params = [values[key] for key in kept]
        for index, convert in conversions:
            params[index] = convert(params[index])
        params.append(entry.row_id)
        groups.setdefault(names, []).append((entry, tuple(params)))
    return [
        (_insert_sql(info, dialect, names, ignore_existing), rows) for names, rows in groups.items()
    ]
