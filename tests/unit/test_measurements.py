"""Vital signs plausibility and BMI."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.measurements import MeasurementError, VitalSigns, bmi, parse_decimal


def test_plausible_set_is_accepted() -> None:
    signs = VitalSigns(
        weight_kg=70,
        height_cm=175,
        systolic_mmhg=128,
        diastolic_mmhg=82,
        heart_rate_bpm=64,
        temperature_c=37.2,
        spo2_percent=98,
        glucose_g_per_l=0.95,
        hba1c_percent=6.1,
    )
    assert signs.bmi == 22.9
    assert not signs.is_empty
    assert VitalSigns().is_empty


def test_bmi() -> None:
    assert bmi(70, 175) == 22.9
    assert bmi(3.4, 50) == 13.6
    assert bmi(None, 175) is None
    assert bmi(70, None) is None
    assert VitalSigns(weight_kg=80).bmi is None


@given(st.floats(1, 400), st.floats(30, 250))
def test_bmi_has_one_decimal_and_matches_the_formula(weight: float, height: float) -> None:
    value = bmi(weight, height)
    assert value is not None
    assert abs(value - weight / (height / 100) ** 2) <= 0.05 + 1e-9
    assert round(value, 1) == value


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("weight_kg", 750, "Le poids (750 kg) n'est pas plausible"),
        ("weight_kg", 0.1, "Le poids"),
        ("height_cm", 1.75, "La taille (1,75 cm)"),
        ("temperature_c", 375, "La température"),
        ("temperature_c", 29.9, "entre 30 et 45 °C"),
        ("temperature_c", 45.1, "La température"),
        ("spo2_percent", 101, "SpO2"),
        ("heart_rate_bpm", 400, "fréquence cardiaque"),
        ("glucose_g_per_l", 95, "glycémie"),
        ("hba1c_percent", 61, "HbA1c"),
    ],
)
def test_implausible_values_are_refused(field: str, value: float, fragment: str) -> None:
    with pytest.raises(MeasurementError, match=re.escape(fragment)):
        VitalSigns(**{field: value})


def test_temperature_bounds_are_inclusive() -> None:
    assert VitalSigns(temperature_c=30).temperature_c == 30
    assert VitalSigns(temperature_c=45).temperature_c == 45


@pytest.mark.parametrize(
    ("systolic", "diastolic", "fragment"),
    [
        (49, 30, "systolique (49 mmHg)"),
        (301, 90, "systolique (301 mmHg)"),
        (80, 90, "supérieure à la diastolique (80/90"),
        (90, 90, "supérieure à la diastolique"),
        (120, None, "avec la systolique et la diastolique"),
        (None, 80, "avec la systolique et la diastolique"),
    ],
)
def test_blood_pressure_rules(systolic: int | None, diastolic: int | None, fragment: str) -> None:
    with pytest.raises(MeasurementError, match=re.escape(fragment)):
        VitalSigns(systolic_mmhg=systolic, diastolic_mmhg=diastolic)


def test_all_problems_are_listed() -> None:
    with pytest.raises(MeasurementError) as error:
        VitalSigns(weight_kg=-1, temperature_c=12, systolic_mmhg=70, diastolic_mmhg=80)
    assert len(error.value.problems) == 3


def test_parse_decimal_french_comma() -> None:
    assert parse_decimal("37,5") == 37.5
    assert parse_decimal(" 72.4 ") == 72.4
    assert parse_decimal("1 200") == 1200
    with pytest.raises(MeasurementError, match="« 37,5,1 » n'est pas un nombre"):
        parse_decimal("37,5,1", "La température")
