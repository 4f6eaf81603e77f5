"""Prescription PDFs read back: every R.5132-3 mention, zones of the bizone form, pages."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4, A5

from cms_desktop.domain.prescription import (
    LineKind,
    Prescription,
    PrescriptionError,
    PrescriptionLine,
    Zone,
)
from cms_desktop.printing.dto import CentreInfo, PatientInfo, PrescriberInfo
from cms_desktop.printing.prescription import (
    ALD_HEADING,
    OTHER_HEADING,
    render_bizone,
    render_prescription,
)

from .pdfread import first_position, page_width, pages_text

TODAY = date(2026, 11, 23)

LEVOTHYROX = PrescriptionLine(
    dci="lévothyroxine sodique",
    brand="Levothyrox",
    strength="75 µg",
    form="comprimé sécable",
    dosage="1 comprimé le matin à jeun",
    route="orale",
    duration="3 mois",
    renewals=2,
    non_substitutable="MTE",
    zone=Zone.ALD,
)
AMOXICILLINE = PrescriptionLine(
    dci="amoxicilline",
    strength="1 g",
    form="comprimé dispersible",
    dosage="1 comprimé matin et soir",
    route="orale",
    quantity=2,
    quantity_unit="boîtes",
)
MORPHINE = PrescriptionLine(
    dci="morphine",
    strength="dix milligrammes",
    form="gélule à libération prolongée",
    dosage="une gélule matin et soir",
    route="orale",
    quantity=28,
    quantity_unit="gélules",
    is_narcotic=True,
    zone=Zone.ALD,
)
SOINS = PrescriptionLine(
    kind=LineKind.FREE_TEXT, text="Prise de sang à domicile : NFS, créatinine", renewals=1
)


def rx(*lines: PrescriptionLine, bizone: bool = False) -> Prescription:
    return Prescription(lines, TODAY, bizone)


def full_text(pdf: bytes) -> str:
    return " ".join(pages_text(pdf))


def test_every_mandatory_mention_is_printed(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    line = dataclasses.replace(LEVOTHYROX, zone=Zone.OTHER)
    text = full_text(render_prescription(centre, prescriber, adult, rx(line, AMOXICILLINE)))
    expected = [
        centre.name,
        *centre.address_lines,
        centre.phone,
        f"FINESS : {centre.finess}",
        prescriber.full_name,
        "Médecin — Médecine générale",
        "RPPS : 10000000001",
        "23/11/2026",
        "TESTELIN Héloïse Maëlle",
        "nom d'usage : EXEMPLAIRE",
        "Sexe : Féminin",
        "Né(e) le 12/03/1980 (46 ans)",
        "Poids : 61,5 kg",
        "LÉVOTHYROXINE SODIQUE (Levothyrox) 75 µg comprimé sécable",
        "Non substituable (MTE)",
        "1 comprimé le matin à jeun — voie orale",
        "Durée : 3 mois",
        "À renouveler 2 fois",
        "AMOXICILLINE 1 g comprimé dispersible",
        "Quantité : 2 boîtes",
        "Signature",
    ]
    missing = [mention for mention in expected if mention not in text]
    assert not missing


def test_dci_comes_before_brand(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    line = dataclasses.replace(LEVOTHYROX, zone=Zone.OTHER)
    text = full_text(render_prescription(centre, prescriber, adult, rx(line)))
    assert text.index("LÉVOTHYROXINE") < text.index("Levothyrox")


def test_narcotic_quantity_in_letters(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    line = dataclasses.replace(MORPHINE, zone=Zone.OTHER)
    text = full_text(render_prescription(centre, prescriber, adult, rx(line)))
    assert "Quantité : vingt-huit (28) gélules" in text
    assert "stupéfiant" in text


def test_child_needs_weight(
    centre: CentreInfo, prescriber: PrescriberInfo, child: PatientInfo
) -> None:
    text = full_text(render_prescription(centre, prescriber, child, rx(AMOXICILLINE)))
    assert "Poids : 14,2 kg" in text and "(4 ans)" in text
    weightless = dataclasses.replace(child, weight_kg=None)
    with pytest.raises(PrescriptionError, match="poids"):
        render_prescription(centre, prescriber, weightless, rx(AMOXICILLINE))


def test_invalid_prescription_is_never_printed(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    with pytest.raises(PrescriptionError, match="aucune ligne"):
        render_prescription(centre, prescriber, adult, rx())
    no_dosage = dataclasses.replace(AMOXICILLINE, dosage="")
    with pytest.raises(PrescriptionError, match="Ligne 2 : posologie manquante"):
        render_prescription(centre, prescriber, adult, rx(AMOXICILLINE, no_dosage))


def test_page_sizes(centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo) -> None:
    a5 = render_prescription(centre, prescriber, adult, rx(AMOXICILLINE))
    a4 = render_prescription(centre, prescriber, adult, rx(AMOXICILLINE), page_size="A4")
    assert page_width(a5) == pytest.approx(A5[0])
    assert page_width(a4) == pytest.approx(A4[0])


def test_french_characters_survive(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    sample = "Soins : é è ê à ç œ Œ « guillemets » 12 € l’infirmière"
    line = PrescriptionLine(kind=LineKind.FREE_TEXT, text=sample)
    text = full_text(render_prescription(centre, prescriber, adult, rx(line)))
    assert sample in text


def test_markup_in_user_text_is_printed_literally(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    line = PrescriptionLine(kind=LineKind.FREE_TEXT, text="Bilan <b>urgent</b> & contrôle")
    text = full_text(render_prescription(centre, prescriber, adult, rx(line)))
    assert "Bilan <b>urgent</b> & contrôle" in text


def test_long_prescription_continues_with_mentions_repeated(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    lines = [dataclasses.replace(AMOXICILLINE, dci=f"médicament {i}") for i in range(1, 11)]
    pdf = render_prescription(centre, prescriber, adult, rx(*lines))
    pages = pages_text(pdf)
    assert len(pages) == 2
    for number, page in enumerate(pages, start=1):
        for mention in (centre.name, prescriber.full_name, "RPPS : 10000000001"):
            assert mention in page
        assert "TESTELIN Héloïse" in page and "23/11/2026" in page
        assert f"Page {number}/2" in page
    assert "Ordonnance (suite)" in pages[1] and "(suite)" not in pages[0]
    assert "MÉDICAMENT 10" in pages[1] and "Signature" in pages[1]
    assert "Signature" not in pages[0]


def test_output_is_deterministic(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    prescription = rx(LEVOTHYROX, AMOXICILLINE, bizone=True)
    first = render_prescription(centre, prescriber, adult, prescription)
    assert render_prescription(centre, prescriber, adult, prescription) == first
    # Rebuilt in a fresh interpreter (no font or cache state shared) the bytes are the same.
    script = (
        "import sys, pickle; from cms_desktop.printing.prescription import render_prescription;"
        "sys.stdout.buffer.write(render_prescription(*pickle.loads(sys.stdin.buffer.read())))"
    )
    import pickle

    src = Path(__file__).resolve().parents[3] / "src"
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps((centre, prescriber, adult, prescription)),
        capture_output=True,
        env={"PYTHONPATH": str(src)},
        check=True,
    )
    assert result.stdout == first


# --- bizone -------------------------------------------------------------------------------


def test_bizone_headings_and_zones(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    pdf = render_bizone(
        centre, prescriber, adult, rx(AMOXICILLINE, LEVOTHYROX, SOINS, MORPHINE, bizone=True)
    )
    text = full_text(pdf)
    for heading in (
        ALD_HEADING,
        "(AFFECTION EXONÉRANTE)",
        OTHER_HEADING,
        "(MALADIES INTERCURRENTES)",
    ):
        assert heading in text
    assert ALD_HEADING == (
        "Prescriptions relatives au traitement de l'affection de longue durée reconnue "
        "(liste ou hors liste)"
    )
    assert OTHER_HEADING == "Prescriptions SANS RAPPORT avec l'affection de longue durée"
    upper = first_position(pdf, "Prescriptions relatives")
    lower = first_position(pdf, "Prescriptions SANS RAPPORT")
    assert upper < first_position(pdf, "LÉVOTHYROXINE") < lower
    assert upper < first_position(pdf, "MORPHINE") < lower
    assert lower < first_position(pdf, "AMOXICILLINE")
    assert lower < first_position(pdf, "Prise de sang à domicile")


def test_bizone_patient_and_prescriber_blocks_above_both_zones(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    pdf = render_bizone(centre, prescriber, adult, rx(LEVOTHYROX, AMOXICILLINE, bizone=True))
    upper = first_position(pdf, "Prescriptions relatives")
    assert first_position(pdf, prescriber.full_name) < upper
    assert first_position(pdf, "TESTELIN") < upper


def test_long_bizone_repeats_mentions_and_zone_heading_on_page_two(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    ald = [dataclasses.replace(LEVOTHYROX, dci=f"traitement ald {i}") for i in range(1, 6)]
    other = dataclasses.replace(AMOXICILLINE, dci="autre 1")
    pdf = render_bizone(centre, prescriber, adult, rx(*ald, other, bizone=True))
    pages = pages_text(pdf)
    assert len(pages) == 2
    for page in pages:
        assert prescriber.full_name in page and "TESTELIN" in page and "23/11/2026" in page
    assert "Ordonnance bizone (suite)" in pages[1]
    # The ALD zone continues on page 2 under its repeated heading, above the lower zone.
    assert "TRAITEMENT ALD 5" in pages[1] and "TRAITEMENT ALD 5" not in pages[0]
    assert pages[1].index(ALD_HEADING) < pages[1].index("TRAITEMENT ALD 5")
    last_ald = first_position(pdf, "TRAITEMENT ALD 5")
    assert last_ald < first_position(pdf, "Prescriptions SANS RAPPORT")
    assert first_position(pdf, "Prescriptions SANS RAPPORT") < first_position(pdf, "AUTRE 1")


def test_bizone_refused_without_ald(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    no_ald = dataclasses.replace(adult, has_ald=False)
    with pytest.raises(PrescriptionError, match="bizone impossible"):
        render_prescription(centre, prescriber, no_ald, rx(LEVOTHYROX, bizone=True))
    with pytest.raises(PrescriptionError):
        render_bizone(centre, prescriber, adult, rx(AMOXICILLINE))


def test_prescription_dispatches_bizone(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    prescription = rx(LEVOTHYROX, bizone=True)
    assert render_prescription(centre, prescriber, adult, prescription) == render_bizone(
        centre, prescriber, adult, prescription
    )
    assert "(aucune prescription)" in full_text(
        render_bizone(centre, prescriber, adult, prescription)
    )
