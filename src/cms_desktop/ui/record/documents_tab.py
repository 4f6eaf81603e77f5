"""The Documents tab: list, import (file dialog or drag and drop) and the in-app viewer.

PDFs are shown through QPdfDocument loaded from a QBuffer and images through
QPixmap.loadFromData: the content never leaves the process as a temporary file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.documents import (
    DOCUMENT_KIND_LABELS,
    MAX_DOCUMENT_BYTES,
    is_administrative,
)
from cms_desktop.domain.identity import IdentityError, parse_french_date
from cms_desktop.domain.permissions import Permission
from cms_desktop.services import documents
from cms_desktop.services.documents import DocumentContent, DocumentView
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.record.format import fmt_date
from cms_desktop.ui.widgets import ErrorLabel

_ACCEPTED = (".pdf", ".jpg", ".jpeg", ".png")


class ImportDialog(ServiceDialog):
    """Type, title and date of a file about to be imported."""

    def __init__(
        self, ctx: AreaContext, patient_id: str, path: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Importer un document"), self.tr("Importer"), ctx.runner, parent)
        self._ctx, self._patient_id, self._path = ctx, patient_id, path
        self.kind = QComboBox(self)
        for kind, label in DOCUMENT_KIND_LABELS.items():
            needed = (
                Permission.DOCUMENT_ADMIN_WRITE
                if is_administrative(kind)
                else Permission.DOCUMENT_CLINICAL_WRITE
            )
            if ctx.actor.can(needed):
                self.kind.addItem(label, kind)
        self.title = QLineEdit(path.stem.replace("_", " ")[:200], self)
        self.date = QLineEdit(self)
        self.date.setPlaceholderText("jj/mm/aaaa")
        self.form.addRow(self.tr("Fichier"), QLabel(path.name, self))
        self.form.addRow(self.tr("Type"), self.kind)
        self.form.addRow(self.tr("Titre"), self.title)
        self.form.addRow(self.tr("Date du document"), self.date)
        self.title.setFocus()
        self.title.selectAll()

    def prepare(self) -> Callable[[], Any]:
        day: date | None = None
        if self.date.text().strip():
            try:
                day = parse_french_date(self.date.text().strip())
            except IdentityError as exc:
                raise ValidationFailed(str(exc)) from None
        try:
            size = self._path.stat().st_size
        except OSError:
            raise ValidationFailed(self.tr("Le fichier est introuvable ou illisible.")) from None
        if size > MAX_DOCUMENT_BYTES:
            raise ValidationFailed(
                self.tr("Le fichier est trop volumineux (%d Mo au plus).")
                % (MAX_DOCUMENT_BYTES // 1024 // 1024)
            )
        ctx, pid, path = self._ctx, self._patient_id, self._path
        kind, title = self.kind.currentData(), self.title.text()

        def run() -> str:
            data = path.read_bytes()
            return documents.import_document(
                ctx.workspace, ctx.actor, pid, path.name, data, kind, title, day
            )

        return run


class DocumentViewer(QStackedWidget):
    """PDF or image shown from memory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(self.tr("Choisissez un document et appuyez sur Entrée."), self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.pdf_document = QPdfDocument(self)
        self.pdf_view = QPdfView(self)
        self.pdf_view.setDocument(self.pdf_document)
        self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.image = QLabel(self)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_scroll = QScrollArea(self)
        self.image_scroll.setWidget(self.image)
        self.image_scroll.setWidgetResizable(True)
        self._buffer: QBuffer | None = None
        for w in (self.hint, self.pdf_view, self.image_scroll):
            self.addWidget(w)

    def show_content(self, content: DocumentContent) -> None:
        if content.refused:
            self.hint.setText(content.refused)
            self.setCurrentWidget(self.hint)
            return
        if content.document.mime_type == "application/pdf":
            self.pdf_document.close()
            # The buffer must outlive the document's reading of it.
            self._buffer = QBuffer(self)
            self._buffer.setData(QByteArray(content.data))
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.pdf_document.load(self._buffer)
            self.setCurrentWidget(self.pdf_view)
            return
        pixmap = QPixmap()
        if not pixmap.loadFromData(content.data):
            self.hint.setText(self.tr("Cette image ne peut pas être affichée."))
            self.setCurrentWidget(self.hint)
            return
        self.image.setPixmap(pixmap)
        self.setCurrentWidget(self.image_scroll)


class DocumentsTab(QWidget):
    sig_changed = Signal()
    """A document was imported."""

    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._patient_id = patient_id
        self._docs: list[DocumentView] = []
        self.import_dialog: ImportDialog | None = None
        self.setAcceptDrops(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("documentTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Type"), self.tr("Date"), self.tr("Titre"), self.tr("Auteur")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemActivated.connect(lambda *_: self.open_current())
        self.import_button = QPushButton(self.tr("Importer un fichier… (Ctrl+I)"), self)
        self.import_button.clicked.connect(self.choose_file)
        hint = QLabel(self.tr("ou glissez-déposez ici un PDF, JPEG ou PNG"), self)
        hint.setObjectName("hint")
        self.error_label = ErrorLabel(self)
        self.viewer = DocumentViewer(self)
        left = QWidget(self)
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(hint, 1)
        left_box.addLayout(row)
        left_box.addWidget(self.error_label)
        left_box.addWidget(self.table)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 680])
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(splitter)
        shortcut = QShortcut(QKeySequence("Ctrl+I"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.choose_file)

    def refresh(self) -> None:
        ctx, pid = self._ctx, self._patient_id
        ctx.runner.run_read(
            lambda: documents.list_documents(ctx.workspace, ctx.actor, pid),
            self.set_documents,
            self.error_label.show_message,
        )

    def set_documents(self, docs: object) -> None:
        assert isinstance(docs, list)
        self._docs = docs
        self.table.setRowCount(len(docs))
        for row, doc in enumerate(docs):
            when = fmt_date(doc.document_date) or fmt_date(doc.created_at.date())
            values = (doc.kind_label, when, doc.title, doc.author_name)
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        if docs and self.table.currentRow() < 0:
            self.table.setCurrentCell(0, 0)

    def open_current(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self._docs):
            return
        ctx, doc_id = self._ctx, self._docs[row].id
        ctx.runner.run_write(
            lambda: documents.read_document(ctx.workspace, ctx.actor, doc_id),
            self.viewer.show_content,
            self.error_label.show_message,
        )

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Importer un document"),
            "",
            self.tr("Documents (*.pdf *.jpg *.jpeg *.png)"),
        )
        if name:
            self.ask_details(Path(name))

    def ask_details(self, path: Path) -> ImportDialog:
        self.error_label.clear_message()
        dialog = ImportDialog(self._ctx, self._patient_id, path, self)
        dialog.sig_done.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def _imported(self, _value: object) -> None:
        self.refresh()
        self.sig_changed.emit()

    @staticmethod
    def _local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._local_files(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._local_files(event)
        if not files:
            return
        event.acceptProposedAction()
        accepted = [f for f in files if f.suffix.lower() in _ACCEPTED]
        if not accepted:
            self.error_label.show_message(
                self.tr("Seuls les fichiers PDF, JPEG et PNG peuvent être importés.")
            )
            return
        # One file at a time: each needs its type and title.
        self.ask_details(accepted[0])
