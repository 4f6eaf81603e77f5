"""Letters signed by a practitioner: the medical certificate and the referral letter."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from cms_desktop.printing.dto import (
    CentreInfo,
    CertificateDoc,
    PatientInfo,
    PrescriberInfo,
    ReferralLetterDoc,
)
from cms_desktop.printing.layout import (
    _TIGHT,
    MARGINS,
    PAGE_SIZES,
    PageSizeName,
    build_pdf,
    fr_date,
    para,
    prescriber_lines,
    signature_block,
)

IN_HAND_MENTION = "Certificat établi à la demande de l'intéressé(e) et remis en main propre."


def _width(size: PageSizeName) -> float:
    return PAGE_SIZES[size][0] - 2 * MARGINS[size]


def _patient_line(patient: PatientInfo, age_label: str) -> str:
    return f"{patient.display_name}, né(e) le {fr_date(patient.birth_date)} ({age_label})"


def _body(text: str, size: PageSizeName) -> list[Flowable]:
    """Free text, one paragraph per blank-line-separated block."""
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    out: list[Flowable] = []
    for block in blocks:
        out += [para(block, "body", size), Spacer(1, 2 * mm)]
    return out


def render_certificate(
    centre: CentreInfo,
    prescriber: PrescriberInfo,
    patient: PatientInfo,
    certificate: CertificateDoc,
    page_size: PageSizeName = "A4",
) -> bytes:
    width = _width(page_size)
    story: list[Flowable] = [
        Spacer(1, 4 * mm),
        para(
            f"Je soussigné(e), {prescriber.full_name}, certifie avoir examiné :", "body", page_size
        ),
        Spacer(1, 1 * mm),
        para(_patient_line(patient, patient.age_label(certificate.issued_on)), "bold", page_size),
        Spacer(1, 3 * mm),
        *_body(certificate.body, page_size),
    ]
    closing: list[Flowable] = []
    if certificate.delivered_in_hand:
        closing += [para(IN_HAND_MENTION, "italic", page_size), Spacer(1, 3 * mm)]
    caption = f"Fait à {certificate.place}, le {fr_date(certificate.issued_on)}"
    closing.append(signature_block(prescriber, caption, width, page_size))
    story.append(KeepTogether(closing))
    return build_pdf(
        story,
        centre=centre,
        title=certificate.title,
        size=page_size,
        repeated=[Spacer(1, 2 * mm), *prescriber_lines(prescriber, page_size)],
    )


def render_referral_letter(
    centre: CentreInfo,
    prescriber: PrescriberInfo,
    patient: PatientInfo,
    letter: ReferralLetterDoc,
    page_size: PageSizeName = "A4",
) -> bytes:
    """Letter to a colleague with the synthesis sections the practitioner chose to share."""
    width = _width(page_size)
    addressee = [para(line, "body", page_size) for line in letter.addressee]
    story: list[Flowable] = [
        Spacer(1, 3 * mm),
        Table(
            [["", addressee]],
            colWidths=[width * 0.55, width * 0.45],
            style=_TIGHT,
        ),
        Spacer(1, 6 * mm),
        para(f"Objet : {letter.reason}", "bold", page_size),
        para(
            "Patient(e) : " + _patient_line(patient, patient.age_label(letter.issued_on)),
            "body",
            page_size,
        ),
        Spacer(1, 4 * mm),
        *_body(letter.body, page_size),
    ]
    if letter.sections:
        story.append(para("Éléments du dossier transmis", "heading", page_size))
    for title, lines in letter.sections:
        story.append(para(title, "bold", page_size))
        story += [para(f"• {line}", "indent", page_size) for line in lines] or [
            para("Néant", "indent", page_size)
        ]
    caption = f"Fait à {letter.place}, le {fr_date(letter.issued_on)}"
    story += [Spacer(1, 4 * mm), signature_block(prescriber, caption, width, page_size)]
    return build_pdf(
        story,
        centre=centre,
        title="Lettre d'adressage",
        size=page_size,
        repeated=[Spacer(1, 2 * mm), *prescriber_lines(prescriber, page_size)],
    )
