"""Small synthetic documents (PNG, JPEG, PDF) to join to a record copy, made in memory."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def png(
    width: int = 600, height: int = 400, colour: tuple[int, int, int] = (250, 235, 200)
) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width - 1, height - 1], outline="black", width=3)
    draw.line([0, 0, width, height], fill="black", width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 400, height: int = 300, orientation: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (200, 230, 255))
    ImageDraw.Draw(image).rectangle([0, 0, width // 4, height // 8], fill="red")
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf(
    pages: int = 2, label: str = "Compte rendu fictif", size: tuple[float, float] = A4
) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=size, invariant=1)
    width, height = size
    for number in range(1, pages + 1):
        canvas.rect(20, 20, width - 40, height - 40)
        canvas.setFont("Helvetica", 12)
        canvas.drawString(40, height - 50, f"{label} - page originale {number}")
        canvas.drawString(40, 30, f"Bas de la page originale {number}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()
