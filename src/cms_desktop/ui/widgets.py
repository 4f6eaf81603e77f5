"""Small widgets shared by the screens: the inline error line, password fields, the style sheet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QWidget,
)

# Sober palette: one accent for the primary action, a red that reads on white and on grey.
STYLE_SHEET = """
QLabel#errorLabel { color: #b00020; font-weight: 600; }
QLabel#demoBanner { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36c;
                    border-radius: 4px; padding: 8px; }
QLabel#pageTitle { font-size: 15pt; font-weight: 600; }
QLabel#appTitle { font-size: 18pt; font-weight: 600; }
QLabel#hint { color: #555555; }
QPushButton#accessButton { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36c;
                           border-radius: 3px; padding: 4px 10px; font-weight: 600; }
QLabel#progress { color: #1f5fa8; font-weight: 600; }
QStatusBar QLabel { padding: 2px 10px; }
QStatusBar::item { border: none; border-left: 1px solid #c8d0d8; }
QWidget#headerBar { background: #eef2f6; border-bottom: 1px solid #c8d0d8; }
QListWidget#navigation { background: #f6f8fa; border: none; border-right: 1px solid #c8d0d8;
                         font-size: 11pt; }
QListWidget#navigation::item { padding: 10px 14px; }
QListWidget#navigation::item:selected { background: #1f5fa8; color: white; }
QLineEdit[readOnly="true"] { background: #eef1f4; color: #333333; border: 1px solid #d5dbe1; }
QLabel#recoveryCode { font-family: "DejaVu Sans Mono", "Consolas", monospace; font-size: 20pt;
                      font-weight: 600; padding: 12px; border: 2px dashed #888888;
                      background: #fafafa; }
"""


class ErrorLabel(QLabel):
    """A red, word-wrapped line under a form; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorLabel")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.show_message("")


def compact_combo(combo: QComboBox, characters: int) -> QComboBox:
    """A combo as wide as ``characters``, whatever its items: long items are elided in the
    box and shown whole in the open list, instead of widening the window past the screen."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)
    return combo


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize ``window`` to width×height, or less on a screen that is smaller (a dialog
    taller than a 1366×768 screen would put its buttons under the taskbar)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        width = min(width, available.width())
        height = min(height, available.height() - 40)  # the title bar
    window.resize(width, height)


def password_edit(parent: QWidget | None = None) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def ask(parent: QWidget | None, title: str, question: str) -> bool:
    """A yes/no question whose default answer is « Non » (destructive actions ask first)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    yes = box.addButton(box.tr("Oui"), QMessageBox.ButtonRole.YesRole)
    no = box.addButton(box.tr("Non"), QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes


def inform(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def shortcut(widget: QWidget, keys: str, slot: Callable[[], object]) -> QShortcut:
    """A key sequence active while the focus is in ``widget`` or one of its children."""
    sc = QShortcut(QKeySequence(keys), widget)
    sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    sc.activated.connect(slot)
    return sc


def offer_patients(
    edit: QLineEdit,
    error: ErrorLabel,
    choices: Sequence[Any],
    pick: Callable[[str, str], object],
) -> QMenu | None:
    """Patient search results (``.id``, ``.label``) under ``edit``: none is said in
    ``error``, one is picked at once, several are offered in a menu below the field (the
    caller keeps the menu, so that it is not collected while shown)."""
    if not choices:
        error.show_message("Aucun patient ne correspond.")
        return None
    error.clear_message()
    if len(choices) == 1:
        pick(choices[0].id, choices[0].label)
        return None
    menu = QMenu(edit)
    for choice in choices:
        menu.addAction(choice.label, partial(pick, choice.id, choice.label))
    menu.popup(edit.mapToGlobal(edit.rect().bottomLeft()))
    return menu
