"""The SQL read of new rows out of the op-log stores what the Python parameters store."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from cms_desktop.sync import rows
from cms_desktop.sync.tables import table_info

DIALECT = sqlite.dialect()


def python_form(table: str, key: str, value: Any) -> Any:
    """What SQLite holds once ``insert_groups``' parameter is bound (the driver adapts a
    date the way SQLAlchemy's SQLite dialect leaves it to)."""
    info = table_info(table)
    assert info is not None
    convert = rows.columns(info, DIALECT)[key][1]
    param = value if convert is None or value is None else convert(value)
    conn = sqlcipher.connect(":memory:")
    try:
        return conn.execute("SELECT ?", (param,)).fetchone()[0]
    finally:
        conn.close()


def sql_form(table: str, key: str, value: Any) -> Any:
    info = table_info(table)
    assert info is not None
    expression = rows._value_sql(info, key, info.columns[key], "v.x")
    assert expression is not None
    conn = sqlcipher.connect(":memory:")
    conn.create_function(rows.CONVERT_FUNCTION, 3, partial(rows._convert_from_sql, DIALECT))
    try:
        return conn.execute(f"SELECT {expression} FROM (SELECT ? AS x) AS v", (value,)).fetchone()[
            0
        ]
    finally:
        conn.close()


MOMENTS = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.timezones()
)


@given(MOMENTS)
def test_timestamps_read_by_sql_are_stored_as_python_stores_them(moment: dt.datetime) -> None:
    # UTC with microseconds takes the SQL fast path; no microseconds or another offset
    # takes the Python converter, called from SQL.
    for text in (moment.isoformat(), moment.astimezone(dt.UTC).isoformat()):
        assert sql_form("audit_log", "at", text) == python_form("audit_log", "at", text)


@given(st.dates())
def test_dates_read_by_sql_are_stored_as_python_stores_them(day: dt.date) -> None:
    text = day.isoformat()
    assert sql_form("documents", "document_date", text) == python_form(
        "documents", "document_date", text
    )


@pytest.mark.parametrize(
    ("table", "key", "text"),
    [
        ("audit_log", "at", "2026-02-30T12:00:00.000000+00:00"),
        ("audit_log", "at", "2026-11-23T25:00:00.000000+00:00"),
        ("audit_log", "at", "le 23 novembre"),
        ("documents", "document_date", "2026-02-30"),
        ("documents", "document_date", "2026-13-01"),
    ],
)
def test_an_impossible_date_fails_in_sql_as_in_python(table: str, key: str, text: str) -> None:
    with pytest.raises(ValueError):
        python_form(table, key, text)
    with pytest.raises(sqlcipher.OperationalError):
        sql_form(table, key, text)


def test_nulls_and_plain_values_are_kept() -> None:
    assert sql_form("audit_log", "at", None) is None
    assert sql_form("documents", "document_date", None) is None
    assert sql_form("audit_log", "seq", 42) == 42
    assert sql_form("audit_log", "details", '{"t": "é"}') == '{"t": "é"}'


def test_a_table_with_a_type_sql_cannot_read_takes_the_python_path() -> None:
    prescriptions = table_info("prescriptions")  # a PDF kept as bytes (base64 in the entry)
    assert prescriptions is not None
    assert rows._insert_select_sql(prescriptions, DIALECT) is None
    audit = table_info("audit_log")
    assert audit is not None
    assert rows._insert_select_sql(audit, DIALECT) is not None
