"""The patient search index: SQL functions, the triggers that keep it right, and its query.

Choice: SQLite triggers on ``patients`` call ``cms_patient_keys``/``cms_patient_sort``,
Python functions registered on every connection by ``storage/engine.py``. Any write to
``patients`` — services, merge, sync applying a remote op, a bulk Core insert — thus
updates ``patient_search`` in the same transaction; no caller has to remember to reindex.
A tombstoned or merged patient has no keys, so it is never found. ``rebuild`` recomputes
everything (after a change of the key rules, or to repair).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, text

from cms_desktop.domain.patient_search import KEY_END, SearchTerm, patient_keys, sort_key

KEYS_FUNCTION = "cms_patient_keys"
SORT_FUNCTION = "cms_patient_sort"

# Columns the keys are computed from; an UPDATE of any other column leaves the index alone.
KEY_COLUMNS = (
    "birth_name",
    "used_name",
    "first_given_name",
    "given_names",
    "used_given_name",
    "birth_date",
    "nir",
    "phone_mobile",
    "phone_home",
    "deleted",
    "merged_into_id",
)


def _keys_json(
    birth_name: str | None,
    used_name: str | None,
    first_given_name: str | None,
    given_names: str | None,
    used_given_name: str | None,
    birth_date: str | None,
    nir: str | None,
    phone_mobile: str | None,
    phone_home: str | None,
) -> str:
    keys = patient_keys(
        (birth_name, used_name, first_given_name, given_names, used_given_name),
        birth_date,
        nir,
        (phone_mobile, phone_home),
    )
    return json.dumps(keys)


# SQLite evaluates the sort function once per key row of the trigger's SELECT (about 4 per
# patient) with the same arguments: the cache makes the 2nd to 4th calls free.
@lru_cache(maxsize=1024)
def _sort(birth_name: str | None, used_name: str | None, first_given_name: str | None) -> str:
    return sort_key(birth_name or "", used_name or "", first_given_name or "")


def register_functions(dbapi_connection: Any) -> None:
    """Make the index functions known to one DB-API (sqlite3 / sqlcipher3) connection."""
    dbapi_connection.create_function(KEYS_FUNCTION, 9, _keys_json, deterministic=True)
    dbapi_connection.create_function(SORT_FUNCTION, 3, _sort, deterministic=True)


def _insert_sql(row: str, source: str = "") -> str:
    return (
        "INSERT OR IGNORE INTO patient_search (key, sort_key, patient_id) "
        f"SELECT j.value, {SORT_FUNCTION}({row}.birth_name, {row}.used_name, "
        f"{row}.first_given_name), {row}.id FROM {source}json_each({KEYS_FUNCTION}("
        f"{row}.birth_name, {row}.used_name, {row}.first_given_name, {row}.given_names, "
        f"{row}.used_given_name, {row}.birth_date, {row}.nir, {row}.phone_mobile, "
        f"{row}.phone_home)) AS j WHERE {row}.deleted = 0 AND {row}.merged_into_id IS NULL"
    )


TRIGGERS = {
    "patients_search_insert": (
        "CREATE TRIGGER patients_search_insert AFTER INSERT ON patients "
        f"BEGIN {_insert_sql('NEW')}; END"
    ),
    "patients_search_update": (
        f"CREATE TRIGGER patients_search_update AFTER UPDATE OF {', '.join(KEY_COLUMNS)} "
        "ON patients BEGIN DELETE FROM patient_search WHERE patient_id = OLD.id; "
        f"{_insert_sql('NEW')}; END"
    ),
}


def rebuild(conn: Connection) -> None:
    """Recompute the whole index from ``patients`` (functions must be registered)."""
    conn.execute(text("DELETE FROM patient_search"))
    conn.execute(text(_insert_sql("patients", "patients, ")))


def _range(prefix: str, alias: str, params: dict[str, str], n: int) -> str:
    params[f"lo{n}"] = prefix
    params[f"hi{n}"] = prefix + KEY_END
    return f"({alias}.key >= :lo{n} AND {alias}.key < :hi{n})"


HIT_COLUMNS = (
    "p.id, p.birth_name, p.used_name, p.first_given_name, p.used_given_name, p.birth_date, "
    "p.sex, p.nir, p.phone_mobile, p.phone_home, p.identity_status"
)


def search_sql(terms: Sequence[SearchTerm], limit: int) -> tuple[str, dict[str, Any]]:
    """One SQL statement for the terms: scan of the most selective term's key ranges.

    Each prefix of the driving term is scanned in index order up to ``limit`` rows
    (UNION ALL of bounded scans), every other term is an EXISTS on the patient's own keys.
    A patient may come out twice (two keys matching): the caller keeps the first.
    """
    ordered = sorted(terms, key=lambda t: -t.weight)
    driver, others = ordered[0], ordered[1:]
    params: dict[str, Any] = {"limit": limit}
    counter = 0
    exists: list[str] = []
    for term in others:
        ranges = []
        for prefix in term.prefixes:
            ranges.append(_range(prefix, "o", params, counter))
            counter += 1
        exists.append(
            "EXISTS (SELECT 1 FROM patient_search AS o WHERE o.patient_id = s.patient_id "
            f"AND ({' OR '.join(ranges)}))"
        )
    scans = []
    for prefix in driver.prefixes:
        where = " AND ".join([_range(prefix, "s", params, counter), *exists])
        counter += 1
        scans.append(
            f"SELECT * FROM (SELECT {HIT_COLUMNS} FROM patient_search AS s "
            f"JOIN patients AS p ON p.id = s.patient_id WHERE {where} "
            "ORDER BY s.key, s.sort_key LIMIT :limit)"
        )
    return " UNION ALL ".join(scans), params


def search(engine: Engine, terms: Sequence[SearchTerm], limit: int) -> list[Any]:
    """Rows (HIT_COLUMNS) of the patients matching every term, first occurrence kept.

    Runs on a pooled DB-API connection, outside any ORM session: one read-only statement
    is consistent on its own, and the session machinery would cost more than the query.
    """
    if not terms:
        return []
    sql, params = search_sql(terms, limit * 2)
    seen: set[str] = set()
    rows = []
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        result = cursor.execute(sql, params).fetchall()
        cursor.close()
    finally:
        conn.close()
    for row in result:
        if row[0] not in seen:
            seen.add(row[0])
            rows.append(row)
            if len(rows) == limit:
                break
    return rows
