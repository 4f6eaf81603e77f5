"""National screening programmes: eligibility, status and next dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.identity import Sex
from cms_desktop.domain.prevention import (
    SCREENING_LABELS,
    STATUS_LABELS,
    ScreeningDue,
    ScreeningKind,
    ScreeningStatus,
    due_screenings,
)

K = ScreeningKind
St = ScreeningStatus


def _one(
    kind: ScreeningKind,
    sex: Sex,
    birth: date,
    today: date,
    last: date | None = None,
) -> ScreeningDue:
    results = {r.kind: r for r in due_screenings(sex, birth, {kind: last}, today)}
    return results[kind]


def test_all_programmes_listed_in_a_fixed_order_with_labels() -> None:
    results = due_screenings(Sex.FEMALE, date(1960, 6, 1), {}, date(2025, 1, 1))
    assert [r.kind for r in results] == [K.BREAST, K.COLORECTAL, K.CERVICAL]
    assert set(SCREENING_LABELS) == set(K)
    assert set(STATUS_LABELS) == set(St)
    assert results[0].label == "Dépistage du cancer du sein"
    assert results[0].status_label == "À faire"


def test_men_are_only_concerned_by_colorectal() -> None:
    results = due_screenings(Sex.MALE, date(1960, 6, 1), {}, date(2025, 1, 1))
    statuses = {r.kind: r.status for r in results}
    assert statuses == {
        K.BREAST: St.NOT_ELIGIBLE,
        K.COLORECTAL: St.DUE,
        K.CERVICAL: St.NOT_ELIGIBLE,
    }


def test_eligibility_starts_on_the_50th_birthday() -> None:
    birth = date(1975, 4, 12)
    before = _one(K.BREAST, Sex.FEMALE, birth, date(2025, 4, 11))
    assert before.status is St.NOT_ELIGIBLE
    assert before.due_date == date(2025, 4, 12)
    on_birthday = _one(K.BREAST, Sex.FEMALE, birth, date(2025, 4, 12))
    assert on_birthday.status is St.DUE
    assert on_birthday.due_date == date(2025, 4, 12)


def test_eligibility_ends_on_the_75th_birthday() -> None:
    birth = date(1950, 4, 12)
    assert _one(K.COLORECTAL, Sex.MALE, birth, date(2025, 4, 11)).status is St.DUE
    after = _one(K.COLORECTAL, Sex.MALE, birth, date(2025, 4, 12))
    assert after.status is St.NOT_ELIGIBLE
    assert after.due_date is None


def test_two_year_interval_after_a_test() -> None:
    birth = date(1960, 1, 1)
    up = _one(K.BREAST, Sex.FEMALE, birth, date(2025, 3, 1), last=date(2024, 3, 15))
    assert up.status is St.UP_TO_DATE
    assert up.due_date == date(2026, 3, 15)
    assert up.test_label == "Mammographie"
    assert (
        _one(K.BREAST, Sex.FEMALE, birth, date(2026, 3, 15), last=date(2024, 3, 15)).status
        is St.DUE
    )
    late = _one(K.BREAST, Sex.FEMALE, birth, date(2026, 3, 16), last=date(2024, 3, 15))
    assert late.status is St.OVERDUE
    assert late.due_date == date(2026, 3, 15)


def test_leap_day_test_falls_due_on_28_february() -> None:
    result = _one(
        K.COLORECTAL, Sex.MALE, date(1960, 1, 1), date(2025, 1, 1), last=date(2024, 2, 29)
    )
    assert result.due_date == date(2026, 2, 28)


def test_nothing_planned_when_next_round_is_after_the_programme() -> None:
    birth = date(1951, 6, 1)  # 75 on 1 June 2026
    result = _one(K.BREAST, Sex.FEMALE, birth, date(2025, 1, 1), last=date(2024, 7, 1))
    assert result.status is St.UP_TO_DATE
    assert result.due_date is None


def test_cervical_cytology_every_three_years_before_30() -> None:
    birth = date(1998, 5, 1)  # 26 at the test
    result = _one(K.CERVICAL, Sex.FEMALE, birth, date(2025, 1, 1), last=date(2024, 6, 1))
    assert result.due_date == date(2027, 6, 1)
    assert result.test_label == "Examen cytologique (frottis)"


def test_cervical_hpv_test_every_five_years_from_30() -> None:
    birth = date(1985, 5, 1)  # 37 at the test
    result = _one(K.CERVICAL, Sex.FEMALE, birth, date(2025, 1, 1), last=date(2022, 6, 1))
    assert result.due_date == date(2027, 6, 1)
    assert result.test_label == "Test HPV"


def test_cervical_switches_to_hpv_when_next_round_is_after_30() -> None:
    birth = date(1996, 5, 1)  # 28 at the cytology, 31 at the next test
    result = _one(K.CERVICAL, Sex.FEMALE, birth, date(2025, 1, 1), last=date(2024, 6, 1))
    assert result.due_date == date(2027, 6, 1)
    assert result.test_label == "Test HPV"


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2024, 4, 30), St.NOT_ELIGIBLE),
        (date(2024, 5, 1), St.DUE),
        (date(2065, 4, 30), St.DUE),
        (date(2065, 5, 1), St.NOT_ELIGIBLE),
    ],
)
def test_cervical_age_bounds_25_to_65(today: date, status: ScreeningStatus) -> None:
    assert _one(K.CERVICAL, Sex.FEMALE, date(1999, 5, 1), today).status is status


def test_undetermined_sex_gets_the_programme_open_to_both_sexes() -> None:
    results = due_screenings(Sex.UNDETERMINED, date(1960, 6, 1), {}, date(2025, 1, 1))
    assert [r.status for r in results] == [St.NOT_ELIGIBLE, St.DUE, St.NOT_ELIGIBLE]


@given(
    st.dates(date(1930, 1, 1), date(2000, 12, 31)),
    st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    st.sampled_from(list(Sex)),
)
def test_never_tested_eligible_patient_is_always_due_today(
    birth: date, today: date, sex: Sex
) -> None:
    for result in due_screenings(sex, birth, {}, today):
        assert result.status in (St.DUE, St.NOT_ELIGIBLE)
        if result.status is St.DUE:
            assert result.due_date == today
