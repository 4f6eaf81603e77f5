"""The agenda grid, painted by hand (fast for 7 columns × 11 hours): one column per
practitioner, room or day, bookable time shaded, appointments as coloured blocks, the
current-time line. Mouse: click selects, double-click books or edits, right-click opens the
actions menu, drag moves.
Keyboard: arrows move the cursor, Ctrl+arrows move the selected appointment, Enter edits it
(or books on free time), the Menu key or Shift+F10 opens its actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QStaticText,
    QTextOption,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda.common import AppointmentView, local_now
from cms_desktop.services.agenda.views import DayAgenda

HEADER = 38
GUTTER = 48
STEP = timedelta(minutes=5)
CURSOR_STEP = timedelta(minutes=15)
# Narrower, a name shows as 2–3 letters: past this, the grid scrolls sideways instead.
MIN_COLUMN = 150
STATUS_STRIPE = 7


@dataclass(frozen=True)
class CellTarget:
    """Where the cursor or the mouse is: a column key and a wall-clock time."""

    column: int
    start: datetime


def draw_text(painter: QPainter, rect: QRectF | QRect, align: Qt.AlignmentFlag, text: str) -> None:
    """drawText through the QTextOption overload: the flags overload's optional bounding-rect
    out-parameter makes PySide6 release None once too often (a crash in long sessions).
    """
    painter.drawText(QRectF(rect), text, QTextOption(align))


_COLOURS: dict[tuple[str, int], QColor] = {}


def _qcolor(text: str, alpha: int = 255) -> QColor:
    """The colour, parsed once per (name, alpha): the grid paints hundreds of blocks."""
    colour = _COLOURS.get((text, alpha))
    if colour is None:
        colour = QColor(text)
        colour.setAlpha(alpha)
        _COLOURS[(text, alpha)] = colour
    return colour


# Pens and colours made once, not per block and per repaint.
_BACKGROUND = QColor("#f4f4f4")
_WHITE = QColor("white")
_COLUMN_PEN = QPen(QColor("#c8c8c8"))
_HEADER_TEXT = QColor("#202020")
_HOUR_PEN = QPen(QColor("#d0d0d0"))
_HOUR_TEXT = QColor("#505050")
_HALF_HOUR_PEN = QPen(QColor("#e6e6e6"), 1, Qt.PenStyle.DotLine)
_CANCELLED_FILL = QColor("#e0e0e0")
_CANCELLED_PEN = QPen(QColor("#a0a0a0"), 1, Qt.PenStyle.DashLine)
_CANCELLED_TEXT = QColor("#606060")
_BLOCK_PEN = QPen(QColor("#303030"), 1)
_SELECTED_PEN = QPen(QColor("#d00000"), 3)


# Where the patient stands, seen at a glance in the grid: a mark before the time and a
# coloured stripe down the block's left edge (booked: none).
STATUS_MARKS: dict[VisitStatus, tuple[str, str]] = {
    VisitStatus.ARRIVED: ("●", "#1b8a3a"),
    VisitStatus.IN_CONSULTATION: ("▶", "#1f5fa8"),
    VisitStatus.SEEN: ("✔", "#6b6b6b"),
    VisitStatus.NO_SHOW: ("✗", "#b00020"),
}


def block_text(appt: AppointmentView) -> str:
    """The label of an appointment's block: status mark, time, patient (or type), status."""
    label = appt.patient_name or appt.type_label
    status = "" if appt.status.value == "booked" else f" · {appt.status_label}"
    text = f"{appt.start.hour:02d}:{appt.start.minute:02d} {label}{status}"
    mark = STATUS_MARKS.get(appt.status)
    if mark is not None:
        text = f"{mark[0]} {text}"
    return "⚠ " + text if appt.provisional else text


def block_tooltip(appt: AppointmentView) -> str:
    """Everything a narrow block cannot show: patient, type, reason, status, practitioner."""
    lines = [
        f"{appt.start:%H:%M}–{appt.end:%H:%M} — {appt.patient_name or appt.type_label}",
        f"Type : {appt.type_label}",
    ]
    if appt.reason:
        lines.append(f"Motif : {appt.reason}")
    status = f"Statut : {appt.status_label}"
    if appt.arrived_at is not None and appt.status is VisitStatus.ARRIVED:
        status += f" à {appt.arrived_at:%H:%M}"
    lines.append(status)
    lines.append(f"Praticien : {appt.practitioner_name}")
    if appt.room_name:
        lines.append(f"Salle : {appt.room_name}")
    if appt.cancel_reason:
        lines.append(f"Annulé : {appt.cancel_reason}")
    lines.extend(appt.warnings)
    return "\n".join(lines)


