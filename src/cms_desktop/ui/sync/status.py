"""Status-bar text of the sync service, delivered on the UI thread.

``SyncStatusBridge.publish`` may be called from the sync thread (it is the service's
``on_status``); Qt queues the signal to the UI thread, where the integrator connects it to
``MainWindow.set_sync_state``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from cms_desktop.sync.service import SyncStatus


class SyncStatusBridge(QObject):
    status_text = Signal(str)
    status_changed = Signal(object)

    def publish(self, status: SyncStatus) -> None:
        self.status_changed.emit(status)
        self.status_text.emit(status.text)
