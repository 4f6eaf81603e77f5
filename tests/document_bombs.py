"""Hand-made « bomb » files for the document limits tests (issue #18), built in memory."""

from __future__ import annotations

import functools
import io
import struct
import zlib


def pdf_with_stream(content: bytes, *, compress: bool = True) -> bytes:
    """A one-page PDF whose content stream is ``content`` (deflated when ``compress``)."""
    stream = zlib.compress(content, 9) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), flate) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


@functools.cache
def deflate_bomb_pdf(inflated_mib: int = 272) -> bytes:
    """A PDF of a few hundred KB whose one stream inflates to ``inflated_mib`` MiB of zeros."""
    packer = zlib.compressobj(9)
    zeros = bytes(1024 * 1024)
    stream = b"".join(packer.compress(zeros) for _ in range(inflated_mib)) + packer.flush()
    return pdf_with_stream(stream, compress=False).replace(
        b"/Length %d >>" % len(stream), b"/Length %d /Filter /FlateDecode >>" % len(stream)
    )


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header announces ``width`` x ``height`` pixels (its data is one row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
        + chunk(b"IEND", b"")
    )
