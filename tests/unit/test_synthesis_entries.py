"""Fiche de synthèse entries: codes, text cleaning, dates and risk-factor rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.prevention import ScreeningKind
from cms_desktop.domain.synthesis import (
    Allergy,
    HistoryEntry,
    HistoryKind,
    Problem,
    RiskFactor,
    RiskKind,
    ScreeningRecord,
    SynthesisError,
    Vaccination,
    normalize_diagnosis_code,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("k86", "K86"), (" E11.9 ", "E11.9"), ("e119", "E119"), ("S72.00", "S72.00"), ("", "")],
)
def test_cisp2_and_icd10_codes_are_normalised(typed: str, stored: str) -> None:
    assert normalize_diagnosis_code(typed) == stored


@pytest.mark.parametrize("bad", ["86", "KK86", "K8", "E11..9", "hypertension", "K86;DROP"])
def test_malformed_codes_are_refused_in_french(bad: str) -> None:
    with pytest.raises(SynthesisError, match="ni un code CISP-2"):
        normalize_diagnosis_code(bad)


@given(st.text(max_size=12))
def test_code_normaliser_accepts_only_the_two_shapes(text: str) -> None:
    try:
        code = normalize_diagnosis_code(text)
    except SynthesisError:
        return
    assert code == "" or (code[0].isalpha() and code[1:3].isdigit() and code == code.upper())


@given(st.text(max_size=300))
def test_cleaned_text_never_keeps_control_characters(text: str) -> None:
    try:
        entry = Allergy(substance=text).clean(TODAY)
    except SynthesisError:
        return
    assert entry.substance and all(ch in "\n\t" or ch >= " " for ch in entry.substance)


def test_required_label_and_length_limit() -> None:
    with pytest.raises(SynthesisError, match="obligatoire"):
        Problem(label="  \x00 ").clean(TODAY)
    with pytest.raises(SynthesisError, match="trop long"):
        Problem(label="x" * 201).clean(TODAY)


def test_future_dates_and_implausible_years_are_refused() -> None:
    with pytest.raises(SynthesisError, match="futur"):
        Vaccination("DTP", date(2027, 1, 1)).clean(TODAY)
    with pytest.raises(SynthesisError, match="plausible"):
        HistoryEntry(HistoryKind.SURGICAL, "Appendicectomie", year=1850).clean(TODAY)
    with pytest.raises(SynthesisError, match="futur"):
        ScreeningRecord(ScreeningKind.BREAST, date(2026, 11, 24)).clean(TODAY)


def test_history_dated_by_day_also_gets_its_year() -> None:
    entry = HistoryEntry(HistoryKind.SURGICAL, "Appendicectomie", on_date=date(1999, 5, 2))
    assert entry.clean(TODAY).year == 1999


def test_risk_factor_rules() -> None:
    with pytest.raises(SynthesisError, match="statut tabagique"):
        RiskFactor(RiskKind.TOBACCO).clean(TODAY)
    with pytest.raises(SynthesisError, match="tabac"):
        RiskFactor(RiskKind.ALCOHOL, pack_years=3).clean(TODAY)
    with pytest.raises(SynthesisError, match="entre 0 et 200"):
        RiskFactor(RiskKind.TOBACCO, status="current", pack_years=900).clean(TODAY)
    with pytest.raises(SynthesisError, match="note"):
        RiskFactor(RiskKind.OCCUPATIONAL).clean(TODAY)
    ok = RiskFactor(RiskKind.TOBACCO, status="former", pack_years=15).clean(TODAY)
    assert ok.pack_years == 15
