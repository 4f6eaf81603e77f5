"""The director's journal as a PDF: the same lines and filters as the screen, paged, with
the centre, the period, the filters and when it was made repeated on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from cms_desktop.printing.dto import CentreInfo
from cms_desktop.printing.layout import (
    MARGINS,
    PAGE_SIZES,
    PageSizeName,
    build_pdf,
    fr_long_datetime,
    grid_style,
    para,
)

TITLE = "Journal des accès et des actions"
_COLUMNS = (("Date", 0.17), ("Utilisateur", 0.21), ("Action", 0.24), ("Patient ou objet", 0.38))


@dataclass(frozen=True)
class JournalRow:
    at_text: str  # « 05/03/2026 14:02 », Paris time
    user: str
    action: str
    target: str


@dataclass(frozen=True)
class JournalDoc:
    period: str  # « du 01/03/2026 au 31/03/2026 » or « toute la période »
    filters: tuple[str, ...]  # « Patient : MARTIN Zoé (née le …) », « Utilisateur : … »
    made_at: datetime
    rows: tuple[JournalRow, ...]


def render_journal(centre: CentreInfo, doc: JournalDoc) -> bytes:
    """One row per entry, newest first; column headings repeat on every page."""
    size: PageSizeName = "A4"
    width = PAGE_SIZES[size][0] - 2 * MARGINS[size]
    story: list[Flowable]
    if doc.rows:
        rows: list[list[Flowable]] = [[para(name, "bold", size) for name, _ in _COLUMNS]]
        rows += [
            [
                para(row.at_text, "small", size),
                para(row.user, "small", size),
                para(row.action, "small", size),
                para(row.target, "small", size),
            ]
            for row in doc.rows
        ]
        story = [
            Table(
                rows,
                colWidths=[width * share for _, share in _COLUMNS],
                repeatRows=1,
                style=grid_style(),
            )
        ]
    else:
        story = [para("Aucune entrée ne correspond à ces filtres.", "italic", size)]
    story += [Spacer(1, 3 * mm), para(f"{len(doc.rows)} entrée(s)", "small", size)]
    filters = "Filtres : " + ("; ".join(doc.filters) if doc.filters else "aucun")
    repeated = [
        para(f"Période : {doc.period}", "small", size),
        para(filters, "small", size),
        para(f"Édité le {fr_long_datetime(doc.made_at)}", "small", size),
        Spacer(1, 2 * mm),
    ]
    return build_pdf(story, centre=centre, title=TITLE, size=size, repeated=repeated)
