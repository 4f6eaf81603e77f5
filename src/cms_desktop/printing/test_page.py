"""The printer test page: the centre's header as every printout shows it, and a few lines
to check margins and accents. No patient data."""

from __future__ import annotations

from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from cms_desktop.printing.dto import CentreInfo
from cms_desktop.printing.layout import PageSizeName, build_pdf, fr_date, para


def render_test_page(
    centre: CentreInfo, station: str, on: date, size: PageSizeName = "A4"
) -> bytes:
    story: list[Flowable] = [
        Spacer(1, 6 * mm),
        para("Page de test de l'imprimante", "bold", size),
        Spacer(1, 3 * mm),
        para(f"Poste : {station} — imprimée le {fr_date(on)}.", "body", size),
        Spacer(1, 2 * mm),
        para(
            "Vérifiez que l'en-tête du centre, les accents (é è à ç ô « »), les marges et "
            "le bas de page sont lisibles et entiers : les ordonnances s'impriment ainsi.",
            "body",
            size,
        ),
    ]
    return build_pdf(story, centre=centre, title="Page de test", size=size)
