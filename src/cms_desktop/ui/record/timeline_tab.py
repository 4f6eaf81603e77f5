"""The Chronologie tab: consultations, documents (and later prescriptions, appointments)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services.timeline import TimelineItem
from cms_desktop.ui.record.format import fmt_datetime


class TimelineTab(QWidget):
    sig_open = Signal(str, str)
    """Enter on a line: (kind, ref_id) to show it in its own tab."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[TimelineItem] = []
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("timelineTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Date"), self.tr("Type"), self.tr("Titre"), self.tr("Auteur")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemActivated.connect(self._activated)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table)

    def set_items(self, items: object) -> None:
        assert isinstance(items, list)
        self._items = items
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            for col, value in enumerate(
                (fmt_datetime(item.at), item.kind_label, item.title, item.author)
            ):
                cell = QTableWidgetItem(value)
                cell.setData(Qt.ItemDataRole.UserRole, item.ref_id)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)

    def _activated(self, cell: QTableWidgetItem) -> None:
        item = self._items[cell.row()]
        self.sig_open.emit(item.kind, item.ref_id)
