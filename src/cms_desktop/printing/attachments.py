"""The content of documents joined to a printout, all in memory: images as flowables scaled
to the page, PDF pages appended after layout, shrunk a little and stamped with the
printout's footer (reference, page N/M) so they carry it like every other page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pypdf
from PIL import Image as PILImage
from PIL import ImageOps
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    RectangleObject,
)
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from cms_desktop.domain.document_limits import check_expansion
from cms_desktop.domain.documents import DocumentError
from cms_desktop.printing.layout import FONT_ITALIC, draw_footer, register_fonts

# Bands kept free on an appended page: the caption above, the footer below.
TOP_BAND = 9 * mm
BOTTOM_BAND = 11 * mm
STAMP_MARGIN = 10 * mm
_EXIF_ORIENTATION = 0x0112


class UnreadableContent(Exception):
    """The bytes are not a readable image or PDF."""


def load_image(data: bytes) -> ImageReader:
    """An image ready for reportlab, turned upright when the camera said so (EXIF)."""
    try:
        check_expansion("image/png" if data.startswith(b"\x89PNG") else "image/jpeg", data)
    except DocumentError as exc:  # too many pixels: never decoded into the copy
        raise UnreadableContent("too_large") from exc
    try:
        image: Any = PILImage.open(io.BytesIO(data))
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
        if orientation in range(2, 9):
            image = ImageOps.exif_transpose(image)
            return ImageReader(image)
        if image.format == "JPEG":
            return ImageReader(io.BytesIO(data))  # embedded as is, no re-encoding
        image.load()
        return ImageReader(image)
    except Exception as exc:  # PIL raises many types for a damaged file
        raise UnreadableContent from exc


class FitImage(Flowable):  # type: ignore[misc]  # reportlab ships no types
    """An image as large as the space left in the frame allows, aspect ratio kept."""

    def __init__(self, image: ImageReader) -> None:
        super().__init__()
        self._image = image
        self._iw, self._ih = image.getSize()
        self._w = self._h = 0.0

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        scale = min(avail_w / self._iw, avail_h / self._ih)
        self._w, self._h = self._iw * scale, self._ih * scale
        self.width = avail_w
        return avail_w, self._h

    def draw(self) -> None:
        x = (self.width - self._w) / 2
        self.canv.drawImage(self._image, x, 0, self._w, self._h)


@dataclass(frozen=True)
class PdfAttachment:
    """A readable PDF document and the caption stamped on top of each of its pages."""

    reader: pypdf.PdfReader
    caption: str

    @property
    def page_count(self) -> int:
        return len(self.reader.pages)


def read_pdf(data: bytes, caption: str) -> PdfAttachment:
    """Open a PDF document; UnreadableContent if damaged, empty, password-protected or past
    the expansion limits (a « bomb » would take minutes and gigabytes to join)."""
    try:
        check_expansion("application/pdf", data)
    except DocumentError as exc:
        raise UnreadableContent("too_large") from exc
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableContent("protected")
        if len(reader.pages) == 0:
            raise UnreadableContent("empty")
        for page in reader.pages:
            page.mediabox  # noqa: B018  # a missing or broken box fails here, not later
    except UnreadableContent:
        raise
    except Exception as exc:  # pypdf raises many types for a damaged file
        raise UnreadableContent from exc
    return PdfAttachment(reader, caption)


class PageMarker(Flowable):  # type: ignore[misc]
    """Zero-size flowable noting the page it lands on: that page is replaced afterwards
    by the pages of ``attachment``."""

    def __init__(self, attachment: PdfAttachment, found: dict[int, PdfAttachment]) -> None:
        super().__init__()
        self._attachment = attachment
        self._found = found

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self._found[self.canv.getPageNumber()] = self._attachment


def numbering_for(found: dict[int, PdfAttachment]) -> Any:
    """Footer numbers of the laid-out pages once each marker page becomes its PDF's pages."""

    def numbers(page: int, laid_out: int) -> tuple[int, int] | None:
        if page in found:
            return None
        extra = sum(a.page_count - 1 for a in found.values())
        before = sum(a.page_count - 1 for p, a in found.items() if p < page)
        return page + before, laid_out + extra

    return numbers


