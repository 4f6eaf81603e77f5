"""The canonical bytes of a signed act: fixed order, version tag, UTF-8, stable values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cms_desktop.domain.signed_acts import (
    CONSULTATION,
    CONSULTATION_FIELDS,
    CONSULTATION_FIELDS_2,
    FORMAT,
    FORMAT_1,
    PRESCRIPTION,
    PRESCRIPTION_FIELDS,
    UnknownFormat,
    canonical_bytes,
)

NOTE = {name: "" for name in CONSULTATION_FIELDS_2} | {
    "id": "n1",
    "seen_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    "signed_at": datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
    "amends_id": None,
    "draft_id": None,
    "diagnosis": "Grippe é",
    "weight_kg": 72,
    "height_cm": None,
}


def test_the_form_is_tagged_ordered_and_utf8() -> None:
    data = canonical_bytes(CONSULTATION, NOTE)
    fmt, kind, pairs = json.loads(data.decode("utf-8"))
    assert (fmt, kind) == (FORMAT, CONSULTATION)
    assert [name for name, _ in pairs] == list(CONSULTATION_FIELDS_2)
    assert "Grippe é".encode() in data  # UTF-8, not \\u escapes
    assert dict(pairs)["signed_at"] == "2026-03-01T10:00:00.123456Z"


def test_values_read_back_from_the_database_give_the_same_bytes() -> None:
    # A REAL column returns 72.0 for 72; a naive or non-UTC datetime is the same moment.
    read_back = NOTE | {
        "weight_kg": 72.0,
        "seen_at": datetime(2026, 3, 1, 9, 30),
        "signed_at": datetime(2026, 3, 1, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
    }
    assert canonical_bytes(CONSULTATION, read_back) == canonical_bytes(CONSULTATION, NOTE)


def test_any_changed_field_changes_the_bytes() -> None:
    base = canonical_bytes(CONSULTATION, NOTE)
    for name in CONSULTATION_FIELDS_2:
        changed = NOTE | {name: "autre" if not isinstance(NOTE[name], float) else 1.5}
        if changed[name] != NOTE[name]:
            assert canonical_bytes(CONSULTATION, changed) != base, name


def test_a_prescription_signs_its_pdf_through_its_hash() -> None:
    rx = {name: None for name in PRESCRIPTION_FIELDS} | {
        "issued_on": date(2026, 3, 1),
        "pdf": b"%PDF-1.4 ...",
    }
    pairs = dict(json.loads(canonical_bytes(PRESCRIPTION, rx))[2])
    assert pairs["issued_on"] == "2026-03-01"
    assert pairs["pdf"].startswith("sha256:") and len(pairs["pdf"]) == 7 + 64
    other = canonical_bytes(PRESCRIPTION, rx | {"pdf": b"%PDF-1.4 .."})
    assert other != canonical_bytes(PRESCRIPTION, rx)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownFormat):
        canonical_bytes(CONSULTATION, NOTE, "cms-act-9")


def test_acts_signed_before_the_clinical_key_keep_their_form() -> None:
    # cms-act-1 (session 9) has no encrypted vitals: its bytes are rebuilt without them, so
    # notes signed then still verify; cms-act-2 covers the sealed vitals too.
    old = json.loads(canonical_bytes(CONSULTATION, NOTE, FORMAT_1))
    assert old[0] == FORMAT_1 and [n for n, _ in old[2]] == list(CONSULTATION_FIELDS)
    assert canonical_bytes(CONSULTATION, NOTE | {"vitals": "x"}, FORMAT_1) == canonical_bytes(
        CONSULTATION, NOTE, FORMAT_1
    )
    assert canonical_bytes(CONSULTATION, NOTE | {"vitals": "x"}) != canonical_bytes(
        CONSULTATION, NOTE
    )
