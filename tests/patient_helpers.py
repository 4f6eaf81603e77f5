"""Synthetic patients for the tests: forms with valid NIRs (no real person)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cms_desktop.domain.nir import compute_nir_key
from cms_desktop.services.patient_form import PatientForm


def make_nir(
    sex: str, birth: date, dept: str = "75", commune: str = "056", order: str = "123"
) -> str:
    first13 = (
        f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{dept}{commune}{order}"
    )
    return first13 + f"{compute_nir_key(first13):02d}"


def form(**changes: object) -> PatientForm:
    base = PatientForm(
        birth_name="Dupont",
        first_given_name="Jean",
        birth_date="05/03/1980",
        sex="M",
        given_names="Jean Marie",
        phone_mobile="06 12 34 56 78",
    )
    return replace(base, **changes)  # type: ignore[arg-type]
