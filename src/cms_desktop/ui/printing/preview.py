"""Print preview inside the application: the PDF is read from memory (never a temp file),
printed through Qt's print dialog or saved where the user chooses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, QSizeF, Qt
from PySide6.QtGui import QKeySequence, QPageLayout, QPageSize, QPainter, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.ui.widgets import ErrorLabel, fit_to_screen

ZOOM_STEP = 1.25


class PreviewDialog(QDialog):
    """Shows ``pdf_bytes``; ``on_printed("print"|"export")`` lets the caller audit."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        pdf_bytes: bytes,
        on_printed: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_to_screen(self, 820, 900)
        self._title = title
        self._pdf = bytes(pdf_bytes)
        self._on_printed = on_printed
        # The buffer owns an in-memory copy and must outlive the document that reads it.
        self._data = QByteArray(self._pdf)
        self._buffer = QBuffer(self._data, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)

        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        self.page_label = QLabel(self)
        self.error_label = ErrorLabel(self)
        zoom_out = QPushButton(self.tr("Zoom −"), self)
        zoom_in = QPushButton(self.tr("Zoom +"), self)
        fit = QPushButton(self.tr("Pleine largeur"), self)
        self.print_button = QPushButton(self.tr("Imprimer…"), self)
        self.save_button = QPushButton(self.tr("Enregistrer en PDF…"), self)
        close = QPushButton(self.tr("Fermer"), self)
        self.print_button.setDefault(True)
        zoom_out.clicked.connect(lambda: self._zoom(1 / ZOOM_STEP))
        zoom_in.clicked.connect(lambda: self._zoom(ZOOM_STEP))
        fit.clicked.connect(lambda: self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth))
        self.print_button.clicked.connect(self.ask_print)
        self.save_button.clicked.connect(self.ask_save)
        close.clicked.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Print, self, self.ask_print)
        QShortcut(QKeySequence.StandardKey.Save, self, self.ask_save)
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, lambda: self._zoom(ZOOM_STEP))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, lambda: self._zoom(1 / ZOOM_STEP))

        bar = QHBoxLayout()
        for widget in (zoom_out, zoom_in, fit):
            bar.addWidget(widget)
        bar.addWidget(self.page_label)
        bar.addStretch(1)
        bar.addWidget(self.save_button)
        bar.addWidget(self.print_button)
        bar.addWidget(close)
        box = QVBoxLayout(self)
        box.addWidget(self.view, 1)
        box.addWidget(self.error_label)
        box.addLayout(bar)
        count = self.document.pageCount()
        self.page_label.setText(f"{count} page" + ("s" if count > 1 else ""))
        if self.document.status() is not QPdfDocument.Status.Ready or count == 0:
            self.error_label.show_message(self.tr("Document illisible : rien à imprimer."))
            self.print_button.setEnabled(False)
            self.save_button.setEnabled(False)

    def page_count(self) -> int:
        return int(self.document.pageCount())

    def _zoom(self, factor: float) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(max(0.25, min(4.0, self.view.zoomFactor() * factor)))

    # --- printing ---

    def ask_print(self) -> None:
        if not self.print_button.isEnabled():
            return
        printer = self.printer()
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Imprimer"))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if self.print_to(printer):
            self._notify("print")

    def printer(self) -> QPrinter:
        """A printer set to the document's own paper (an A6 card prints on A6, not A4)."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self._title)
        if self.page_count():
            points = self.document.pagePointSize(0)
            size = QPageSize(
                QSizeF(points.width(), points.height()),
                QPageSize.Unit.Point,
                "",
                QPageSize.SizeMatchPolicy.FuzzyMatch,
            )
            printer.setPageSize(size)
            printer.setPageOrientation(
                QPageLayout.Orientation.Landscape
                if points.width() > points.height()
                else QPageLayout.Orientation.Portrait
            )
        return printer

    def print_to(self, printer: QPrinter) -> bool:
        """Render each page at the printer's resolution; False (and a message) on failure."""
        painter = QPainter()
        if not painter.begin(printer):
            self.error_label.show_message(self.tr("Impossible d'utiliser cette imprimante."))
            return False
        try:
            dpi = printer.resolution()
            first, last = printer.fromPage(), printer.toPage()
            pages = range(self.page_count())
            if first > 0 and last >= first:
                pages = range(first - 1, min(last, self.page_count()))
            for index, page in enumerate(pages):
                if index:
                    printer.newPage()
                points = self.document.pagePointSize(page)
                size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
                image = self.document.render(page, size)
                target = painter.viewport()
                scaled = size.scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.drawImage(QRect(0, 0, scaled.width(), scaled.height()), image)
        finally:
            painter.end()
        return True

    def ask_save(self) -> None:
        if not self.save_button.isEnabled():
            return
        name, _ = QFileDialog.getSaveFileName(
            self, self.tr("Enregistrer en PDF"), f"{self._title}.pdf", self.tr("PDF (*.pdf)")
        )
        if name:
            self.save_to(Path(name))

    def save_to(self, path: Path) -> bool:
        """Write the exact bytes where the user chose (an export: the caller audits it)."""
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        try:
            path.write_bytes(self._pdf)
        except OSError as exc:
            self.error_label.show_message(
                self.tr("Enregistrement impossible : ") + (exc.strerror or str(exc))
            )
            return False
        self._notify("export")
        return True

    def _notify(self, how: str) -> None:
        self.error_label.clear_message()
        if self._on_printed is not None:
            self._on_printed(how)


def preview_pdf(
    parent: QWidget | None,
    title: str,
    pdf_bytes: bytes,
    on_printed: Callable[[str], None] | None = None,
) -> PreviewDialog:
    """Open the preview (modal); ``on_printed`` receives "print" or "export" each time."""
    dialog = PreviewDialog(parent, title, pdf_bytes, on_printed)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
