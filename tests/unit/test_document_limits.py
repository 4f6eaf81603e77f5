"""Issue #18: a document's content may not expand past the limits; the refusal says which."""

from __future__ import annotations

import io

import pypdf
import pytest

from cms_desktop.domain.document_limits import (
    MAX_INFLATED_BYTES,
    MAX_PAGES,
    check_expansion,
)
from cms_desktop.domain.documents import DocumentError
from tests.document_bombs import deflate_bomb_pdf, pdf_with_stream, png_header

PDF = "application/pdf"


def test_a_pdf_whose_stream_inflates_past_the_limit_is_refused_and_says_why() -> None:
    bomb = deflate_bomb_pdf(MAX_INFLATED_BYTES // 1024 // 1024 + 16)
    assert len(bomb) < 2 * 1024 * 1024  # small on disk…
    with pytest.raises(DocumentError, match="se décompresse en plus de 256 Mo"):
        check_expansion(PDF, bomb)


def test_an_ordinary_pdf_is_accepted() -> None:
    check_expansion(PDF, pdf_with_stream(b"BT /F1 12 Tf 72 720 Td (Bilan) Tj ET\n" * 500))


def test_a_pdf_with_too_many_pages_is_refused() -> None:
    writer = pypdf.PdfWriter()
    for _ in range(MAX_PAGES + 1):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentError, match=f"compte {MAX_PAGES + 1} pages"):
        check_expansion(PDF, out.getvalue())


def test_an_image_announcing_too_many_pixels_is_refused() -> None:
    with pytest.raises(DocumentError, match="10000 × 9000 pixels, plus que les 60 millions"):
        check_expansion("image/png", png_header(10000, 9000))
    with pytest.raises(DocumentError, match="dépasse les 60 millions de pixels"):
        check_expansion("image/png", png_header(50000, 50000))
    check_expansion("image/png", png_header(3000, 2000))


def test_the_check_stops_at_its_time_budget() -> None:
    with pytest.raises(DocumentError, match="trop long à analyser"):
        check_expansion(PDF, pdf_with_stream(b"0 0 m 1 1 l S\n" * 1000), seconds=0)


def test_the_record_copy_does_not_join_a_bomb() -> None:
    from cms_desktop.printing.attachments import UnreadableContent, load_image, read_pdf

    with pytest.raises(UnreadableContent):
        read_pdf(deflate_bomb_pdf(), "Bilan")
    with pytest.raises(UnreadableContent):
        load_image(png_header(10000, 9000))
