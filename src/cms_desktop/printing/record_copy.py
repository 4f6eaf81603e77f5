"""The copy of the medical record given to a patient who asks for it (art. L.1111-7 CSP,
law of 4 March 2002): cover page, identity, ALD, synthesis (allergies included),
consultations with their vital signs and amendments, the prescriptions exactly as printed,
the list of documents then their content (images, PDF pages), the request's reference and
the page number on every page. A copy made during the 48-hour reflection delay is a draft:
every page says « projet — ne pas remettre avant le … » and it has no delivery date.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from cms_desktop.printing.attachments import (
    FitImage,
    PageMarker,
    PdfAttachment,
    UnreadableContent,
    assemble,
    load_image,
    numbering_for,
    read_pdf,
)
from cms_desktop.printing.dto import (
    CentreInfo,
    ConsultationEntry,
    DocumentEntry,
    PrescriptionCopy,
    RecordCopyDoc,
)
from cms_desktop.printing.layout import (
    MARGINS,
    PAGE_SIZES,
    PageSizeName,
    build_pdf,
    esc,
    fr_date,
    grid_style,
    markup,
    para,
)

TITLE = "Copie du dossier médical"
LEGAL_NOTE = (
    "Copie délivrée en application de l'article L.1111-7 du code de la santé publique "
    "(loi du 4 mars 2002 relative aux droits des malades). Les informations sont strictement "
    "personnelles et couvertes par le secret médical."
)
_FIELDS = (
    ("reason", "Motif"),
    ("exam", "Examen clinique"),
    ("diagnosis", "Diagnostic"),
    ("treatment", "Traitement"),
    ("conclusion", "Conclusion"),
)


def draft_mark(not_before_text: str) -> str:
    return f"projet — ne pas remettre avant le {not_before_text}"


def render_record_copy(
    centre: CentreInfo, record: RecordCopyDoc, page_size: PageSizeName = "A4"
) -> bytes:
    size = page_size
    request = record.request
    patient = record.patient
    width = PAGE_SIZES[size][0] - 2 * MARGINS[size]
    mark = draft_mark(request.not_before_text) if request.produced_on is None else ""
    story: list[Flowable] = [Spacer(1, 12 * mm)]
    if mark:
        story += [_draft_box(mark.upper(), size), Spacer(1, 6 * mm)]
    delivered = fr_date(request.produced_on) if request.produced_on else f"— ({mark})"
    story += [
        para(f"Demande n° {request.reference}", "title", size),
        Spacer(1, 8 * mm),
        _field("Patient(e)", patient.display_name, size),
        _field("Demandeur", request.requester, size),
        _field("Date de la demande", fr_date(request.requested_on), size),
        _field("Date de délivrance", delivered, size),
        _field("Nombre de consultations", str(len(record.consultations)), size),
        _field("Nombre d'ordonnances", str(len(record.prescriptions)), size),
        _field("Nombre de documents joints", str(len(record.documents)), size),
        Spacer(1, 8 * mm),
        para(LEGAL_NOTE, "italic", size),
        PageBreak(),
        para("Identité", "heading", size),
        _field("Nom de naissance", patient.birth_name.upper(), size),
        _field("Prénom(s)", " ".join(patient.given_names), size),
    ]
    if patient.used_name:
        story.append(_field("Nom d'usage", patient.used_name.upper(), size))
    story += [
        _field("Sexe", patient.sex_label, size),
        _field("Date de naissance", fr_date(patient.birth_date), size),
        para("Affections de longue durée (ALD)", "heading", size),
    ]
    story += [para(f"• {label}", "indent", size) for label in record.alds] or [
        para("Aucune affection de longue durée enregistrée.", "italic", size)
    ]
    if record.synthesis:
        story.append(para("Fiche de synthèse", "heading", size))
        for title, lines in record.synthesis:
            story.append(markup(f"<b>{esc(title)}</b>", "body", size))
            story += [para(f"• {line}", "indent", size) for line in lines] or [
                para("Néant", "indent", size)
            ]
    story.append(para(f"Consultations ({len(record.consultations)})", "heading", size))
    if not record.consultations:
        story.append(para("Aucune consultation.", "italic", size))
    for entry in sorted(record.consultations, key=lambda c: c.held_on):
        story += _consultation(entry, size)
    found: dict[int, PdfAttachment] = {}
    prescriptions = sorted(record.prescriptions, key=lambda p: p.issued_on)
    printed = [_prescription_pages(n, p, found) for n, p in enumerate(prescriptions, start=1)]
    story.append(para(f"Ordonnances ({len(prescriptions)})", "heading", size))
    if prescriptions:
        listed: list[list[Flowable]] = [
            [para(h, "bold", size) for h in ("N°", "Date", "Ordonnance", "Contenu")]
        ]
        listed += [
            [
                para(str(n), "small", size),
                para(fr_date(p.issued_on), "small", size),
                para(p.label, "small", size),
                para(status, "small", size),
            ]
            for n, (p, (status, _)) in enumerate(zip(prescriptions, printed, strict=True), 1)
        ]
        story.append(
            Table(
                listed,
                colWidths=[width * f for f in (0.06, 0.14, 0.5, 0.3)],
                repeatRows=1,
                style=grid_style(),
            )
        )
    else:
        story.append(para("Aucune ordonnance.", "italic", size))
    documents = sorted(record.documents, key=lambda d: d.dated)
    joined = [_document_pages(n, d, found, size) for n, d in enumerate(documents, start=1)]
    story.append(para(f"Documents joints ({len(documents)})", "heading", size))
    if documents:
        rows: list[list[Flowable]] = [
            [para(h, "bold", size) for h in ("N°", "Date", "Type", "Document", "Contenu")]
        ]
        rows += [
            [
                para(str(n), "small", size),
                para(fr_date(d.dated), "small", size),
                para(d.kind, "small", size),
                para(d.title, "small", size),
                para(status, "small", size),
            ]
            for n, (d, (status, _)) in enumerate(zip(documents, joined, strict=True), start=1)
        ]
        story.append(
            Table(
                rows,
                colWidths=[width * f for f in (0.06, 0.13, 0.24, 0.37, 0.2)],
                repeatRows=1,
                style=grid_style(),
            )
        )
    else:
        story.append(para("Aucun document.", "italic", size))
    for _, pages in printed:
        story += pages
    for _, pages in joined:
        story += pages
    footer = f"{TITLE} — demande n° {request.reference}"
    if mark:
        footer = f"{mark.upper()} — demande n° {request.reference}"
    laid_out = build_pdf(
        story,
        centre=centre,
        title=f"{TITLE} — PROJET" if mark else TITLE,
        size=size,
        footer_text=footer,
        numbering=numbering_for(found),
    )
    return assemble(laid_out, found, footer)


def _draft_box(text: str, size: PageSizeName) -> Flowable:
    return Table(
        [[para(text, "title", size)]],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        ),
    )


def _prescription_pages(
    number: int, prescription: PrescriptionCopy, found: dict[int, PdfAttachment]
) -> tuple[str, list[Flowable]]:
    """The stored PDF of a printed prescription, joined page for page."""
    caption = f"Ordonnance n° {number} du {fr_date(prescription.issued_on)} — telle qu'imprimée"
    try:
        attachment = read_pdf(prescription.pdf, caption)
    except UnreadableContent:
        return "Illisible", []
    pages = attachment.page_count
    return f"Jointe ci-après ({pages} page{'s' if pages > 1 else ''})", [
        PageBreak(),
        PageMarker(attachment, found),
    ]


def _caption(number: int, document: DocumentEntry) -> str:
    return f"Document joint n° {number} — {document.kind} — {document.title} ({fr_date(document.dated)})"


def _document_pages(
    number: int, document: DocumentEntry, found: dict[int, PdfAttachment], size: PageSizeName
) -> tuple[str, list[Flowable]]:
    """(status for the list, pages): a document starts on a new page with its image, a
    marker replaced later by its PDF pages, or a page saying why its content is absent."""
    caption = _caption(number, document)
    heading = para(caption, "bold", size)
    if document.content is None:
        status, reason = (
            ("Endommagé sur ce poste", _DAMAGED)
            if document.damaged
            else ("Non disponible sur ce poste", _MISSING)
        )
    else:
        try:
            if document.mime_type == "application/pdf":
                attachment = read_pdf(document.content, caption)
                pages = attachment.page_count
                label = f"Joint ci-après ({pages} page{'s' if pages > 1 else ''})"
                return label, [PageBreak(), PageMarker(attachment, found)]
            image = FitImage(load_image(document.content))
            return "Joint ci-après (image)", [PageBreak(), heading, Spacer(1, 2 * mm), image]
        except UnreadableContent:
            status, reason = "Illisible", _UNREADABLE
    box = Table(
        [[para(reason, "body", size)]],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    return status, [PageBreak(), heading, Spacer(1, 10 * mm), box]


_MISSING = (
    "Le contenu de ce document n'est pas encore disponible sur le poste qui a produit cette "
    "copie : il n'a pas encore été récupéré par la synchronisation entre les postes du centre. "
    "Il pourra être remis au demandeur dans une copie complémentaire."
)
_DAMAGED = (
    "Le contenu de ce document est endommagé sur le poste qui a produit cette copie : il "
    "sera récupéré auprès d'un autre poste du centre et pourra être remis au demandeur dans "
    "une copie complémentaire."
)
_UNREADABLE = (
    "Le contenu de ce document n'a pas pu être reproduit dans cette copie (fichier illisible "
    "ou protégé par un mot de passe). Il peut être consulté sur place ou remis séparément."
)


def _field(label: str, value: str, size: PageSizeName) -> Flowable:
    return markup(f"<b>{esc(label)} :</b> {esc(value)}", "body", size)


def _consultation(entry: ConsultationEntry, size: PageSizeName) -> list[Flowable]:
    """One paragraph per consultation: a long record lays out several times faster."""
    heading = para(f"Consultation du {fr_date(entry.held_on)} — {entry.practitioner}", "bold", size)
    heading.keepWithNext = True
    lines = [
        f"<b>{label} :</b> {esc(value)}"
        for attr, label in _FIELDS
        if (value := getattr(entry, attr)).strip()
    ]
    if entry.vitals:
        lines.append(f"<b>Constantes :</b> {esc(entry.vitals)}")
    lines += [
        f"<i>Rectification du {fr_date(a.made_on)} par {esc(a.author)} :</i> {esc(a.text)}"
        for a in entry.amendments
    ]
    out: list[Flowable] = [Spacer(1, 2 * mm), heading]
    if lines:
        out.append(markup("<br/>".join(lines), "body", size))
    return out
