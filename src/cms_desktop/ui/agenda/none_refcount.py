"""Work-around for PySide6 6.12 on Python 3.11: every call of a Qt method returning void
drops one reference to None, and a few thousand painter calls per repaint would bring None
to zero and abort the process. Painting code runs inside `keep_none_alive()`, which gives
the lost references back. Harmless (and skipped) on Python 3.12+, where None is immortal.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_NEEDED = sys.version_info < (3, 12)


@contextmanager
def keep_none_alive() -> Iterator[None]:
    if not _NEEDED:
        yield
        return
    before = sys.getrefcount(None)
    try:
        yield
    finally:
        lost = before - sys.getrefcount(None)
        incref = ctypes.pythonapi.Py_IncRef
        incref.argtypes = [ctypes.py_object]
        for _ in range(max(0, lost)):
            incref(None)
