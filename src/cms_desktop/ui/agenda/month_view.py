"""Month overview: one cell per day with its load (booked / available time) as a bar."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from cms_desktop.domain.agenda.slots import DayLoad
from cms_desktop.services.agenda.common import local_now
from cms_desktop.ui.agenda.day_view import draw_text

_DAYS = ("Lun.", "Mar.", "Mer.", "Jeu.", "Ven.", "Sam.", "Dim.")
HEADER = 24


class MonthView(QWidget):
    sig_day_activated = Signal(object)  # date
    """Double-click or Enter on a day: open it in the day view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(480, 360)
        self.loads: list[DayLoad] = []
        self.current = local_now().date()

    def set_loads(self, loads: list[DayLoad], current: date) -> None:
        self.loads, self.current = loads, current
        self.update()

    def _first_monday(self) -> date:
        first = self.current.replace(day=1)
        return first - timedelta(days=first.weekday())

    def _cell(self, day: date) -> QRectF:
        offset = (day - self._first_monday()).days
        w, h = self.width() / 7, (self.height() - HEADER) / 6
        return QRectF((offset % 7) * w, HEADER + (offset // 7) * h, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._paint()

    def _paint(self) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        w = self.width() / 7
        for i, name in enumerate(_DAYS):
            draw_text(painter, QRectF(i * w, 0, w, HEADER), Qt.AlignmentFlag.AlignCenter, name)
        for load in self.loads:
            rect = self._cell(load.day).adjusted(2, 2, -2, -2)
            closed = load.available_minutes == 0
            painter.fillRect(rect, QColor("#ececec") if closed else QColor("#fafafa"))
            if not closed:
                bar = QRectF(rect.x() + 4, rect.bottom() - 14, (rect.width() - 8) * load.ratio, 10)
                colour = (
                    "#5aa05a" if load.ratio < 0.7 else "#e0a020" if load.ratio < 0.95 else "#d04040"
                )
                painter.fillRect(bar, QColor(colour))
                draw_text(
                    painter,
                    rect.adjusted(4, 20, -4, -16),
                    Qt.AlignmentFlag.AlignLeft,
                    f"{round(load.ratio * 100)} % occupé",
                )
            pen = (
                QPen(QColor("#1f6fd0"), 2) if load.day == self.current else QPen(QColor("#c0c0c0"))
            )
            painter.setPen(pen)
            painter.drawRect(rect)
            painter.setPen(QColor("#202020"))
            draw_text(
                painter, rect.adjusted(4, 2, -4, 0), Qt.AlignmentFlag.AlignLeft, f"{load.day.day}"
            )
        painter.end()

    def _day_at(self, x: float, y: float) -> date | None:
        if y < HEADER:
            return None
        col, row = int(x // (self.width() / 7)), int((y - HEADER) // ((self.height() - HEADER) / 6))
        day = self._first_monday() + timedelta(days=row * 7 + col)
        return day if day.month == self.current.month else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        day = self._day_at(event.position().x(), event.position().y())
        if day is not None:
            self.current = day
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        day = self._day_at(event.position().x(), event.position().y())
        if day is not None:
            self.sig_day_activated.emit(day)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -7, Qt.Key.Key_Down: 7}
        if event.key() in moves:
            moved = self.current + timedelta(days=moves[Qt.Key(event.key())])
            if moved.month == self.current.month:
                self.current = moved
                self.update()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_day_activated.emit(self.current)
        else:
            super().keyPressEvent(event)
