"""Moves between the login window and one user's main window (login → work → logout → login)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from cms_desktop.services.actor import Actor
from cms_desktop.ui.login import LoginWindow, Recover
from cms_desktop.ui.tasks import TaskRunner

# The store, SQLAlchemy and the main window are imported once a user logs in (app.py warms
# them up in the background meanwhile): the login window must not wait for them.
if TYPE_CHECKING:
    from cms_desktop.services.workspace import Workspace
    from cms_desktop.ui.main_window import MainWindow

LoginFn = Callable[[str, str], "tuple[Workspace, Actor]"]


@dataclass(frozen=True)
class Session:
    workspace: Workspace
    actor: Actor
    centre_name: str
    auto_lock_minutes: int


class AppShell(QObject):
    sig_main_window_shown = Signal(object)
    """A user logged in; the argument is their MainWindow."""

    def __init__(
        self,
        login: LoginFn,
        recover: Recover,
        runner: TaskRunner,
        demo_hint: str | None = None,
        parent: QObject | None = None,
        *,
        with_sync: bool = True,
        with_backups: bool = False,
    ) -> None:
        super().__init__(parent)
        self._with_sync = with_sync
        self._with_backups = with_backups
        self._login = login
        self._runner = runner
        self.login_window = LoginWindow(self._open_session, recover, runner, demo_hint)
        self.login_window.sig_logged_in.connect(self._show_main)
        self.main_window: MainWindow | None = None

    def _open_session(self, login_name: str, password: str) -> Session:
        from cms_desktop.services.session_info import centre_summary

        workspace, actor = self._login(login_name, password)
        summary = centre_summary(workspace)
        return Session(workspace, actor, summary.name, summary.auto_lock_minutes)

    def start(self) -> None:
        self.login_window.show()

    def _show_main(self, session: Session) -> None:
        from cms_desktop.ui.main_window import MainWindow

        window = MainWindow(
            session.workspace,
            session.actor,
            self._runner,
            session.centre_name,
            session.auto_lock_minutes,
        )
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        window.sig_logged_out.connect(self._back_to_login)
        if self._with_sync:
            self._start_sync(window, session.workspace)
        if self._with_backups:
            self._start_backups(window, session.workspace)
        self.main_window = window
        self.login_window.hide()
        window.show()
        self.sig_main_window_shown.emit(window)

    def _start_sync(self, window: MainWindow, workspace: Workspace) -> None:
        from cms_desktop.ui.sync.background import BackgroundSync

        sync = BackgroundSync(workspace)
        sync.bridge.status_text.connect(window.set_sync_state)
        if sync.start():
            window.before_store_closes.append(sync.stop)
            if sync.service is not None:  # merges from other stations refresh the screens
                sync.service.replica.add_listener(
                    lambda outcome: window.changes.notify(frozenset(outcome.touched))
                )
            window.background_sync = sync  # type: ignore[attr-defined]
            # The Synchronisation page is built when first shown (not at login).
            window.when_built("sync", lambda page: _wire_sync_page(page, sync))
        elif sync.error:
            window.set_sync_state(sync.error)

    def _start_backups(self, window: MainWindow, workspace: Workspace) -> None:
        from cms_desktop.ui.backup_scheduler import BackupScheduler, status_label

        scheduler = BackupScheduler(workspace, self._runner, window)
        window.statusBar().addPermanentWidget(status_label(scheduler, window))

        def back_up_at_logout() -> None:
            scheduler.at_logout(window)

        window.before_store_closes.append(back_up_at_logout)
        window.backup_scheduler = scheduler  # type: ignore[attr-defined]
        scheduler.start()

    def _back_to_login(self) -> None:
        self.main_window = None
        self.login_window.reset()
        self.login_window.show()
        self.login_window.activateWindow()


def _wire_sync_page(page: object, sync: object) -> None:
    requested = getattr(page, "sync_now_requested", None)
    if requested is not None:
        requested.connect(sync.request_pass)  # type: ignore[attr-defined]
        page.set_sync_available(True)  # type: ignore[attr-defined]
