"""A document's content must be what its extension says; size and type limits."""

from __future__ import annotations

import pytest

from cms_desktop.domain.documents import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    DocumentKind,
    detect_mime_type,
    is_administrative,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PDF = b"%PDF-1.4\n%%EOF"


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("B.JPG", JPEG, "image/jpeg"),
        ("c.jpeg", JPEG, "image/jpeg"),
        ("d.png", PNG, "image/png"),
    ],
)
def test_matching_content_is_accepted(name: str, data: bytes, mime: str) -> None:
    assert detect_mime_type(name, data) == mime


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("resultat.pdf", PNG, "n'est pas un PDF valide"),
        ("photo.png", PDF, "n'est pas un PNG valide"),
        ("scan.jpg", b"MZ\x90\x00", "n'est pas un JPEG valide"),
        ("virus.exe", b"MZ", "seuls les fichiers PDF, JPEG et PNG"),
        ("vide.pdf", b"", "vide"),
    ],
)
def test_mismatching_content_is_refused_in_french(name: str, data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        detect_mime_type(name, data)


def test_size_limit() -> None:
    with pytest.raises(DocumentError, match="trop volumineux"):
        detect_mime_type("gros.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES)


def test_only_administrative_documents_are_administrative() -> None:
    assert [k for k in DocumentKind if is_administrative(k)] == [DocumentKind.ADMINISTRATIVE]
