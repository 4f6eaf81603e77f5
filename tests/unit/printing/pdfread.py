"""Read generated PDFs back: text per page, and text runs with their position."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pypdf


@dataclass(frozen=True)
class Fragment:
    page: int
    y: float
    text: str


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pages_text(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [normalise(page.extract_text()) for page in reader.pages]


def fragments(pdf: bytes) -> list[Fragment]:
    """Every text run with its page and its absolute y (points from the bottom)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    out: list[Fragment] = []
    for number, page in enumerate(reader.pages, start=1):

        def visit(text: str, cm: list[float], tm: list[float], *_: object, n: int = number) -> None:
            if text.strip():
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                out.append(Fragment(n, y, text.strip()))

        page.extract_text(visitor_text=visit)
    return out


def first_position(pdf: bytes, needle: str) -> tuple[int, float]:
    """(page, -y) of the first run containing ``needle``: sorts in reading order."""
    for fragment in fragments(pdf):
        if needle in fragment.text:
            return fragment.page, -fragment.y
    raise AssertionError(f"{needle!r} not found in the PDF")


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def page_width(pdf: bytes) -> float:
    return float(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width)
