"""Automatic backups while someone is logged in: at the set time each day, and at logout.

The database key is in memory only during a session, so backups run then: the daily one
as soon as its time has passed (a PC switched off at that time catches up at the next
session), and one at logout (the station's last user leaving) when the last good backup
is more than an hour old. Both run off the UI thread; the status bar shows progress and,
at other times, when the last good backup was (in red after 48 h).
"""

from __future__ import annotations

import threading
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from cms_desktop.services import backups
from cms_desktop.services.backups import BackupStatus
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner, user_message

CHECK_EVERY_MS = 60_000


class BackupScheduler(QObject):
    sig_status = Signal(str, bool)
    """The status-bar sentence, and whether it is a warning."""

    sig_progress = Signal(float, str)
    sig_finished = Signal(object)
    """An automatic backup ended; the argument is the BackupStatus after it."""

    def __init__(self, ws: Workspace, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ws = ws
        self._runner = runner
        self.running = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(lambda: self.check())
        self.sig_progress.connect(self._progressed)

    def start(self) -> None:
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def refresh(self) -> None:
        ws = self._ws
        self._runner.run_read(lambda: backups.last_good_backup(ws), self._show, lambda _m: None)

    def _show(self, status: BackupStatus) -> None:
        self.sig_status.emit(status.line, status.attention)

    def _progressed(self, fraction: float, _phase: str) -> None:
        text = QCoreApplication.translate("backups", "Sauvegarde en cours… %1 %")
        self.sig_status.emit(text.replace("%1", str(int(fraction * 100))), False)

    def check(self, now: datetime | None = None) -> None:
        """Start the daily backup (and the monthly test restore) if it is due."""
        if self.running:
            return
        ws = self._ws
        self._runner.run_read(
            lambda: backups.daily_backup_due(ws, now), self._due_checked, lambda _m: None
        )

    def _due_checked(self, due: bool) -> None:
        if not due or self.running:
            return
        self.running = True
        ws, report = self._ws, self.sig_progress.emit
        self._runner.run_read(
            lambda: backups.run_scheduled(ws, "daily", report), self._done, self._failed
        )

    def _done(self, status: BackupStatus) -> None:
        self.running = False
        self._show(status)
        self.sig_finished.emit(status)

    def _failed(self, message: str) -> None:
        self.running = False
        self.sig_status.emit(message, True)

    def at_logout(self, window: QWidget | None = None, now: datetime | None = None) -> bool:
        """Called before the store closes: back up if due, showing progress in a dialog
        while the event loop keeps running (the window repaints). True if one was made."""
        self.timer.stop()
        if self.running or not backups.logout_backup_due(self._ws, now):
            return False
        dialog = QProgressDialog(
            QCoreApplication.translate("backups", "Sauvegarde du centre avant de fermer…"),
            "",
            0,
            100,
            window,
        )
        dialog.setCancelButton(None)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        self.sig_progress.connect(lambda f, _p: dialog.setValue(int(f * 100)))
        loop = QEventLoop()
        self.sig_finished.connect(loop.quit)
        result: list[BackupStatus] = []
        ws, report = self._ws, self.sig_progress.emit

        def work() -> None:
            try:
                result.append(backups.run_scheduled(ws, "logout", report))
            except Exception as exc:  # never stops the logout
                user_message(exc)
            self.sig_finished.emit(result[0] if result else None)

        self.running = True
        thread = threading.Thread(target=work, name="cms-backup-logout")
        thread.start()
        if thread.is_alive():
            loop.exec()
        thread.join()
        self.running = False
        dialog.close()
        return bool(result) and result[0].last_good_at is not None


def status_label(scheduler: BackupScheduler, parent: QWidget) -> QLabel:
    """The status-bar label that follows the scheduler."""
    label = QLabel(parent)

    def show(text: str, warning: bool) -> None:
        label.setText(text)
        label.setStyleSheet("color: #b00020; font-weight: 600;" if warning else "")

    scheduler.sig_status.connect(show)
    return label
