"""Agenda printouts: the day list (administrative only) and the patient's appointment card."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from cms_desktop.printing.dto import AppointmentCardDoc, CentreInfo, DayListDoc
from cms_desktop.printing.layout import (
    MARGINS,
    PAGE_SIZES,
    PageSizeName,
    build_pdf,
    fr_long_date,
    fr_long_datetime,
    grid_style,
    para,
)

CANCEL_NOTICE = "En cas d'empêchement, merci de prévenir le centre au plus tôt."
_COLUMNS = (("Heure", 0.13), ("Patient", 0.29), ("Type", 0.18), ("Motif", 0.26), ("Statut", 0.14))


def render_day_list(
    centre: CentreInfo, day_list: DayListDoc, page_size: PageSizeName = "A4"
) -> bytes:
    """One row per appointment; the column headings repeat on every page."""
    size = page_size
    width = PAGE_SIZES[size][0] - 2 * MARGINS[size]
    header = [para(name, "bold", size) for name, _ in _COLUMNS]
    rows: list[list[Flowable]] = [header]
    for row in sorted(day_list.rows, key=lambda r: r.starts_at):
        rows.append(
            [
                para(f"{row.starts_at:%H:%M}–{row.ends_at:%H:%M}", "small", size),
                para(row.patient_name, "small", size),
                para(row.kind, "small", size),
                para(row.reason, "small", size),
                para(row.status, "small", size),
            ]
        )
    story: list[Flowable]
    if day_list.rows:
        story = [
            Table(
                rows,
                colWidths=[width * share for _, share in _COLUMNS],
                repeatRows=1,
                style=grid_style(),
            )
        ]
    else:
        story = [para("Aucun rendez-vous ce jour.", "italic", size)]
    story.append(Spacer(1, 3 * mm))
    story.append(para(f"{len(day_list.rows)} rendez-vous", "small", size))
    subtitle = [
        para(f"{day_list.subject} — {fr_long_date(day_list.day)}", "centre", size),
        Spacer(1, 2 * mm),
    ]
    return build_pdf(
        story, centre=centre, title="Liste des rendez-vous", size=size, repeated=subtitle
    )


def render_appointment_card(
    centre: CentreInfo, card: AppointmentCardDoc, page_size: PageSizeName = "A6"
) -> bytes:
    size = page_size
    story: list[Flowable] = [
        Spacer(1, 2 * mm),
        para(card.patient_name, "bold", size),
        para("a rendez-vous le", "body", size),
        para(fr_long_datetime(card.starts_at), "bold", size),
        para(f"avec {card.practitioner_name}", "body", size),
    ]
    if card.place_note:
        story.append(para(card.place_note, "body", size))
    address = ", ".join(centre.address_lines)
    story += [
        Spacer(1, 3 * mm),
        para(f"Adresse : {address}", "small", size),
        para(f"Téléphone : {centre.phone}", "small", size),
        Spacer(1, 3 * mm),
        para(CANCEL_NOTICE, "italic", size),
    ]
    return build_pdf(story, centre=centre, title="Rendez-vous", size=size)
