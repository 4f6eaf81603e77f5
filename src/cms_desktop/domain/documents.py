"""Documents of the patient file: their kinds, the size limit and the content check.

A file is accepted only when its bytes are what its extension says (PDF, JPEG, PNG).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath

__all__ = [
    "DOCUMENT_KIND_LABELS",
    "MAX_DOCUMENT_BYTES",
    "DocumentError",
    "DocumentKind",
    "detect_mime_type",
    "is_administrative",
]

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


class DocumentError(ValueError):
    """A file that cannot be imported; ``str()`` is a French message for the user."""


class DocumentKind(StrEnum):
    EXAM_RESULT = "exam_result"
    HOSPITAL_LETTER = "hospital_letter"
    SCANNED_RECORD = "scanned_record"
    ADMINISTRATIVE = "administrative"
    OTHER = "other"


DOCUMENT_KIND_LABELS = {
    DocumentKind.EXAM_RESULT: "Résultat d'examen",
    DocumentKind.HOSPITAL_LETTER: "Courrier hospitalier",
    DocumentKind.SCANNED_RECORD: "Dossier papier numérisé",
    DocumentKind.ADMINISTRATIVE: "Document administratif",
    DocumentKind.OTHER: "Autre document médical",
}


def is_administrative(kind: DocumentKind) -> bool:
    """Administrative documents are the only ones reception may import and read."""
    return DocumentKind(kind) is DocumentKind.ADMINISTRATIVE


_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",), "PDF"),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",), "JPEG"),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",), "JPEG"),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",), "PNG"),
}


def detect_mime_type(filename: str, data: bytes) -> str:
    """The MIME type of a PDF, JPEG or PNG file whose content matches its extension."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in _TYPES:
        raise DocumentError(
            f"Le fichier « {PurePath(filename).name[:80]} » n'est pas accepté : seuls les "
            "fichiers PDF, JPEG et PNG peuvent être importés."
        )
    if not data:
        raise DocumentError("Le fichier est vide.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            f"Le fichier est trop volumineux ({len(data) / 1024 / 1024:.1f} Mo ; "
            f"{MAX_DOCUMENT_BYTES // 1024 // 1024} Mo au plus)."
        )
    mime, magics, label = _TYPES[suffix]
    if not any(data.startswith(magic) for magic in magics):
        raise DocumentError(
            f"Le contenu du fichier « {PurePath(filename).name[:80]} » n'est pas un {label} "
            "valide, contrairement à ce qu'indique son extension : il n'a pas été importé."
        )
    return mime
