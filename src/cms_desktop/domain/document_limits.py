"""Limits on what a document's content may expand to, checked before it is imported and
before it is shown: a small file must not inflate into gigabytes, thousands of pages or an
image of billions of pixels (a « bomb » that would freeze every station it syncs to).

Only headers and compressed streams are read, never a full rendering; the check stops at
the first limit passed and within a time budget.
"""

from __future__ import annotations

import io
import re
import time
import warnings
import zlib

from cms_desktop.domain.documents import DocumentError

MAX_INFLATED_BYTES = 256 * 1024 * 1024  # all of a PDF's streams once decompressed
MAX_PAGES = 1000
MAX_PIXELS = 60_000_000  # one image: a 600 dpi A3 scan is about 70 M; 8000 x 7500 here
CHECK_SECONDS = 10.0

_STREAM = re.compile(rb"stream\r?\n")
_END = b"endstream"
_CHUNK = 1024 * 1024


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} Mo"


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.inflated = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise DocumentError(
                "Le document est trop long à analyser : il n'a pas été ouvert "
                "(fichier anormalement complexe ou endommagé)."
            )

    def add(self, n: int) -> None:
        self.inflated += n
        if self.inflated > MAX_INFLATED_BYTES:
            raise DocumentError(
                "Le PDF se décompresse en plus de "
                f"{_mib(MAX_INFLATED_BYTES)} : il n'est pas accepté (fichier piégé ou "
                "anormal). Demandez à l'expéditeur un PDF ordinaire ou une numérisation."
            )


def _inflate_streams(data: bytes, budget: _Budget) -> None:
    """Decompress every stream in bounded steps; a stream that is not deflate counts as is."""
    position = 0
    while (found := _STREAM.search(data, position)) is not None:
        start = found.end()
        end = data.find(_END, start)
        if end < 0:
            end = len(data)
        raw = data[start:end]
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(raw, _CHUNK)
            budget.add(len(chunk))
            while inflater.unconsumed_tail:
                budget.tick()
                chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                if not chunk:
                    break
                budget.add(len(chunk))
        except zlib.error:
            budget.add(len(raw))  # JPEG, fax or other encodings: no bomb through zlib
        position = end + len(_END)
        budget.tick()


def _check_pixels(width: object, height: object) -> None:
    if isinstance(width, int) and isinstance(height, int) and width * height > MAX_PIXELS:
        raise DocumentError(
            f"Une image du document fait {width} × {height} pixels, plus que les "
            f"{MAX_PIXELS // 1_000_000} millions acceptés : il n'est pas accepté."
        )


def _check_pdf(data: bytes, budget: _Budget) -> None:
    _inflate_streams(data, budget)
    import pypdf  # only now: the streams it may decompress are known to stay small

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return  # shown as protected by the viewer; its streams were bounded above
        pages = reader.pages
        if len(pages) > MAX_PAGES:
            raise DocumentError(
                f"Le PDF compte {len(pages)} pages, plus que les {MAX_PAGES} acceptées : "
                "il n'est pas accepté. Séparez-le en plusieurs documents."
            )
        for page in pages:
            budget.tick()
            resources = page.get("/Resources")
            xobjects = resources.get_object().get("/XObject") if resources else None
            for ref in xobjects.get_object().values() if xobjects else ():
                image = ref.get_object()
                if image.get("/Subtype") == "/Image":
                    _check_pixels(image.get("/Width"), image.get("/Height"))
    except DocumentError:
        raise
    except Exception:  # a damaged PDF: the viewer says it cannot show it
        return


def _check_image(data: bytes) -> None:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
    except Image.DecompressionBombError:  # far above ours: Pillow refuses to say the size
        raise DocumentError(
            f"Une image du document dépasse les {MAX_PIXELS // 1_000_000} millions de pixels "
            "acceptés : il n'est pas accepté."
        ) from None
    except Exception:  # unreadable: the viewer says it cannot show it
        return
    _check_pixels(width, height)


def check_expansion(mime_type: str, data: bytes, seconds: float = CHECK_SECONDS) -> None:
    """Raise DocumentError (French, says which limit) if the content would expand too far."""
    budget = _Budget(seconds)
    if mime_type == "application/pdf":
        _check_pdf(data, budget)
    elif mime_type in ("image/jpeg", "image/png"):
        _check_image(data)
