"""Checks that a window fits the centre's screens (1366×768 with a taskbar) and that its
action buttons can be seen and reached there."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QPushButton,
    QWidget,
)

# 1366×768 less a taskbar at 100 %; 1920×1080 at 125 % leaves about 1536×824.
USABLE = (1366, 728)


def minimum_of(window: QWidget) -> tuple[int, int]:
    hint = window.minimumSizeHint().expandedTo(window.minimumSize())
    return hint.width(), hint.height()


def too_big(window: QWidget, usable: tuple[int, int] = USABLE) -> str | None:
    """Why ``window`` cannot be shown within ``usable``, or None when it can."""
    width, height = minimum_of(window)
    if width > usable[0] or height > usable[1]:
        return f"minimum {width}×{height} > {usable[0]}×{usable[1]}"
    return None


def inside_a_scroll_area(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def seen_on_screen(widget: QWidget) -> bool:
    """The whole widget is shown: visible, inside its window and not clipped by a parent."""
    if not widget.isVisible() or widget.width() <= 0:
        return False
    window = widget.window()
    top_left = widget.mapTo(window, widget.rect().topLeft())
    rect = QRect(top_left, widget.size())
    if not window.rect().contains(rect):
        return False
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        corner = parent.mapTo(window, parent.rect().topLeft())
        if not QRect(corner, parent.size()).contains(rect):
            return False
        parent = parent.parentWidget()
    return True


def on_usable_screen(widget: QWidget, usable: tuple[int, int] = USABLE) -> bool:
    """Seen in its window, and its window's frame lies within the usable screen."""
    if not seen_on_screen(widget):
        return False
    window = widget.window()
    corner = widget.mapToGlobal(widget.rect().topLeft())
    origin = window.mapToGlobal(window.rect().topLeft()) - window.pos()
    rect = QRect(corner - origin, widget.size())
    return QRect(0, 0, *usable).contains(rect)


def hidden_action_buttons(window: QWidget) -> list[str]:
    """Texts of the window's action buttons that are shown but cut off.

    Buttons inside a scrolled form are reached by scrolling; the others (a page's or a
    dialog's own buttons) must be seen as they are.
    """
    QApplication.processEvents()
    missing = []
    for button in window.findChildren(QPushButton):
        if not button.isVisible() or not button.text().strip():
            continue
        if inside_a_scroll_area(button, window):
            continue
        if not seen_on_screen(button):
            missing.append(button.text())
    return missing


def shown_within(window: QWidget, usable: tuple[int, int] = USABLE) -> None:
    """Show ``window`` as a user on that screen would get it: at most the usable size."""
    width, height = minimum_of(window)
    window.resize(
        min(max(window.width(), width), usable[0]), min(max(window.height(), height), usable[1])
    )
    window.move(0, 0)
    window.show()
    layout = window.layout()
    if layout is not None:
        layout.activate()
    QApplication.processEvents()


def button_named(window: QWidget, text: str) -> QAbstractButton:
    found = [b for b in window.findChildren(QAbstractButton) if b.text() == text]
    assert len(found) == 1, f"{len(found)} buttons « {text} »"
    return found[0]
