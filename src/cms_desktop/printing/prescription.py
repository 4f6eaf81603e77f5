"""Prescription printouts (*ordonnance* and *ordonnance bizone*) with every mention of
art. R.5132-3 CSP; a prescription the pharmacy would refuse is never printed.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Paragraph, Spacer, Table, TableStyle

from cms_desktop.domain.prescription import (
    LineKind,
    Prescription,
    PrescriptionError,
    PrescriptionLine,
    Zone,
    number_in_words,
    validate_prescription,
    weight_required,
)
from cms_desktop.printing.dto import CentreInfo, PatientInfo, PrescriberInfo
from cms_desktop.printing.layout import (
    MARGINS,
    PAGE_SIZES,
    PageSizeName,
    build_pdf,
    fr_date,
    markup,
    para,
    prescriber_lines,
    signature_block,
    styles,
)

ALD_HEADING = (
    "Prescriptions relatives au traitement de l'affection de longue durée reconnue "
    "(liste ou hors liste)"
)
ALD_SUBHEADING = "(AFFECTION EXONÉRANTE)"
OTHER_HEADING = "Prescriptions SANS RAPPORT avec l'affection de longue durée"
OTHER_SUBHEADING = "(MALADIES INTERCURRENTES)"


def render_prescription(
    centre: CentreInfo,
    prescriber: PrescriberInfo,
    patient: PatientInfo,
    prescription: Prescription,
    page_size: PageSizeName = "A5",
) -> bytes:
    """The PDF of a prescription; a bizone prescription gets the official ALD layout."""
    if prescription.bizone:
        return render_bizone(centre, prescriber, patient, prescription, page_size)
    _check(patient, prescription)
    width = _body_width(page_size)
    signature = _signature(prescriber, prescription, width, page_size)
    story = [_lines_table(prescription.lines, None, width, page_size, signature)]
    return build_pdf(
        story,
        centre=centre,
        title="Ordonnance",
        size=page_size,
        repeated=_mentions(prescriber, patient, prescription, width, page_size),
    )


def render_bizone(
    centre: CentreInfo,
    prescriber: PrescriberInfo,
    patient: PatientInfo,
    prescription: Prescription,
    page_size: PageSizeName = "A5",
) -> bytes:
    """The *ordonnance bizone*: ALD zone above the line, unrelated illnesses below it."""
    if not prescription.bizone:
        raise PrescriptionError("Cette ordonnance n'est pas une ordonnance bizone")
    _check(patient, prescription)
    width = _body_width(page_size)
    signature = _signature(prescriber, prescription, width, page_size)
    story: list[Flowable] = [
        _lines_table(prescription.lines_in(Zone.ALD), Zone.ALD, width, page_size),
        Spacer(1, 2 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colors.black, spaceAfter=2 * mm),
        _lines_table(prescription.lines_in(Zone.OTHER), Zone.OTHER, width, page_size, signature),
    ]
    return build_pdf(
        story,
        centre=centre,
        title="Ordonnance bizone",
        size=page_size,
        repeated=_mentions(prescriber, patient, prescription, width, page_size),
    )


def _check(patient: PatientInfo, prescription: Prescription) -> None:
    validate_prescription(prescription, patient.has_ald, patient.birth_date)
    if weight_required(patient.birth_date, prescription.issued_on) and patient.weight_kg is None:
        raise PrescriptionError(
            "Le poids du patient est obligatoire sur l'ordonnance d'un enfant (moins de 18 ans)"
        )


def _body_width(size: PageSizeName) -> float:
    return PAGE_SIZES[size][0] - 2 * MARGINS[size]


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _mentions(
    prescriber: PrescriberInfo,
    patient: PatientInfo,
    prescription: Prescription,
    width: float,
    size: PageSizeName,
) -> list[Flowable]:
    """Prescriber and patient blocks with the date, repeated on every page."""
    on = prescription.issued_on
    patient_cells: list[Flowable] = [
        para(f"Le {fr_date(on)}", "right", size),
        para(patient.display_name, "bold", size),
        para(
            f"Sexe : {patient.sex_label} — Né(e) le {fr_date(patient.birth_date)} "
            f"({patient.age_label(on)})",
            "small",
            size,
        ),
    ]
    body = []
    if patient.weight_kg is not None:
        body.append(f"Poids : {_number(patient.weight_kg)} kg")
    if patient.height_cm is not None:
        body.append(f"Taille : {_number(patient.height_cm)} cm")
    if body:
        patient_cells.append(para(" — ".join(body), "small", size))
    half = width / 2
    table = Table(
        [[prescriber_lines(prescriber, size), patient_cells]],
        colWidths=[half, half],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, -1), 3 * mm),
                ("RIGHTPADDING", (1, 0), (1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm),
            ]
        ),
    )
    return [table]


def line_paragraphs(number: int, line: PrescriptionLine, size: PageSizeName) -> list[Paragraph]:
    """One prescription line: DCI first, then brand, strength, form; dosage; duration."""
    e = escape
    details: list[str] = []
    if line.kind is LineKind.FREE_TEXT:
        head = f"<b>{number}.</b> " + e(line.text).replace("\n", "<br/>")
    else:
        head = f"<b>{number}. {e(line.dci.upper())}</b>"
        if line.brand:
            head += f" ({e(line.brand)})"
        head += "".join(f" {e(part)}" for part in (line.strength, line.form) if part)
        if line.is_narcotic:
            head += " <i>[stupéfiant]</i>"
        if line.non_substitution is not None:
            head += f" — <b>Non substituable ({line.non_substitution.value})</b>"
        route = f" — voie {e(line.route)}" if line.route else ""
        details.append(e(line.dosage) + route)
        amount: list[str] = []
        if line.duration:
            amount.append(f"Durée : {e(line.duration)}")
        if line.quantity is not None:
            count = str(line.quantity)
            if line.is_narcotic:  # R.5132-29 CSP: quantities written in letters
                count = f"{number_in_words(line.quantity)} ({line.quantity})"
            unit = f" {e(line.quantity_unit)}" if line.quantity_unit else ""
            amount.append(f"Quantité : {count}{unit}")
        if amount:
            details.append(" — ".join(amount))
    if line.renewals:
        details.append(f"<b>À renouveler {line.renewals} fois</b>")
    paragraphs = [markup(head, "body", size)]
    paragraphs += [markup(text, "indent", size) for text in details]
    return paragraphs


def _lines_table(
    lines: tuple[PrescriptionLine, ...],
    zone: Zone | None,
    width: float,
    size: PageSizeName,
    signature: Flowable | None = None,
) -> Table:
    """Lines as table rows: a row never splits, a zone heading repeats on the next page and
    the signature never leaves the last line alone.
    """
    rows: list[list[Any]] = []
    if zone is not None:
        heading, sub = (
            (ALD_HEADING, ALD_SUBHEADING) if zone is Zone.ALD else (OTHER_HEADING, OTHER_SUBHEADING)
        )
        rows.append([[para(heading, "bold", size), para(sub, "bold", size)]])
    numbers = range(1, len(lines) + 1)
    rows += [[line_paragraphs(n, line, size)] for n, line in zip(numbers, lines, strict=True)]
    if zone is not None and not lines:
        rows.append([[para("(aucune prescription)", "italic", size)]])
    leading = styles(size)["body"].leading
    style = TableStyle(
        [
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), leading * 0.3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), leading * 0.3),
        ]
    )
    if signature is not None:
        rows.append([signature])
        style.add("TOPPADDING", (0, -1), (-1, -1), leading)
        style.add("NOSPLIT", (0, -2), (-1, -1))
    return Table(
        rows, colWidths=[width], repeatRows=1 if zone is not None else 0, style=style, hAlign="LEFT"
    )


def _signature(
    prescriber: PrescriberInfo, prescription: Prescription, width: float, size: PageSizeName
) -> Flowable:
    return signature_block(prescriber, f"Le {fr_date(prescription.issued_on)}", width, size)
