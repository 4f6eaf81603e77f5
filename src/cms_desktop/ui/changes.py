"""One change signal for the open screens: after each local save and each sync merge.

The store calls ``notify`` on the thread that committed (the writer thread, or the sync
thread after a merge); Qt queues the signal to the UI thread. Screens connect ``changed``
and refresh what they show, keeping their selection and anything typed but not saved.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal


class ChangeHub(QObject):
    changed = Signal(object)
    """frozenset of the tables changed (by this station or merged from another)."""

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued even from the UI thread: a screen refreshes after the save's own callback.
        self._posted.connect(self.changed, Qt.ConnectionType.QueuedConnection)

    def notify(self, tables: frozenset[str]) -> None:
        """Thread-safe: tell the screens (on the UI thread) that ``tables`` changed."""
        if tables:
            self._posted.emit(frozenset(tables))


def concerns(tables: frozenset[str], watched: frozenset[str]) -> bool:
    """Whether a change of ``tables`` is one a screen watching ``watched`` must show."""
    return bool(tables & watched)
