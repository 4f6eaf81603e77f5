"""The print preview reads the PDF from memory, prints every page and saves where asked."""

from __future__ import annotations

import io
import os
import tempfile
from datetime import date
from pathlib import Path

import pypdf
import pytest
from PySide6.QtPrintSupport import QPrinter

from cms_desktop.domain.prescription import Prescription, PrescriptionLine
from cms_desktop.printing.dto import CentreInfo, PatientInfo, PrescriberInfo
from cms_desktop.printing.prescription import render_prescription
from cms_desktop.ui.printing.preview import PreviewDialog, preview_pdf


def _long_prescription() -> bytes:
    lines = tuple(
        PrescriptionLine(
            dci=f"molécule {i}",
            strength="10 mg",
            form="comprimé",
            dosage="1 le matin",
            duration="1 mois",
        )
        for i in range(30)
    )
    return render_prescription(
        CentreInfo("CMS Essai", ("1 rue Œillet",), "01 02 03 04 05", "990001234"),
        PrescriberInfo("Dr Zoé Essai", "Médecin", "10000000001"),
        PatientInfo("FICTIF", ("Jean",), "M", date(1970, 1, 1)),
        Prescription(lines, date(2026, 11, 23)),
    )


def _tree(root: str) -> set[str]:
    out: set[str] = set()
    for folder, _dirs, files in os.walk(root):
        out.update(os.path.join(folder, f) for f in files)
    return out


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty temp directory that Qt and Python would use for temporary files."""
    watched = tmp_path / "watched"
    watched.mkdir()
    monkeypatch.setenv("TMPDIR", str(watched))
    monkeypatch.setattr(tempfile, "tempdir", str(watched))
    return watched


def test_preview_loads_every_page_from_memory_and_writes_no_temp_file(qtbot, watched_tmp) -> None:
    pdf = _long_prescription()
    system_tmp = tempfile.gettempdir()
    before = set(os.listdir(system_tmp))
    dialog = preview_pdf(None, "Ordonnance", pdf)
    qtbot.addWidget(dialog)
    assert isinstance(dialog, PreviewDialog)
    assert dialog.page_count() == len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert "pages" in dialog.page_label.text() and dialog.print_button.isEnabled()
    dialog.grab()  # lays out and paints the pages
    assert dialog.document.render(0, dialog.document.pagePointSize(0).toSize()).isNull() is False
    assert set(os.listdir(system_tmp)) == before
    assert _tree(str(watched_tmp)) == set()


def test_print_renders_each_page_on_the_printer_and_reports_it(
    qtbot, tmp_path, watched_tmp
) -> None:
    pdf = _long_prescription()
    events: list[str] = []
    dialog = PreviewDialog(None, "Ordonnance", pdf, events.append)
    qtbot.addWidget(dialog)
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(target))
    assert dialog.print_to(printer)
    dialog._notify("print")
    assert len(pypdf.PdfReader(target).pages) == dialog.page_count()
    assert events == ["print"]
    assert _tree(str(watched_tmp)) == set()


def test_save_writes_the_exact_bytes_and_reports_an_export(qtbot, tmp_path) -> None:
    pdf = _long_prescription()
    events: list[str] = []
    dialog = PreviewDialog(None, "Ordonnance", pdf, events.append)
    qtbot.addWidget(dialog)
    assert dialog.save_to(tmp_path / "copie")
    assert (tmp_path / "copie.pdf").read_bytes() == pdf and events == ["export"]
    assert not dialog.save_to(tmp_path / "missing" / "x.pdf")
    assert "Enregistrement impossible" in dialog.error_label.text() and events == ["export"]


def test_unreadable_bytes_disable_printing(qtbot) -> None:
    dialog = PreviewDialog(None, "Vide", b"not a pdf")
    qtbot.addWidget(dialog)
    assert not dialog.print_button.isEnabled() and "illisible" in dialog.error_label.text()


@pytest.mark.parametrize(
    ("page", "expected"),
    [((105 * 72 / 25.4, 148 * 72 / 25.4), "A6"), ((148 * 72 / 25.4, 210 * 72 / 25.4), "A5")],
)
def test_the_printer_takes_the_paper_of_the_document(qtbot, page, expected) -> None:
    """An A6 appointment card printed through « Imprimer… » comes out on A6, not A4."""
    from PySide6.QtGui import QPageSize
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=page)
    pdf.drawString(20, 20, "Carte de rendez-vous")
    pdf.save()
    dialog = PreviewDialog(None, "Carte", out.getvalue())
    qtbot.addWidget(dialog)
    printer = dialog.printer()
    assert printer.pageLayout().pageSize().id() == getattr(QPageSize.PageSizeId, expected)