def assemble(laid_out: bytes, found: dict[int, PdfAttachment], footer_text: str) -> bytes:
    """The laid-out PDF with each marker page replaced by its document's stamped pages."""
    if not found:
        return laid_out
    base = pypdf.PdfReader(io.BytesIO(laid_out))
    total = len(base.pages) + sum(a.page_count - 1 for a in found.values())
    plan: list[tuple[pypdf.PageObject, str | None]] = []
    for number, page in enumerate(base.pages, start=1):
        attachment = found.get(number)
        if attachment is None:
            plan.append((page, None))
        else:
            plan += [(p, attachment.caption) for p in attachment.reader.pages]
    stamped = [i for i, (_, caption) in enumerate(plan) if caption is not None]
    stamps = _stamps([plan[i] for i in stamped], [i + 1 for i in stamped], total, footer_text)
    writer = pypdf.PdfWriter()
    stamp_of = dict(zip(stamped, stamps.pages, strict=True))
    for index, (page, _) in enumerate(plan):
        added = writer.add_page(page)
        if index in stamp_of:
            _fit_and_stamp(writer, added, stamp_of[index])
    writer.add_metadata({"/Producer": "cms-desktop", "/Creator": "cms-desktop"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _size(page: pypdf.PageObject) -> tuple[float, float]:
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    if int(page.get("/Rotate", 0) or 0) % 180:
        return height, width
    return width, height


def _stamps(
    pages: Sequence[tuple[pypdf.PageObject, str | None]],
    numbers: Sequence[int],
    total: int,
    footer_text: str,
) -> pypdf.PdfReader:
    """One overlay page per appended page: caption on top, footer below."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for (page, caption), number in zip(pages, numbers, strict=True):
        width, height = _size(page)
        canvas.setPageSize((width, height))
        margin = min(STAMP_MARGIN, width / 20)
        canvas.setFont(FONT_ITALIC, 7)
        canvas.setFillColorRGB(0.25, 0.25, 0.25)
        canvas.drawString(margin, height - TOP_BAND + 3.5 * mm, _fit(caption or "", width))
        draw_footer(canvas, width, margin, f"Page {number}/{total}", footer_text)
        canvas.showPage()
    canvas.save()
    return pypdf.PdfReader(io.BytesIO(buffer.getvalue()))


def _fit(text: str, width: float) -> str:
    room = width - 2 * STAMP_MARGIN
    while text and stringWidth(text, FONT_ITALIC, 7) > room:
        text = text[:-2] + "…"
    return text


def _fit_and_stamp(
    writer: pypdf.PdfWriter, page: pypdf.PageObject, stamp: pypdf.PageObject
) -> None:
    """Shrink the page's content into the space between the bands, then lay the stamp over.

    Shrinking (about 7 % on A4) rather than drawing over keeps every word of the original
    readable; links and form fields follow their content. The content streams are wrapped,
    not parsed (pypdf's ``add_transformation``/``merge_page`` parse them: 10× slower).
    """
    if int(page.get("/Rotate", 0) or 0) % 360:
        page.transfer_rotation_to_content()
    box = page.mediabox
    x0, y0 = float(box.left), float(box.bottom)
    width, height = float(box.width), float(box.height)
    scale = min(1.0, (height - TOP_BAND - BOTTOM_BAND) / height)
    dx = (width - width * scale) / 2
    matrix = (
        pypdf.Transformation().translate(-x0, -y0).scale(scale, scale).translate(dx, BOTTOM_BAND)
    )
    for annotation in page.get("/Annots", None) or []:
        obj = annotation.get_object()
        if "/Rect" in obj:
            left, bottom, right, top = (float(v) for v in obj["/Rect"])
            a, b = matrix.apply_on((left, bottom)), matrix.apply_on((right, top))
            obj[NameObject("/Rect")] = ArrayObject([FloatObject(v) for v in (*a, *b)])
    full = RectangleObject([0, 0, width, height])
    page.mediabox = full
    page.cropbox = full
    for name in ("/TrimBox", "/BleedBox", "/ArtBox"):
        if name in page:
            del page[NameObject(name)]

    # The stamp becomes a form XObject drawn after the (wrapped) original content.
    form = DecodedStreamObject()
    form.set_data(b"\n".join(ref.get_object().get_data() for ref in _content_refs(stamp)))
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): RectangleObject([0, 0, width, height]),
            NameObject("/Resources"): stamp["/Resources"].clone(writer),
        }
    )
    # A copy of the resources: pages of one document may share theirs.
    resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects[NameObject(_STAMP_NAME)] = writer._add_object(form)
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources

    ctm = " ".join(f"{v:.6f}" for v in matrix.ctm)
    before = DecodedStreamObject()
    before.set_data(f"q {ctm} cm\n".encode())
    after = DecodedStreamObject()
    after.set_data(f"\nQ q {_STAMP_NAME} Do Q\n".encode())
    parts = _content_refs(page)
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *parts, writer._add_object(after)]
    )


_STAMP_NAME = "/CmsDesktopStamp"


def _content_refs(page: pypdf.PageObject) -> list[Any]:
    """The page's content streams as references (a stream must stay an indirect object)."""
    if "/Contents" not in page:
        return []
    contents = page.raw_get("/Contents")
    if isinstance(contents, IndirectObject):
        resolved = contents.get_object()
        return list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    return list(contents) if isinstance(contents, ArrayObject) else []


__all__ = [
    "FitImage",
    "PageMarker",
    "PdfAttachment",
    "UnreadableContent",
    "assemble",
    "load_image",
    "numbering_for",
    "read_pdf",
]