class DayView(QWidget):
    """Painted agenda grid; emits requests, never calls services itself."""

    sig_book_requested = Signal(int, object)  # column index, start datetime
    """Double-click or Enter on free time."""
    sig_open_requested = Signal(object, QPoint)  # AppointmentView, global position
    """Right-click, the Menu key or Shift+F10 on an appointment (its actions menu)."""
    sig_edit_requested = Signal(object, QPoint)  # AppointmentView, global position
    """Double-click or Enter on an appointment."""
    sig_move_requested = Signal(object, int, object)  # AppointmentView, column, new start
    """Drag and drop, or Ctrl+arrows, on an appointment."""
    sig_selection_changed = Signal(object)  # AppointmentView | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(480, 420)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(False)
        self.agenda: DayAgenda | None = None
        self.first_hour, self.last_hour = 8, 20
        self.selected: AppointmentView | None = None
        self.cell = CellTarget(0, datetime.combine(local_now().date(), time(9)))
        self.now_provider = local_now
        self._drag_from: QPoint | None = None
        self._drag_target: CellTarget | None = None
        # (column, appointment, label), cancelled ones first so active blocks paint on top.
        self._blocks: list[tuple[int, AppointmentView, str]] = []
        # Appointment id → (lane, lanes): a double booking (made on two stations cut off
        # from each other) shows as two blocks side by side, each one visible and clickable.
        self._lanes: dict[str, tuple[int, int]] = {}
        self._labels: dict[tuple[str, int], QStaticText] = {}
        self._font_key = ""
        self._fonts_cache: tuple[QFont, QFont, QFontMetricsF] | None = None
        self.setAccessibleName(self.tr("Agenda"))

    # ---- data ---------------------------------------------------------------------------

    def set_agenda(self, agenda: DayAgenda) -> None:
        self.agenda = agenda
        self.setMinimumWidth(GUTTER + max(1, len(agenda.columns)) * MIN_COLUMN)
        self._blocks = [
            (i, a, block_text(a))
            for i, a in sorted(self.appointments(), key=lambda p: not p[1].cancelled)
        ]
        self._lanes = _lanes(agenda)
        starts = [a.start for c in agenda.columns for a in c.appointments]
        ends = [a.end for c in agenda.columns for a in c.appointments]
        starts += [s for c in agenda.columns for s, _ in c.available] + [
            s for s, _ in agenda.opening
        ]
        ends += [e for c in agenda.columns for _, e in c.available] + [e for _, e in agenda.opening]
        self.first_hour = min([8, *(s.hour for s in starts)])
        self.last_hour = max([19, *((e.hour + (1 if e.minute else 0)) for e in ends)])
        self.last_hour = min(24, max(self.last_hour, self.first_hour + 1))
        if self.selected is not None:
            self.selected = next(
                (a for c in agenda.columns for a in c.appointments if a.id == self.selected.id),
                None,
            )
        column = min(self.cell.column, max(0, len(agenda.columns) - 1))
        self.cell = CellTarget(column, self._day_of(column, self.cell.start.time()))
        self.update()

    def _day_of(self, column: int, at: time) -> datetime:
        assert self.agenda is not None
        key = self.agenda.columns[column].key if self.agenda.columns else ""
        try:
            day = date.fromisoformat(key)  # the week view's columns are days
        except ValueError:
            day = self.agenda.day
        return datetime.combine(day, at)

    def appointments(self) -> list[tuple[int, AppointmentView]]:
        if self.agenda is None:
            return []
        return [(i, a) for i, c in enumerate(self.agenda.columns) for a in c.appointments]

    def select(self, appointment: AppointmentView | None) -> None:
        self.selected = appointment
        if appointment is not None:
            column = next(
                (i for i, a in self.appointments() if a.id == appointment.id), self.cell.column
            )
            self.cell = CellTarget(column, appointment.start)
        self.sig_selection_changed.emit(appointment)
        self.update()

    # ---- geometry -----------------------------------------------------------------------

    def _column_width(self) -> float:
        count = len(self.agenda.columns) if self.agenda and self.agenda.columns else 1
        return max(40.0, (self.width() - GUTTER) / count)

    def _minute_height(self) -> float:
        return (self.height() - HEADER) / ((self.last_hour - self.first_hour) * 60)

    def y_of(self, moment: datetime) -> float:
        minutes = (moment.hour - self.first_hour) * 60 + moment.minute
        return HEADER + minutes * self._minute_height()

    def rect_of(self, column: int, start: datetime, end: datetime) -> QRectF:
        width = self._column_width()
        x = GUTTER + column * width
        top = self.y_of(start)
        bottom = self.y_of(end) if end.date() == start.date() else float(self.height())
        return QRectF(x + 2, top, width - 4, max(6.0, bottom - top))

    def target_at(self, pos: QPoint) -> CellTarget | None:
        if self.agenda is None or not self.agenda.columns or pos.x() < GUTTER or pos.y() < HEADER:
            return None
        column = min(len(self.agenda.columns) - 1, int((pos.x() - GUTTER) / self._column_width()))
        minutes = (pos.y() - HEADER) / self._minute_height()
        step = STEP.total_seconds() / 60
        minutes = int(minutes // step * step)
        base = self._day_of(column, time(self.first_hour))
        return CellTarget(column, base + timedelta(minutes=minutes))

    def block_rect(self, column: int, appt: AppointmentView) -> QRectF:
        """Where an appointment's block is drawn (and clicked)."""
        return self._placed(self.rect_of(column, appt.start, appt.end), appt)

    def _placed(self, rect: QRectF, appt: AppointmentView) -> QRectF:
        if appt.cancelled:
            return rect.adjusted(rect.width() * 0.55, 0, 0, 0)  # greyed, to the side
        lane, lanes = self._lanes.get(appt.id, (0, 1))
        if lanes > 1:
            width = rect.width() / lanes
            return QRectF(rect.x() + lane * width, rect.y(), width - 1, rect.height())
        return rect

    def appointment_at(self, pos: QPoint) -> AppointmentView | None:
        # Active appointments above cancelled ones when they share the place.
        hits = [a for i, a in self.appointments() if self.block_rect(i, a).contains(pos)]
        hits.sort(key=lambda a: a.cancelled)
        return hits[0] if hits else None

    # ---- painting -----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        self._paint(QRectF(event.rect()))

    def _fonts(self) -> tuple[QFont, QFont, QFontMetricsF]:
        """The small and bold fonts with the small one's metrics, rebuilt on a font change."""
        key = self.font().key()
        if self._font_key != key or self._fonts_cache is None:
            small = QFont(self.font())
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
            bold = QFont(self.font())
            bold.setBold(True)
            self._fonts_cache = (small, bold, QFontMetricsF(small))
            self._font_key = key
            self._labels.clear()
        return self._fonts_cache

    def _paint(self, exposed: QRectF | None = None) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self.agenda is None:
            painter.end()
            return
        exposed = exposed if exposed is not None else QRectF(self.rect())
        width = self._column_width()
        small, bold, small_metrics = self._fonts()
        for i, column in enumerate(self.agenda.columns):
            x = GUTTER + i * width
            for start, end in column.available:
                painter.fillRect(self.rect_of(i, start, end).adjusted(-2, 0, 2, 0), _WHITE)
            painter.setPen(_COLUMN_PEN)
            painter.drawLine(int(x), 0, int(x), self.height())
            painter.fillRect(QRectF(x, 0, width, HEADER - 2), _qcolor(column.colour, 60))
            painter.setPen(_HEADER_TEXT)
            painter.setFont(bold)
            draw_text(
                painter,
                QRectF(x + 4, 2, width - 8, 18),
                Qt.AlignmentFlag.AlignLeft,
                self._elide(column.title, width - 8, bold),
            )
            painter.setFont(small)
            draw_text(
                painter,
                QRectF(x + 4, 19, width - 8, 16),
                Qt.AlignmentFlag.AlignLeft,
                self._elide(column.subtitle, width - 8, small),
            )
        painter.setFont(small)
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(datetime.combine(self.agenda.day, time(hour % 24)))
            if hour == 24:
                y = float(self.height())
            painter.setPen(_HOUR_PEN)
            painter.drawLine(GUTTER, int(y), self.width(), int(y))
            painter.setPen(_HOUR_TEXT)
            draw_text(
                painter,
                QRect(2, int(y), GUTTER - 6, 14),
                Qt.AlignmentFlag.AlignRight,
                f"{hour:02d}:00",
            )
            half = y + 30 * self._minute_height()
            painter.setPen(_HALF_HOUR_PEN)
            painter.drawLine(GUTTER, int(half), self.width(), int(half))
        self._paint_appointments(painter, exposed, small_metrics)
        self._paint_cursor(painter)
        self._paint_now(painter)
        painter.end()

    def _elide(self, text: str, width: float, font: QFont) -> str:
        return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(width))

    def _label(self, text: str, width: int, metrics: QFontMetricsF) -> QStaticText:
        """The elided label laid out once: shaping text is the main cost of a repaint."""
        key = (text, width)
        label = self._labels.get(key)
        if label is None:
            if len(self._labels) > 4000:
                self._labels.clear()
            label = QStaticText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))
            label.setTextFormat(Qt.TextFormat.PlainText)
            self._labels[key] = label
        return label

    def _paint_appointments(
        self, painter: QPainter, exposed: QRectF, metrics: QFontMetricsF
    ) -> None:
        """Every block (cancelled ones first, under the active ones) that meets `exposed`."""
        width = self._column_width()
        minute_height = self._minute_height()
        origin = HEADER - self.first_hour * 60 * minute_height
        full_height = float(self.height())
        line_height = metrics.height()
        selected_id = self.selected.id if self.selected is not None else None
        for column, appt, text in self._blocks:
            start, end = appt.start, appt.end
            top = origin + (start.hour * 60 + start.minute) * minute_height
            bottom = (
                origin + (end.hour * 60 + end.minute) * minute_height
                if end.date() == start.date()
                else full_height
            )
            rect = self._placed(
                QRectF(GUTTER + column * width + 2, top, width - 4, max(6.0, bottom - top)), appt
            )
            if not rect.intersects(exposed):
                continue
            if appt.cancelled:
                painter.setBrush(_CANCELLED_FILL)
                painter.setPen(_CANCELLED_PEN)
            else:
                painter.setBrush(_qcolor(appt.colour, 210))
                painter.setPen(_BLOCK_PEN)
            if selected_id == appt.id:
                painter.setPen(_SELECTED_PEN)
            painter.drawRoundedRect(rect, 3, 3)
            mark = STATUS_MARKS.get(appt.status)
            if mark is not None:
                painter.fillRect(
                    QRectF(rect.left(), rect.top(), STATUS_STRIPE, rect.height()),
                    _qcolor(mark[1]),
                )
                rect = rect.adjusted(STATUS_STRIPE, 0, 0, 0)
            painter.setPen(_CANCELLED_TEXT if appt.cancelled else _WHITE)
            label = self._label(text, int(rect.width() - 5), metrics)
            text_box = rect.adjusted(3, 1, -2, 0)
            if line_height > text_box.height():
                # A short block: the label is cut at its bottom edge, as drawText would do.
                painter.save()
                painter.setClipRect(text_box, Qt.ClipOperation.IntersectClip)
                painter.drawStaticText(text_box.topLeft(), label)
                painter.restore()
            else:
                painter.drawStaticText(text_box.topLeft(), label)

    def _paint_cursor(self, painter: QPainter) -> None:
        if self.selected is not None or not self.hasFocus():
            return
        c = self.cell
        rect = self.rect_of(c.column, c.start, c.start + CURSOR_STEP)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("#1f6fd0"), 2))
        painter.drawRect(rect)
        if self._drag_target is not None and self.selected is not None:
            painter.drawRect(
                self.rect_of(
                    self._drag_target.column,
                    self._drag_target.start,
                    self._drag_target.start + timedelta(minutes=15),
                )
            )

    def _paint_now(self, painter: QPainter) -> None:
        assert self.agenda is not None
        now = self.now_provider()
        days = [self._day_of(i, time(0)).date() for i in range(len(self.agenda.columns))]
        if now.date() not in days or not self.first_hour <= now.hour < self.last_hour:
            return
        y = int(self.y_of(now))
        painter.setPen(QPen(QColor("#e00000"), 2))
        if all(d == days[0] for d in days):
            painter.drawLine(GUTTER, y, self.width(), y)
        else:
            i = days.index(now.date())
            x = int(GUTTER + i * self._column_width())
            painter.drawLine(x, y, int(x + self._column_width()), y)

    # ---- input --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        pos = event.position().toPoint()
        appt = self.appointment_at(pos)
        target = self.target_at(pos)
        if target is not None and appt is None:
            self.cell = target
        self.select(appt)
        if event.button() == Qt.MouseButton.RightButton and appt is not None:
            self.sig_open_requested.emit(appt, event.globalPosition().toPoint())
        elif appt is not None and not appt.cancelled:
            self._drag_from = pos

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None or self.selected is None:
            return
        pos = event.position().toPoint()
        if (pos - self._drag_from).manhattanLength() < 6:
            return
        target = self.target_at(pos)
        if target is not None:
            offset = (
                self._drag_from.y() - self.rect_of(0, self.selected.start, self.selected.end).y()
            )
            shifted = self.target_at(QPoint(pos.x(), int(pos.y() - offset)))
            self._drag_target = shifted or target
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        target, appt = self._drag_target, self.selected
        self._drag_from, self._drag_target = None, None
        if (
            target is not None
            and appt is not None
            and (target.start != appt.start or self._column_of(appt) != target.column)
        ):
            self.sig_move_requested.emit(appt, target.column, target.start)
        self.update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            appt = self.appointment_at(event.pos())
            if appt is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), block_tooltip(appt), self)
            return True
        return super().event(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        appt = self.appointment_at(pos)
        if appt is not None:
            self.sig_edit_requested.emit(appt, event.globalPosition().toPoint())
            return
        target = self.target_at(pos)
        if target is not None:
            self.cell = target
            self.sig_book_requested.emit(target.column, target.start)

    def _selected_centre(self) -> QPoint:
        """Global position of the selected block's centre, where its menu opens."""
        appt = self.selected
        if appt is None:
            return self.mapToGlobal(self.rect().center())
        rect = self.rect_of(self._column_of(appt), appt.start, appt.end)
        return self.mapToGlobal(rect.center().toPoint())

    def _column_of(self, appt: AppointmentView) -> int:
        return next((i for i, a in self.appointments() if a.id == appt.id), 0)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.agenda is None or not self.agenda.columns:
            super().keyPressEvent(event)
            return
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        arrows = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)
        if ctrl and key in arrows and self.selected is not None and not self.selected.cancelled:
            column, start = self._column_of(self.selected), self.selected.start
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                start += STEP if key == Qt.Key.Key_Down else -STEP
            else:
                column += 1 if key == Qt.Key.Key_Right else -1
                if not 0 <= column < len(self.agenda.columns):
                    return
                start = self._day_of(column, start.time())
            self.sig_move_requested.emit(self.selected, column, start)
        elif key in arrows and not ctrl:
            self.selected = None
            c = self.cell
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                start = c.start + (CURSOR_STEP if key == Qt.Key.Key_Down else -CURSOR_STEP)
                self.cell = CellTarget(c.column, start)
            else:
                column = max(
                    0,
                    min(
                        len(self.agenda.columns) - 1,
                        c.column + (1 if key == Qt.Key.Key_Right else -1),
                    ),
                )
                self.cell = CellTarget(column, self._day_of(column, c.start.time()))
            hit = next(
                (
                    a
                    for i, a in self.appointments()
                    if i == self.cell.column
                    and a.start <= self.cell.start < a.end
                    and not a.cancelled
                ),
                None,
            )
            self.select(hit)
            if hit is not None:
                self.cell = CellTarget(self.cell.column, self.cell.start)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.selected is not None:
                self.sig_edit_requested.emit(self.selected, self._selected_centre())
            else:
                self.sig_book_requested.emit(self.cell.column, self.cell.start)
        elif self.selected is not None and (
            key == Qt.Key.Key_Menu
            or (key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier)
        ):
            self.sig_open_requested.emit(self.selected, self._selected_centre())
        else:
            super().keyPressEvent(event)
            return
        self.update()


def _lanes(agenda: DayAgenda) -> dict[str, tuple[int, int]]:
    """Side-by-side lanes for the active appointments of each column that overlap."""
    placed: dict[str, tuple[int, int]] = {}
    for column in agenda.columns:
        active = sorted(
            (a for a in column.appointments if not a.cancelled), key=lambda a: (a.start, a.end)
        )
        cluster: list[tuple[AppointmentView, int]] = []
        lane_ends: list[datetime] = []
        cluster_end: datetime | None = None

        def close(group: list[tuple[AppointmentView, int]], lanes: int) -> None:
            for appt, lane in group:
                placed[appt.id] = (lane, lanes)

        for appt in active:
            if cluster_end is not None and appt.start >= cluster_end:
                close(cluster, len(lane_ends))
                cluster, lane_ends, cluster_end = [], [], None
            lane = next((n for n, end in enumerate(lane_ends) if end <= appt.start), None)
            if lane is None:
                lane = len(lane_ends)
                lane_ends.append(appt.end)
            else:
                lane_ends[lane] = appt.end
            cluster.append((appt, lane))
            cluster_end = appt.end if cluster_end is None else max(cluster_end, appt.end)
        close(cluster, len(lane_ends))
    return placed
