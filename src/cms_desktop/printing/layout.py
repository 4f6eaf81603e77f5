"""Shared page layout: fonts, styles, the centre header, the title, the repeated mentions
and the "Page X/Y" footer of every printout, built with reportlab's platypus.

The header is drawn on the canvas of every page (so mentions repeat when a document runs
long); the body flows in the frame below it and can never overflow its zone.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    Image,
    LayoutError,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from cms_desktop.printing.dto import CentreInfo, PrescriberInfo, PrintingError
from cms_desktop.resources import resource_path

PageSizeName = Literal["A4", "A5", "A6"]
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "A5": A5, "A6": A6}
MARGINS: dict[str, float] = {"A4": 15 * mm, "A5": 10 * mm, "A6": 7 * mm}
FOOTER_HEIGHT: float = 8 * mm

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


@functools.cache
def register_fonts() -> None:
    """DejaVu Sans covers every French character (œ, «, », €, ’), unlike the PDF base fonts.

    Also stops reportlab wrapping images in ASCII85: our PDFs are binary anyway, and its
    pure-Python encoder made the images of a record copy 25 % larger and a third slower.
    """
    rl_config.useA85 = 0
    for name, file in (
        (FONT, "DejaVuSans.ttf"),
        (FONT_BOLD, "DejaVuSans-Bold.ttf"),
        (FONT_ITALIC, "DejaVuSans-Oblique.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", file))))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD
    )


@functools.cache
def styles(size: PageSizeName = "A4") -> dict[str, ParagraphStyle]:
    register_fonts()
    base = {"A4": 10.0, "A5": 9.0, "A6": 8.0}[size]
    body = ParagraphStyle("body", fontName=FONT, fontSize=base, leading=base * 1.3)
    return {
        "body": body,
        "small": ParagraphStyle("small", body, fontSize=base - 1.5, leading=(base - 1.5) * 1.3),
        "bold": ParagraphStyle("bold", body, fontName=FONT_BOLD),
        "italic": ParagraphStyle("italic", body, fontName=FONT_ITALIC),
        "right": ParagraphStyle("right", body, alignment=TA_RIGHT),
        "centre": ParagraphStyle("centre", body, alignment=TA_CENTER),
        "centre_name": ParagraphStyle(
            "centre_name", body, fontName=FONT_BOLD, fontSize=base + 1, leading=(base + 1) * 1.3
        ),
        "title": ParagraphStyle(
            "title",
            body,
            fontName=FONT_BOLD,
            fontSize=base + 3,
            leading=(base + 3) * 1.3,
            alignment=TA_CENTER,
        ),
        "heading": ParagraphStyle(
            "heading",
            body,
            fontName=FONT_BOLD,
            fontSize=base + 1,
            leading=(base + 1) * 1.3,
            spaceBefore=base * 0.8,
            spaceAfter=base * 0.3,
            keepWithNext=1,
        ),
        "indent": ParagraphStyle("indent", body, leftIndent=base * 1.6),
    }


def esc(text: str) -> str:
    """User text as paragraph markup: escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")


def para(text: str, style: str = "body", size: PageSizeName = "A4") -> Paragraph:
    return Paragraph(esc(text), styles(size)[style])


def markup(xml: str, style: str = "body", size: PageSizeName = "A4") -> Paragraph:
    """A paragraph from markup the caller has already escaped."""
    return Paragraph(xml, styles(size)[style])


def fr_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def fr_long_date(d: date) -> str:
    """« lundi 23 novembre 2026 », independent of the machine locale."""
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def fr_long_datetime(dt: datetime) -> str:
    return f"{fr_long_date(dt.date())} à {dt:%H:%M}"


def _image(png: bytes, max_w: float, max_h: float) -> Image:
    try:
        width, height = ImageReader(io.BytesIO(png)).getSize()
    except Exception as exc:  # reportlab/PIL raise many types for a bad image
        raise PrintingError("Image illisible (logo ou signature) : fichier PNG attendu") from exc
    scale = min(max_w / width, max_h / height)
    return Image(io.BytesIO(png), width=width * scale, height=height * scale)


def centre_block(centre: CentreInfo, width: float, size: PageSizeName) -> Flowable:
    lines = [para(centre.name, "centre_name", size)]
    lines += [para(line, "small", size) for line in centre.address_lines]
    lines.append(para(f"Tél. : {centre.phone} — FINESS : {centre.finess}", "small", size))
    if centre.logo_png is None:
        return Table([[lines]], colWidths=[width], style=_TIGHT)
    logo_w = min(30 * mm, width / 4)
    logo = _image(centre.logo_png, logo_w, 18 * mm)
    return Table(
        [[logo, lines]], colWidths=[logo_w + 3 * mm, width - logo_w - 3 * mm], style=_TIGHT
    )


def prescriber_lines(prescriber: PrescriberInfo, size: PageSizeName) -> list[Flowable]:
    title = prescriber.profession
    if prescriber.specialty:
        title += f" — {prescriber.specialty}"
    return [
        para(prescriber.full_name, "bold", size),
        para(title, "small", size),
        para(f"RPPS : {prescriber.rpps}", "small", size),
    ]


