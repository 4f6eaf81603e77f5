"""Search keys of a patient and the reading of a typed query (pure domain)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.patient_search import parse_query, patient_keys

TODAY = date(2026, 6, 1)


def _matches(query: str, keys: list[str]) -> bool:
    terms = parse_query(query, TODAY)
    return bool(terms) and all(
        any(k.startswith(p) for k in keys for p in t.prefixes) for t in terms
    )


KEYS = patient_keys(
    ("Le Bihan", "Martin-Lefèvre", "Claire", "Claire Hélène", None),
    date(1975, 11, 3),
    "2751102A00412345"[:15],
    ("+33781223344", "+442071838750"),
)


def test_keys_are_unique_and_prefixed() -> None:
    assert len(KEYS) == len(set(KEYS))
    assert {"n:LE", "n:BIHAN", "n:LEFEVRE", "n:HELENE", "f:03111975", "d:19751103"} <= set(KEYS)
    assert "t:0781223344" in KEYS and "t:+442071838750" in KEYS


def test_queries() -> None:
    for query in (
        "bih",
        "LEFÈV cla",
        "03/11/1975",
        "3/11",
        "11/1975",
        "1975",
        "07 81 22",
        "+33 7 81",
        "+44 20 7183",
        "claire 03/11",
    ):
        assert _matches(query, KEYS), query
    for query in ("bihx", "04/11", "12/1975", "1976", "06 81", "claire 1976", "", "  -  "):
        assert not _matches(query, KEYS), query


def test_phone_digits_form_one_term() -> None:
    (term,) = parse_query("06 12 34 56", TODAY)
    assert "t:06123456" in term.prefixes


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_any_birth_date_form_finds_the_date(birth: date) -> None:
    keys = patient_keys((), birth, None, ())
    for query in (
        f"{birth:%d/%m/%Y}",
        f"{birth:%d/%m}",
        f"{birth:%m/%Y}",
        f"{birth:%Y}",
        f"{birth.day}/{birth.month}/{birth.year}",
    ):
        assert _matches(query, keys), query
