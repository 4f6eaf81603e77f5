"""The record copy joins the documents' content: images, appended PDF pages stamped with the
reference and the page number, and a French page for content that is not there."""

from __future__ import annotations

import io
from datetime import date

import pypdf
from reportlab.lib.pagesizes import A5, landscape

from cms_desktop.printing.dto import (
    CentreInfo,
    ConsultationEntry,
    DocumentEntry,
    PatientInfo,
    RecordCopyDoc,
    RecordRequestInfo,
)
from cms_desktop.printing.record_copy import render_record_copy
from tests.unit.printing import samples
from tests.unit.printing.pdfread import pages_text

REFERENCE = "DA-2026-K7P3-0042"
PDF = "application/pdf"


def _copy(adult: PatientInfo, documents: tuple[DocumentEntry, ...]) -> RecordCopyDoc:
    request = RecordRequestInfo(
        REFERENCE, "Le patient lui-même", date(2026, 11, 20), date(2026, 11, 23)
    )
    consultations = tuple(
        ConsultationEntry(date(2025, 1, 1 + i), "Dr Zoé Lœwenbrück", f"Motif {i}") for i in range(3)
    )
    return RecordCopyDoc(request, adult, (), consultations, documents)


def _assert_every_page_numbered(pages: list[str]) -> None:
    for number, text in enumerate(pages, start=1):
        assert f"demande n° {REFERENCE}" in text, number
        assert f"Page {number}/{len(pages)}" in text, number


def test_pdf_pages_are_appended_stamped_and_numbered(
    centre: CentreInfo, adult: PatientInfo
) -> None:
    documents = (
        DocumentEntry(
            "Compte rendu du CHU",
            date(2024, 5, 2),
            "Courrier hospitalier",
            PDF,
            samples.pdf(3, "Compte rendu CHU"),
        ),
        DocumentEntry(
            "Bilan sanguin",
            date(2024, 6, 1),
            "Résultat d'examen",
            PDF,
            samples.pdf(1, "Bilan sanguin", landscape(A5)),
        ),
    )
    pdf = render_record_copy(centre, _copy(adult, documents))
    pages = pages_text(pdf)
    _assert_every_page_numbered(pages)
    appended = [i for i, text in enumerate(pages) if "page originale" in text]
    assert len(appended) == 4
    assert appended == list(range(appended[0], appended[0] + 4))  # in order, no page between
    first = pages[appended[0]]
    assert "Compte rendu CHU - page originale 1" in first
    assert "Bas de la page originale 1" in first  # the original's bottom line is kept
    assert "Document joint n° 1 — Courrier hospitalier — Compte rendu du CHU (02/05/2024)" in first
    last = pages[appended[-1]]
    assert "Bilan sanguin - page originale 1" in last and "Document joint n° 2" in last
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[appended[-1]].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 420)  # A5 kept landscape
    listing = " ".join(pages[: appended[0]])
    assert "Joint ci-après (3 pages)" in listing and "Joint ci-après (1 page)" in listing


def test_images_are_embedded_one_per_page(centre: CentreInfo, adult: PatientInfo) -> None:
    documents = (
        DocumentEntry(
            "Radiographie",
            date(2024, 1, 3),
            "Résultat d'examen",
            "image/png",
            samples.png(1200, 800),
        ),
        DocumentEntry(
            "Photo de la plaie",
            date(2024, 1, 4),
            "Autre document médical",
            "image/jpeg",
            samples.jpeg(orientation=6),
        ),
    )
    pdf = render_record_copy(centre, _copy(adult, documents))
    pages = pages_text(pdf)
    _assert_every_page_numbered(pages)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    with_images = [i for i, page in enumerate(reader.pages) if list(page.images)]
    assert len(with_images) == 2
    assert "Document joint n° 1 — Résultat d'examen — Radiographie" in pages[with_images[0]]
    assert "Document joint n° 2" in pages[with_images[1]]
    photo = reader.pages[with_images[1]].images[0].image
    assert photo.height > photo.width  # turned upright from its EXIF orientation


def test_absent_or_unreadable_content_gets_a_page_saying_so(
    centre: CentreInfo, adult: PatientInfo
) -> None:
    documents = (
        DocumentEntry("Pas encore reçu", date(2024, 2, 1), "Courrier hospitalier", PDF, None),
        DocumentEntry("Abîmé", date(2024, 2, 2), "Courrier hospitalier", PDF, None, damaged=True),
        DocumentEntry("Cassé", date(2024, 2, 3), "Courrier hospitalier", PDF, b"%PDF-1.4 rien"),
        DocumentEntry(
            "Image cassée", date(2024, 2, 4), "Autre", "image/png", b"\x89PNG\r\n\x1a\nx"
        ),
    )
    pages = pages_text(render_record_copy(centre, _copy(adult, documents)))
    _assert_every_page_numbered(pages)
    text = " ".join(pages)
    assert "Non disponible sur ce poste" in text and "Endommagé sur ce poste" in text
    assert text.count("Illisible") == 2
    missing = next(p for p in pages if "Document joint n° 1 " in p)
    assert "pas encore été récupéré par la synchronisation" in missing
    assert "endommagé" in next(p for p in pages if "Document joint n° 2 " in p)
    assert "n'a pas pu être reproduit" in next(p for p in pages if "Document joint n° 4 " in p)
