"""Guards against a Qt binding that leaks references to None (PySide6 6.12.0 on Python 3.11).

Such a leak aborts the process after enough repaints, so an upgrade that brings it back
must fail here rather than in a consulting room.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_qt_calls_keep_none_referenced(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
        timer.setInterval(5)
    # Other threads may take or drop a few references meanwhile; a leak loses 2,000.
    assert sys.getrefcount(None) > before - 100
