"""Letters, agenda printouts, the record copy and the shared layout, read back from the PDF."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, time

import pytest
from PIL import Image

from cms_desktop.printing.agenda import render_appointment_card, render_day_list
from cms_desktop.printing.dto import (
    AmendmentEntry,
    AppointmentCardDoc,
    CentreInfo,
    CertificateDoc,
    ConsultationEntry,
    DayListDoc,
    DayListRow,
    DocumentEntry,
    PatientInfo,
    PrescriberInfo,
    PrintingError,
    RecordCopyDoc,
    RecordRequestInfo,
    ReferralLetterDoc,
)
from cms_desktop.printing.layout import fr_long_date, fr_long_datetime
from cms_desktop.printing.letters import render_certificate, render_referral_letter
from cms_desktop.printing.record_copy import render_record_copy

from .pdfread import first_position, pages_text

TODAY = date(2026, 11, 23)


def text_of(pdf: bytes) -> str:
    return " ".join(pages_text(pdf))


def png(width: int = 60, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 60, 140)).save(out, format="PNG")
    return out.getvalue()


# --- letters -------------------------------------------------------------------------------


@pytest.mark.parametrize("in_hand", [True, False])
def test_certificate(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo, in_hand: bool
) -> None:
    doc = CertificateDoc(
        TODAY, "Villebourg", "Absence de contre-indication au sport.", delivered_in_hand=in_hand
    )
    text = text_of(render_certificate(centre, prescriber, adult, doc))
    for mention in (
        "Certificat médical",
        prescriber.full_name,
        "RPPS : 10000000001",
        "TESTELIN Héloïse Maëlle",
        "né(e) le 12/03/1980",
        "Absence de contre-indication au sport.",
        "Fait à Villebourg, le 23/11/2026",
    ):
        assert mention in text
    mention = "Certificat établi à la demande de l'intéressé(e) et remis en main propre"
    assert (mention in text) is in_hand


def test_referral_letter(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    letter = ReferralLetterDoc(
        issued_on=TODAY,
        place="Villebourg",
        addressee=("Dr Jules Essai", "Cardiologie", "Hôpital de Villebourg"),
        reason="Avis sur un souffle cardiaque",
        body="Cher confrère,\n\nJe vous adresse ma patiente.",
        sections=(("Antécédents", ("HTA depuis 2015", "Appendicectomie")), ("Allergies", ())),
    )
    pdf = render_referral_letter(centre, prescriber, adult, letter)
    text = text_of(pdf)
    for mention in (
        "Lettre d'adressage",
        "Dr Jules Essai",
        "Hôpital de Villebourg",
        "Objet : Avis sur un souffle cardiaque",
        "Je vous adresse ma patiente.",
        "Antécédents",
        "• HTA depuis 2015",
        "Allergies Néant",
        "Fait à Villebourg, le 23/11/2026",
    ):
        assert mention in text
    assert first_position(pdf, "Antécédents") < first_position(pdf, "HTA depuis 2015")
    assert first_position(pdf, "HTA depuis 2015") < first_position(pdf, "Allergies")


def test_long_letter_body_flows_onto_more_pages(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    body = "\n\n".join(f"Paragraphe {i} : " + "observation détaillée " * 30 for i in range(40))
    pdf = render_certificate(centre, prescriber, adult, CertificateDoc(TODAY, "Villebourg", body))
    pages = pages_text(pdf)
    assert len(pages) >= 3
    assert all(prescriber.full_name in page for page in pages)
    assert "Paragraphe 39" in pages[-1]


# --- agenda -------------------------------------------------------------------------------


def test_french_dates() -> None:
    assert fr_long_datetime(datetime(2026, 11, 23, 10, 20)) == "lundi 23 novembre 2026 à 10:20"
    assert fr_long_date(date(2027, 8, 1)) == "dimanche 1 août 2027"
    assert fr_long_date(date(2026, 2, 4)) == "mercredi 4 février 2026"


def _row(i: int) -> DayListRow:
    start = time(8 + i // 4, (i % 4) * 15)
    end = time(8 + i // 4, (i % 4) * 15 + 14)
    return DayListRow(
        start, end, f"PATIENT Fictif {i:02d}", "Consultation", "Renouvellement", "Prévu"
    )


def test_day_list(centre: CentreInfo) -> None:
    rows = (
        _row(3),
        _row(1),
        DayListRow(
            time(9, 0), time(9, 20), "ÉTIENNE Françoise", "Visite à domicile", "Pansement", "Arrivé"
        ),
    )
    pdf = render_day_list(centre, DayListDoc(TODAY, "Dr Zoé Lœwenbrück", rows))
    text = text_of(pdf)
    for mention in (
        "Liste des rendez-vous",
        "Dr Zoé Lœwenbrück — lundi 23 novembre 2026",
        "Heure",
        "Statut",
        "ÉTIENNE Françoise",
        "Visite à domicile",
        "Arrivé",
        "3 rendez-vous",
    ):
        assert mention in text
    # Rows come out in time order whatever the input order.
    assert first_position(pdf, "PATIENT Fictif 01") < first_position(pdf, "PATIENT Fictif 03")
    assert first_position(pdf, "PATIENT Fictif 03") < first_position(pdf, "ÉTIENNE")


def test_long_day_list_repeats_column_headings(centre: CentreInfo) -> None:
    rows = tuple(_row(i) for i in range(40))
    pages = pages_text(render_day_list(centre, DayListDoc(TODAY, "Cabinet 2", rows)))
    assert len(pages) >= 2
    for page in pages:
        assert "Heure Patient Type Motif Statut" in page and "Cabinet 2" in page
    assert "PATIENT Fictif 39" in pages[-1]


def test_empty_day_list(centre: CentreInfo) -> None:
    assert "Aucun rendez-vous ce jour." in text_of(
        render_day_list(centre, DayListDoc(TODAY, "Cabinet 1", ()))
    )


def test_appointment_card(centre: CentreInfo) -> None:
    card = AppointmentCardDoc(
        "Mme Héloïse TESTELIN", "Dr Zoé Lœwenbrück", datetime(2026, 11, 23, 10, 20), "Cabinet 3"
    )
    text = text_of(render_appointment_card(centre, card))
    for mention in (
        centre.name,
        "Mme Héloïse TESTELIN",
        "lundi 23 novembre 2026 à 10:20",
        "avec Dr Zoé Lœwenbrück",
        "Cabinet 3",
        "3 rue des Écoles",
        "01 23 45 67 89",
        "En cas d'empêchement, merci de prévenir",
    ):
        assert mention in text


# --- record copy ------------------------------------------------------------------------


def _record(patient: PatientInfo, consultations: int, documents: int) -> RecordCopyDoc:
    entries = tuple(
        ConsultationEntry(
            held_on=date(2020 + i % 6, 1 + i % 12, 1 + i % 28),
            practitioner="Dr Zoé Lœwenbrück",
            reason=f"Motif fictif {i}",
            exam="Examen : température 38,5 °C, auscultation normale.",
            diagnosis="Rhinopharyngite",
            treatment="Paracétamol 1 g si fièvre",
            conclusion="Revoir si aggravation.",
            amendments=(
                AmendmentEntry(date(2026, 1, 5), "Dr Zoé Lœwenbrück", f"Rectification {i}"),
            )
            if i % 50 == 0
            else (),
        )
        for i in range(consultations)
    )
    docs = tuple(
        DocumentEntry(f"Compte rendu fictif {i}", date(2024, 1, 1 + i % 28), "Compte rendu")
        for i in range(documents)
    )
    request = RecordRequestInfo("DA-2026-0042", "Le patient lui-même", date(2026, 11, 20), TODAY)
    synthesis = (("Antécédents", ("Asthme",)), ("Allergies", ("Pénicilline — œdème",)))
    return RecordCopyDoc(request, patient, synthesis, entries, docs)


def test_record_copy_content_and_reference_on_every_page(
    centre: CentreInfo, adult: PatientInfo
) -> None:
    pdf = render_record_copy(centre, _record(adult, 60, 12))
    pages = pages_text(pdf)
    assert len(pages) >= 3
    cover = pages[0]
    for mention in (
        "Demande n° DA-2026-0042",
        "Demandeur : Le patient lui-même",
        "Date de la demande : 20/11/2026",
        "Date de délivrance : 23/11/2026",
        "L.1111-7",
    ):
        assert mention in cover
    assert "Consultation du" not in cover  # the cover page stands alone
    for number, page in enumerate(pages, start=1):
        assert "demande n° DA-2026-0042" in page
        assert f"Page {number}/{len(pages)}" in page
    text = " ".join(pages)
    for mention in (
        "Nom de naissance : TESTELIN",
        "Prénom(s) : Héloïse Maëlle",
        "Nom d'usage : EXEMPLAIRE",
        "Fiche de synthèse",
        "• Pénicilline — œdème",
        "Consultations (60)",
        "Motif : Motif fictif 59",
        "Examen clinique : Examen : température 38,5 °C",
        "Diagnostic : Rhinopharyngite",
        "Traitement : Paracétamol 1 g si fièvre",
        "Conclusion : Revoir si aggravation.",
        "Rectification du 05/01/2026 par Dr Zoé Lœwenbrück : Rectification 50",
        "Documents joints (12)",
        "Compte rendu fictif 11",
    ):
        assert mention in text
    # Consultations in date order: 2020 before 2025.
    assert text.index("Consultation du 01/01/2020") < text.index("/2025 — ")


def test_record_copy_holds_every_consultation_and_document(
    centre: CentreInfo, adult: PatientInfo
) -> None:
    # Its speed is measured by bench/bench_printing.py, not asserted here.
    record = _record(adult, 300, 50)
    pdf = render_record_copy(centre, record)
    text = text_of(pdf)
    assert text.count("Consultation du") == 300
    assert "Compte rendu fictif 49" in text


# --- layout -------------------------------------------------------------------------------


def test_logo_and_signature_images(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    with_logo = dataclasses.replace(centre, logo_png=png(400, 100))
    signed = dataclasses.replace(prescriber, signature_png=png(300, 120))
    pdf = render_certificate(
        with_logo, signed, adult, CertificateDoc(TODAY, "Villebourg", "Texte.")
    )
    assert pdf.count(b"/Subtype /Image") == 2
    assert centre.name in text_of(pdf)


def test_bad_image_is_a_french_error(
    centre: CentreInfo, prescriber: PrescriberInfo, adult: PatientInfo
) -> None:
    broken = dataclasses.replace(centre, logo_png=b"not an image")
    with pytest.raises(PrintingError, match="Image illisible"):
        render_certificate(broken, prescriber, adult, CertificateDoc(TODAY, "Villebourg", "Texte."))


def test_oversized_header_is_a_french_error(centre: CentreInfo) -> None:
    huge = dataclasses.replace(centre, address_lines=tuple(f"Ligne {i}" for i in range(60)))
    with pytest.raises(PrintingError, match="En-tête trop long"):
        render_appointment_card(huge, AppointmentCardDoc("X", "Y", datetime(2026, 11, 23, 9, 0)))
