"""The colour legend of the appointment types, under the agenda."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from cms_desktop.services.agenda.common import TypeInfo
from cms_desktop.ui.flow_layout import FlowLayout, flow_policy


class Legend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The legend wraps onto a second line on narrow screens instead of widening the window.
        self._box = FlowLayout(self, spacing=10)
        self.setSizePolicy(flow_policy())

    def set_types(self, types: list[TypeInfo]) -> None:
        while self._box.count():
            taken = self._box.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        entries = [
            (info.label, f"background:{info.colour}; border:1px solid #555;") for info in types
        ]
        entries.append((self.tr("Annulé"), "background:#e0e0e0; border:1px dashed #999;"))
        for label, style in entries:
            # Swatch and label stay together when the line wraps.
            item = QWidget(self)
            row = QHBoxLayout(item)
            row.setContentsMargins(0, 0, 0, 0)
            swatch = QLabel("  ", item)
            swatch.setStyleSheet(style)
            row.addWidget(swatch)
            row.addWidget(QLabel(label, item))
            self._box.addWidget(item)
