"""The copy of the medical record given to a patient who asks for it (art. L.1111-7 CSP,
law of 4 March 2002): cover page, identity, synthesis, consultations with their amendments
and the list of documents, the request's reference on every page.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer, Table

from cms_desktop.printing.dto import CentreInfo, ConsultationEntry, RecordCopyDoc
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


def render_record_copy(
    centre: CentreInfo, record: RecordCopyDoc, page_size: PageSizeName = "A4"
) -> bytes:
    size = page_size
    request = record.request
    patient = record.patient
    width = PAGE_SIZES[size][0] - 2 * MARGINS[size]
    story: list[Flowable] = [
        Spacer(1, 12 * mm),
        para(f"Demande n° {request.reference}", "title", size),
        Spacer(1, 8 * mm),
        _field("Patient(e)", patient.display_name, size),
        _field("Demandeur", request.requester, size),
        _field("Date de la demande", fr_date(request.requested_on), size),
        _field("Date de délivrance", fr_date(request.produced_on), size),
        _field("Nombre de consultations", str(len(record.consultations)), size),
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
    story.append(para(f"Documents joints ({len(record.documents)})", "heading", size))
    if record.documents:
        rows: list[list[Flowable]] = [[para(h, "bold", size) for h in ("Date", "Type", "Document")]]
        rows += [
            [
                para(fr_date(d.dated), "small", size),
                para(d.kind, "small", size),
                para(d.title, "small", size),
            ]
            for d in sorted(record.documents, key=lambda d: d.dated)
        ]
        story.append(
            Table(
                rows,
                colWidths=[width * 0.16, width * 0.34, width * 0.5],
                repeatRows=1,
                style=grid_style(),
            )
        )
    else:
        story.append(para("Aucun document.", "italic", size))
    return build_pdf(
        story,
        centre=centre,
        title=TITLE,
        size=size,
        footer_text=f"{TITLE} — demande n° {request.reference}",
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
    lines += [
        f"<i>Rectification du {fr_date(a.made_on)} par {esc(a.author)} :</i> {esc(a.text)}"
        for a in entry.amendments
    ]
    out: list[Flowable] = [Spacer(1, 2 * mm), heading]
    if lines:
        out.append(markup("<br/>".join(lines), "body", size))
    return out
