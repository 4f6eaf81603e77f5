"""Access to the record: who may ask, and the 48 h / 8 days / 2 months deadlines."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.record_access import (
    HEIR_REASON_LABELS,
    REQUESTER_LABELS,
    AccessRequest,
    AccessWindow,
    HeirReason,
    RecordAccessError,
    RequesterKind,
    access_deadline,
    access_request_problems,
    add_months,
    is_overdue,
    may_deliver,
    next_reference,
    station_code,
    validate_access_request,
)

RECEIVED = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)  # a Friday
PARIS = ZoneInfo("Europe/Paris")


def _request(**changes: object) -> AccessRequest:
    base = AccessRequest(
        requester_kind=RequesterKind.PATIENT,
        received_at=RECEIVED,
        written=True,
        identity_document_checked=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_labels_cover_every_member() -> None:
    assert set(REQUESTER_LABELS) == set(RequesterKind)
    assert set(HEIR_REASON_LABELS) == set(HeirReason)


def test_patient_with_checked_identity_is_accepted() -> None:
    validate_access_request(_request())


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"written": False}, "par écrit"),
        ({"identity_document_checked": False}, "justificatif d'identité"),
        ({"requester_kind": RequesterKind.LEGAL_REPRESENTATIVE}, "représentant légal"),
        ({"patient_deceased": True}, "seuls ses ayants droit"),
    ],
)
def test_refusals(changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(RecordAccessError) as error:
        validate_access_request(_request(**changes))
    assert any(fragment in p for p in error.value.problems)


def _heir(**changes: object) -> AccessRequest:
    heir = _request(
        requester_kind=RequesterKind.HEIR,
        patient_deceased=True,
        quality_proof_checked=True,
        heir_reason=HeirReason.CAUSES_OF_DEATH,
    )
    return replace(heir, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("reason", list(HeirReason))
def test_heir_with_one_of_the_three_reasons_is_accepted(reason: HeirReason) -> None:
    assert access_request_problems(_heir(heir_reason=reason)) == []


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"heir_reason": None}, "motif de sa demande"),
        ({"patient_objected_to_heirs": True}, "opposé de son vivant"),
        ({"patient_deceased": False}, "patient décédé"),
        ({"quality_proof_checked": False}, "qualité d'ayant droit"),
    ],
)
def test_heir_refusals(changes: dict[str, object], fragment: str) -> None:
    problems = access_request_problems(_heir(**changes))
    assert len(problems) == 1
    assert fragment in problems[0]


def test_legal_representative_keeps_access_after_a_minor_s_death() -> None:
    request = _request(
        requester_kind=RequesterKind.LEGAL_REPRESENTATIVE,
        quality_proof_checked=True,
        patient_deceased=True,
    )
    assert access_request_problems(request) == []


def test_all_problems_are_listed_together() -> None:
    with pytest.raises(RecordAccessError) as error:
        validate_access_request(
            _heir(written=False, identity_document_checked=False, heir_reason=None)
        )
    assert len(error.value.problems) == 3
    assert str(error.value).count("\n") == 2


# --- deadlines --------------------------------------------------------------------------


def test_recent_information_eight_calendar_days_weekend_included() -> None:
    window = access_deadline(RECEIVED, date(2024, 1, 1))
    # Received Friday: the 48 hours end on Sunday, the deadline is the next Saturday.
    assert window.not_before == datetime(2025, 3, 16, 10, 30, tzinfo=UTC)
    assert window.not_before.weekday() == 6
    assert window.last_day == date(2025, 3, 22) and window.last_day.weekday() == 5
    assert window.not_after == datetime(2025, 3, 22, 23, 59, 59, 999999, tzinfo=PARIS)
    assert not window.extended


def test_no_information_date_means_eight_days() -> None:
    assert not access_deadline(RECEIVED, None).extended


def test_information_older_than_five_years_gives_two_months() -> None:
    window = access_deadline(RECEIVED, date(2020, 3, 13))
    assert window.extended
    assert window.last_day == date(2025, 5, 14)
    # Exactly five years is not "more than five years".
    assert not access_deadline(RECEIVED, date(2020, 3, 14)).extended


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (datetime(2025, 12, 31, 9, 0, tzinfo=UTC), date(2026, 2, 28)),
        (datetime(2027, 12, 31, 9, 0, tzinfo=UTC), date(2028, 2, 29)),
        (datetime(2027, 12, 29, 9, 0, tzinfo=UTC), date(2028, 2, 29)),
        (datetime(2025, 8, 31, 9, 0, tzinfo=UTC), date(2025, 10, 31)),
        (datetime(2025, 4, 30, 9, 0, tzinfo=UTC), date(2025, 6, 30)),
        (datetime(2025, 11, 15, 9, 0, tzinfo=UTC), date(2026, 1, 15)),
    ],
)
def test_two_months_across_month_ends_and_leap_years(received: datetime, expected: date) -> None:
    assert access_deadline(received, date(2000, 1, 1)).last_day == expected


def test_eight_days_across_a_leap_day() -> None:
    received = datetime(2028, 2, 25, 8, 0, tzinfo=UTC)
    window = access_deadline(received, None)
    assert window.not_before == datetime(2028, 2, 27, 8, 0, tzinfo=UTC)
    assert window.last_day == date(2028, 3, 4)


def test_five_years_before_a_leap_day() -> None:
    received = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert access_deadline(received, date(2023, 2, 27)).extended
    assert not access_deadline(received, date(2023, 2, 28)).extended
    assert access_deadline(received, date(2000, 1, 1)).last_day == date(2028, 4, 29)


def test_reflection_delay_is_48_real_hours_across_a_dst_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    received = datetime(2025, 3, 29, 12, 0, tzinfo=paris)  # clocks go forward on 30 March
    window = access_deadline(received, None)
    # Same-zone subtraction in Python is wall-clock; compare real elapsed time in UTC.
    assert window.not_before.astimezone(UTC) - received.astimezone(UTC) == timedelta(hours=48)
    assert window.not_before.astimezone(paris).hour == 13


def test_naive_datetime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        access_deadline(datetime(2025, 3, 14, 10, 30), None)


def test_delivery_window_and_overdue() -> None:
    window = access_deadline(RECEIVED, None)
    assert not may_deliver(window, RECEIVED + timedelta(hours=47, minutes=59))
    assert may_deliver(window, RECEIVED + timedelta(hours=48))
    assert not is_overdue(window, now=window.not_after)
    assert is_overdue(window, now=window.not_after + timedelta(seconds=1))
    late = window.not_after + timedelta(days=1)
    assert not is_overdue(window, now=late, delivered_at=window.not_after - timedelta(days=1))
    assert is_overdue(window, now=late + timedelta(days=30), delivered_at=late)


def test_window_is_a_value() -> None:
    window = access_deadline(RECEIVED, None)
    assert window == AccessWindow(window.not_before, window.not_after, extended=False)


@given(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)), st.integers(0, 48))
def test_add_months_properties(moment: datetime, months: int) -> None:
    aware = moment.replace(tzinfo=UTC)
    later = add_months(aware, months)
    assert (later.year * 12 + later.month) - (aware.year * 12 + aware.month) == months
    assert later.day == aware.day or (
        later.day < aware.day and (later + timedelta(days=1)).day == 1
    )
    assert later.time() == aware.time()


# --- references ---


def test_station_code_is_four_readable_characters_stable_per_station() -> None:
    ids = [str(uuid.UUID(int=i)) for i in range(200)]
    codes = [station_code(i) for i in ids]
    assert codes == [station_code(i) for i in ids]  # the same on every call
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 4 and not set(code) & set("ILOU")


def test_next_reference_follows_this_station_only() -> None:
    a, b = "station-a", "station-b"
    ca, cb = station_code(a), station_code(b)
    assert next_reference(2026, a, []) == f"DA-2026-{ca}-0001"
    given = [f"DA-2026-{ca}-0001", f"DA-2026-{ca}-0007", f"DA-2026-{cb}-0042", "DA-2026-0099"]
    assert next_reference(2026, a, given) == f"DA-2026-{ca}-0008"
    assert next_reference(2026, b, given) == f"DA-2026-{cb}-0043"
    assert next_reference(2027, a, given) == f"DA-2027-{ca}-0001"
