"""Synthetic centre, prescriber and patients shared by the printing tests."""

from __future__ import annotations

from datetime import date

import pytest

from cms_desktop.printing.dto import CentreInfo, PatientInfo, PrescriberInfo


@pytest.fixture
def centre() -> CentreInfo:
    return CentreInfo(
        name="Centre municipal de santé de Villebourg",
        address_lines=("Espace Émile Zola, 2e étage", "3 rue des Écoles", "99000 Villebourg"),
        phone="01 23 45 67 89",
        finess="990001234",
    )


@pytest.fixture
def prescriber() -> PrescriberInfo:
    return PrescriberInfo(
        full_name="Dr Zoé Lœwenbrück",
        profession="Médecin",
        specialty="Médecine générale",
        rpps="10000000001",
    )


@pytest.fixture
def adult() -> PatientInfo:
    return PatientInfo(
        birth_name="Testelin",
        given_names=("Héloïse", "Maëlle"),
        sex="F",
        birth_date=date(1980, 3, 12),
        used_name="Exemplaire",
        weight_kg=61.5,
        has_ald=True,
    )


@pytest.fixture
def child() -> PatientInfo:
    return PatientInfo(
        birth_name="Petitjean",
        given_names=("Noé",),
        sex="M",
        birth_date=date(2022, 5, 1),
        weight_kg=14.2,
    )
