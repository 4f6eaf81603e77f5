"""Administration › « Mise en route »: what the centre still lacks to work, each line a
link to the screen that does it; a line disappears once done, the tab once all are."""

from __future__ import annotations

import socket

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cms_desktop.services import setup_checklist
from cms_desktop.services.actor import Actor
from cms_desktop.services.setup_checklist import ChecklistItem
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel


class ChecklistPage(QWidget):
    sig_open = Signal(str)
    """A line's link was followed; the argument names the screen (ChecklistItem.target)."""

    sig_loaded = Signal(int)
    """The checklist was read; the argument is how many steps are still to do."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.items: list[ChecklistItem] = []
        self.preview: QWidget | None = None  # the test page's preview, while open
        self.title = QLabel(
            self.tr("<b>Mise en route du centre</b> — ce qui manque encore :"), self
        )
        self.lines = QVBoxLayout()
        self.lines.setSpacing(10)
        self.error_label = ErrorLabel(self)
        box = QVBoxLayout(self)
        box.addWidget(self.title)
        box.addLayout(self.lines)
        box.addWidget(self.error_label)
        box.addStretch(1)
        self.reload()

    def reload(self) -> None:
        self._runner.run_read(
            lambda: setup_checklist.checklist(self._ws, self._actor),
            self._loaded,
            self.error_label.show_message,
        )

    def pending(self) -> list[ChecklistItem]:
        return [i for i in self.items if i.available and not i.done]

    def _loaded(self, items: list[ChecklistItem]) -> None:
        self.items = items
        while self.lines.count():
            taken = self.lines.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        for item in items:
            if item.done:
                continue  # done: the line disappears
            if item.available:
                text = f'☐ <a href="{item.target}">{item.label}</a> — {item.hint}'
            else:
                text = f'<span style="color:#7f7f7f">○ {item.label} — {item.hint}</span>'
            line = QLabel(text, self)
            line.setObjectName(f"checklist_{item.key}")
            line.setWordWrap(True)
            line.linkActivated.connect(self.sig_open.emit)
            self.lines.addWidget(line)
            line.show()
        if not self.pending():
            done = QLabel(self.tr("Tout est prêt : le centre peut fonctionner."), self)
            self.lines.addWidget(done)
        self.sig_loaded.emit(len(self.pending()))

    def line(self, key: str) -> QLabel | None:
        """The line of a step still shown (removed lines are hidden until deleted)."""
        for found in self.findChildren(QLabel, f"checklist_{key}"):
            if not found.isHidden():
                return found
        return None

    def print_test_page(self) -> None:
        """Preview the test page; printing it (not saving it) ticks the line."""
        from cms_desktop.ui.printing.preview import preview_pdf

        station = socket.gethostname()
        ws, actor = self._ws, self._actor

        def printed(how: str) -> None:
            if how == "print":
                self._runner.run_write(
                    lambda: setup_checklist.record_printer_test(ws, actor),
                    lambda _v: self.reload(),
                    self.error_label.show_message,
                )

        def show(pdf: bytes) -> None:
            self.preview = preview_pdf(self, self.tr("Page de test"), pdf, printed)

        self._runner.run_read(
            lambda: setup_checklist.printer_test_page(ws, actor, station),
            show,
            self.error_label.show_message,
        )
