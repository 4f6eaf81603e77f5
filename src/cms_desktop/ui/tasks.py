"""Runs service calls off the UI thread and hands results back on it (as Picard's ``run_task``).

Writes go through a single worker thread (SQLite has one writer); reads and other work use
a thread pool. Tests swap in ``SyncTaskRunner``, which runs everything at once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.errors import ServiceError

log = logging.getLogger(__name__)

Success = Callable[[Any], None]
Failure = Callable[[str], None]


def unexpected_error_message() -> str:
    return QCoreApplication.translate(
        "tasks",
        "Une erreur inattendue est survenue. L'opération n'a pas été effectuée ; "
        "réessayez, et si le problème persiste, prévenez l'administrateur du centre.",
    )


def user_message(exc: BaseException) -> str:
    """The French sentence to show for ``exc``; unexpected errors are logged without their text."""
    if isinstance(exc, ServiceError | PermissionDenied):
        return str(exc)
    # The exception's arguments may hold patient data: log only its type and where it came from.
    # Source lines are left out too: only file, line and function name.
    frames = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    )
    log.error("Unexpected %s in a background task\n%s", type(exc).__name__, frames)
    return unexpected_error_message()


def show_error(message: str) -> None:
    """Default error handler: a plain French message box, never a traceback."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    QMessageBox.warning(
        QApplication.activeWindow(), QCoreApplication.translate("tasks", "Erreur"), message
    )


class TaskRunner(Protocol):
    def run_write(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None: ...

    def run_read(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None: ...

    def busy(self) -> bool: ...

    def wait_idle(self) -> None: ...


class _Relay(QObject):
    """Lives on the UI thread; the worker emits, Qt queues the call back onto the UI thread."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self, on_success: Success | None, on_error: Failure | None, done: Callable[[_Relay], None]
    ) -> None:
        super().__init__()
        self._on_success = on_success
        self._on_error = on_error or show_error
        self._done = done
        self.succeeded.connect(self._deliver_success)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_success(self, value: object) -> None:
        self._done(self)
        if self._on_success is not None:
            self._on_success(value)

    @Slot(str)
    def _deliver_error(self, message: str) -> None:
        self._done(self)
        self._on_error(message)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as exc:  # every failure must reach the user as a sentence
            self._relay.failed.emit(user_message(exc))
        else:
            self._relay.succeeded.emit(value)


class ThreadedTaskRunner(QObject):
    """The application's runner: one writer thread, a pool for the rest."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._readers = QThreadPool(self)
        self._readers.setMaxThreadCount(max(2, QThreadPool.globalInstance().maxThreadCount()))
        self._pending: set[_Relay] = set()

    def _submit(
        self,
        pool: QThreadPool,
        fn: Callable[[], Any],
        on_success: Success | None,
        on_error: Failure | None,
    ) -> None:
        relay = _Relay(on_success, on_error, self._pending.discard)
        self._pending.add(relay)  # keeps the relay alive until its result is delivered
        pool.start(_Job(fn, relay))

    def run_write(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None:
        self._submit(self._writer, fn, on_success, on_error)

    def run_read(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None:
        self._submit(self._readers, fn, on_success, on_error)

    def busy(self) -> bool:
        return bool(self._pending)

    def wait_idle(self) -> None:
        """Block until running jobs end (at shutdown, before the store is closed)."""
        self._writer.waitForDone()
        self._readers.waitForDone()


class SyncTaskRunner:
    """Runs each task at once on the calling thread: deterministic tests, same error handling."""

    def _run(
        self, fn: Callable[[], Any], on_success: Success | None, on_error: Failure | None
    ) -> None:
        try:
            value = fn()
        except Exception as exc:
            (on_error or show_error)(user_message(exc))
            return
        if on_success is not None:
            on_success(value)

    def run_write(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None:
        self._run(fn, on_success, on_error)

    def run_read(
        self,
        fn: Callable[[], Any],
        on_success: Success | None = None,
        on_error: Failure | None = None,
    ) -> None:
        self._run(fn, on_success, on_error)

    def busy(self) -> bool:
        return False

    def wait_idle(self) -> None:
        return None