def signature_block(
    prescriber: PrescriberInfo, caption: str, width: float, size: PageSizeName
) -> Flowable:
    """Right-aligned place/date, signature (image or blank space) and name."""
    cells: list[Flowable] = [para(caption, "right", size), para("Signature :", "right", size)]
    if prescriber.signature_png is not None:
        cells.append(_image(prescriber.signature_png, width / 2, 20 * mm))
    else:
        cells.append(Spacer(1, 14 * mm))
    cells.append(para(prescriber.full_name, "right", size))
    style = TableStyle([("ALIGN", (0, 0), (-1, -1), "RIGHT")], parent=_TIGHT)
    return Table([[cells]], colWidths=[width], style=style)


_TIGHT = TableStyle(
    [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]
)


def grid_style(header_rows: int = 1) -> TableStyle:
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    if header_rows:
        style.add("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.Color(0.9, 0.9, 0.9))
    return style


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no types
    """Holds pages back until the end so each footer can say "Page X/Y"."""

    def __init__(
        self,
        *args: Any,
        footer_text: str | None = None,
        numbering: Numbering | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._footer_text = footer_text
        self._numbering = numbering
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        number: int | None = self._pageNumber
        if self._numbering is not None:
            numbers = self._numbering(self._pageNumber, total)
            if numbers is None:
                return
            number, total = numbers
        width, _ = self._pagesize
        margin = MARGINS[_size_name(self._pagesize)]
        draw_footer(self, width, margin, f"Page {number}/{total}", self._footer_text)


Numbering = Callable[[int, int], "tuple[int, int] | None"]
"""(page, pages laid out) -> (number printed, total printed), or None for no footer: lets a
caller that inserts pages of its own afterwards number the whole document."""


def draw_footer(canvas: Canvas, width: float, margin: float, number: str, text: str | None) -> None:
    """The rule and the footer line of every page (also stamped on appended pages)."""
    y = margin - 2 * mm
    canvas.setStrokeColor(colors.grey)
    canvas.setLineWidth(0.3)
    canvas.line(margin, y + 3.5 * mm, width - margin, y + 3.5 * mm)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(colors.black)
    canvas.drawRightString(width - margin, y, number)
    if text:
        # On a small appended page (an A5 prescription) a long footer would run into the
        # page number: it is cut with an ellipsis instead.
        room = width - 2 * margin - stringWidth(number, FONT, 7) - 4 * mm
        while len(text) > 1 and stringWidth(text, FONT, 7) > room:
            text = text[:-2] + "…"
        canvas.drawString(margin, y, text)


def _size_name(pagesize: tuple[float, float]) -> str:
    for name, dims in PAGE_SIZES.items():
        if round(dims[0]) == round(pagesize[0]):
            return name
    return "A4"


def build_pdf(
    story: Sequence[Flowable],
    *,
    centre: CentreInfo,
    title: str,
    size: PageSizeName = "A4",
    repeated: Sequence[Flowable] = (),
    footer_text: str | None = None,
    numbering: Numbering | None = None,
) -> bytes:
    """Lay ``story`` out under the header (centre, title, ``repeated`` mentions) of every page.

    Deterministic: the same input gives the same bytes (``invariant``), so a printed
    prescription can be rebuilt identically.
    """
    register_fonts()
    page_w, page_h = PAGE_SIZES[size]
    margin = MARGINS[size]
    width = page_w - 2 * margin
    header_first: list[Flowable] = [
        centre_block(centre, width, size),
        Spacer(1, 2 * mm),
        para(title, "title", size),
    ]
    header_next = [*header_first[:2], para(f"{title} (suite)", "title", size)]
    tail: list[Flowable] = [*repeated, HRFlowable(width="100%", thickness=0.6, color=colors.black)]
    header_h = max(_measure([*header_first, *tail], width), _measure([*header_next, *tail], width))
    frame_h = page_h - 2 * margin - header_h - FOOTER_HEIGHT - 3 * mm
    if frame_h < 30 * mm:
        raise PrintingError("En-tête trop long pour la page : raccourcir les informations")

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        y = page_h - margin
        parts = header_first if doc.page == 1 else header_next
        for flowable in [*parts, *tail]:
            _, h = flowable.wrap(width, page_h)
            y -= h
            flowable.drawOn(canvas, margin, y)

    frame = Frame(
        margin, margin + FOOTER_HEIGHT, width, frame_h, 0, 0, 0, 0, id="body", showBoundary=0
    )
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=(page_w, page_h),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        pageTemplates=[PageTemplate(id="page", frames=[frame], onPage=on_page)],
        invariant=1,
        title=title,  # never patient data in metadata
        author=centre.name,
        creator="cms-desktop",
        producer="cms-desktop",
        subject="",
        keywords="",
    )
    try:
        doc.build(
            list(story),
            canvasmaker=functools.partial(
                _NumberedCanvas, footer_text=footer_text, numbering=numbering
            ),
        )
    except LayoutError as exc:
        raise PrintingError(
            "Mise en page impossible : un bloc est trop grand pour tenir sur une page"
        ) from exc
    return buffer.getvalue()


def _measure(flowables: Sequence[Flowable], width: float) -> float:
    total = 0.0
    for flowable in flowables:
        _, h = flowable.wrap(width, 10_000)
        total += float(h)
    return total + 2 * float(mm)
