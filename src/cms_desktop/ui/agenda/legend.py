"""The colour legend of the appointment types, under the agenda."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from cms_desktop.services.agenda.common import TypeInfo


class Legend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._box = QHBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)

    def set_types(self, types: list[TypeInfo]) -> None:
        while self._box.count():
            item = self._box.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        for info in types:
            swatch = QLabel("  ", self)
            swatch.setStyleSheet(f"background:{info.colour}; border:1px solid #555;")
            self._box.addWidget(swatch)
            self._box.addWidget(QLabel(info.label, self))
            self._box.addSpacing(8)
        cancelled = QLabel("  ", self)
        cancelled.setStyleSheet("background:#e0e0e0; border:1px dashed #999;")
        self._box.addWidget(cancelled)
        self._box.addWidget(QLabel(self.tr("Annulé"), self))
        self._box.addStretch(1)
