"""Received entry values as new rows, without SQLAlchemy's per-row work (merge hot path).

Two ways, the same stored values:
- ``insert_groups``: DB-API parameters for plain INSERT statements. Each value is turned
  once into exactly what SQLAlchemy would have stored (the column type's own bind
  processor, with a string fast path for UTC timestamps); rows of one table with the same
  keys share one statement and one executemany.
- ``insert_from_op_log``: one ``INSERT … SELECT`` per table and batch that reads the
  columns out of the op-log rows just stored (SQLite's ``json_extract``), so no Python
  runs per value at all; a value the SQL fast path cannot vouch for goes through the same
  converter as above, called from SQL. Used for the insert-only tables (nine received
  entries in ten).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Boolean, Connection, Date, Float, Integer, String, Text
from sqlalchemy.engine import Dialect

from cms_desktop.domain.oplog import JsonValue, OpEntry
from cms_desktop.storage.codec import decode_value
from cms_desktop.storage.models.base import UtcDateTime
from cms_desktop.sync.tables import TableInfo, table_info

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


def stored_params(
    info: TableInfo, dialect: Dialect, keys: Sequence[str], values: Mapping[str, JsonValue]
) -> list[Any]:
    """The parameters ``insert_groups`` binds for ``values[key]`` of each of ``keys`` (keys
    of ``info``'s columns, the id excepted), in that order."""
    cols = columns(info, dialect)
    params: list[Any] = []
    for key in keys:
        value = values[key]
        convert = cols[key][1]
        params.append(value if convert is None else convert(value))
    return params


def write_sql(info: TableInfo, dialect: Dialect, keys: tuple[str, ...], exists: bool) -> str:
    """The INSERT of a new row, or the UPDATE of a held one, setting the columns of ``keys``
    to ``stored_params(…, keys, …)`` followed by the row id."""
    cols = columns(info, dialect)
    names = tuple(cols[key][0] for key in keys)
    if not exists:
        return _insert_sql(info, dialect, names, False)
    cache_key = (info.name, dialect.name, names, True)
    sql = _update_cache.get(cache_key)
    if sql is None:
        quote = dialect.identifier_preparer.quote
        sets = ", ".join(f"{quote(name)} = ?" for name in names)
        sql = f"UPDATE {quote(info.name)} SET {sets} WHERE {quote(info.column_name('id'))} = ?"
        _update_cache[cache_key] = sql
    return sql


_update_cache: dict[tuple[str, str, tuple[str, ...], bool], str] = {}


# --- INSERT … SELECT from the op-log ---------------------------------------------------

CONVERT_FUNCTION = "cms_sync_convert"
# The text forms SQLAlchemy stores for SQLite DATE and for our UTC DATETIME; a value that
# is not already in the form the entry's text gives is converted by Python (from SQL).
_DIGITS = "[0-9]"
_DATE_GLOB = f"{_DIGITS * 4}-{_DIGITS * 2}-{_DIGITS * 2}"
_UTC_GLOB = f"{_DATE_GLOB}T{_DIGITS * 2}:{_DIGITS * 2}:{_DIGITS * 2}.{_DIGITS * 6}+00:00"
_select_cache: dict[tuple[str, str], str | None] = {}


def _value_sql(info: TableInfo, key: str, column: Any, value: str) -> str | None:
    """The stored form of the extracted JSON value ``value`` (an SQL expression)."""
    slow = f"{CONVERT_FUNCTION}('{info.name}', '{key}', {value})"
    if isinstance(column.type, _PLAIN):
        return value
    if isinstance(column.type, UtcDateTime):
        # datetime() gives NULL for an impossible date or time and normalises an impossible
        # day (31 February): equal to the text only for a real UTC timestamp.
        return (
            f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} GLOB '{_UTC_GLOB}' "
            f"AND datetime({value}) = substr({value}, 1, 10) || ' ' || substr({value}, 12, 8) "
            f"THEN substr({value}, 1, 10) || ' ' || substr({value}, 12, 15) ELSE {slow} END"
        )
    if isinstance(column.type, Date):
        return (
            f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} GLOB '{_DATE_GLOB}' "
            f"AND date({value}) = {value} THEN {value} ELSE {slow} END"
        )
    return None


def _insert_select_sql(info: TableInfo, dialect: Dialect) -> str | None:
    """The INSERT … SELECT of ``info``'s new rows from op-log rows; None if a column type
    has no SQL form here (the table then takes ``insert_groups``)."""
    key = (info.name, dialect.name)
    if key in _select_cache:
        return _select_cache[key]
    quote = dialect.identifier_preparer.quote
    names: list[str] = []
    extracted: list[str] = []
    values: list[str] = []
    sql: str | None = None
    for index, (name, column) in enumerate(info.columns.items()):
        if name == "id":
            continue
        path = "'$.\"" + name.replace("'", "''") + "\"'"
        value = _value_sql(info, name, column, f"v.c{index}")
        if value is None:
            break
        names.append(quote(str(column.name)))
        extracted.append(f"json_extract(values_json, {path}) AS c{index}")
        values.append(value)
    else:
        id_name = quote(info.column_name("id"))
        # MATERIALIZED: each value is read out of the JSON once, however often the
        # conversions below name it (the subquery would otherwise be flattened into them).
        sql = (
            f"WITH v AS MATERIALIZED (SELECT row_id, {', '.join(extracted)} FROM op_log "
            "WHERE origin = ? AND seq BETWEEN ? AND ? AND entity = ? AND applied) "
            f"INSERT INTO {quote(info.name)} ({', '.join(names)}, {id_name}) "
            f"SELECT {', '.join(values)}, v.row_id FROM v WHERE true "
            f"ON CONFLICT ({id_name}) DO NOTHING"
        )
    _select_cache[key] = sql
    return sql


def carries_every_column(info: TableInfo, entries: Sequence[OpEntry]) -> bool:
    """True if each entry's values name exactly the table's columns (what a station's
    capture writes for a new row): then reading them from the op-log is the same as
    ``insert_groups``, which leaves a column it is not given to its default."""
    expected = info.columns.keys()
    return all(entry.values.keys() == expected for entry in entries)


def insert_from_op_log(
    conn: Connection, info: TableInfo, origin: str, first: int, last: int
) -> bool:
    """Insert the rows of ``info``'s applied op-log entries of ``origin`` numbered
    ``first``..``last`` (stored in this transaction), an id already held kept as it is.
    False, with nothing done, if the table has no SQL form: use ``insert_groups``.
    Raises what the INSERT raises (a uniqueness clash: ``IntegrityError``)."""
    sql = _insert_select_sql(info, conn.dialect)
    if sql is None:
        return False
    driver = conn.connection.driver_connection
    assert driver is not None
    convert = partial(_convert_from_sql, conn.dialect)
    driver.create_function(CONVERT_FUNCTION, 3, convert, deterministic=True)
    conn.exec_driver_sql(sql, (origin, first, last, info.name))
    return True


def _convert_from_sql(dialect: Dialect, table: str, key: str, value: JsonValue) -> Any:
    """What ``insert_groups`` stores for ``value`` (called by SQLite for the values that
    the SQL fast path does not take); raises on a malformed value, as it does."""
    info = table_info(table)
    if info is None or value is None:
        return None
    convert = columns(info, dialect)[key][1]
    param = value if convert is None else convert(value)
    # A bound parameter is adapted by the driver (a date becomes its ISO text); a value
    # returned from SQL is not, so adapt it here the same way.
    adapt = sqlcipher.adapters.get((type(param), sqlcipher.PrepareProtocol))
    return adapt(param) if adapt is not None else param
