"""The composition root: builds the Qt application and wires the services into the UI."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
from functools import partial
from typing import Any

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cms_desktop.resources import resource_path
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.tasks import ThreadedTaskRunner
from cms_desktop.ui.widgets import STYLE_SHEET

# Automation (bench/bench_startup.py, scripts/smoke-bundle): once the login window is shown
# and the event loop runs, print LOGIN_SHOWN and quit (exit 1 if the window is not shown).
BENCH_ENV = "CMS_BENCH_EXIT_ON_LOGIN"
BENCH_LOGIN_ENV = "CMS_BENCH_LOGIN"  # "login:password": bench/bench_login.py
LOGIN_SHOWN = "login-window-shown"
MIN_POINT_SIZE = 10.5


def _french(app: QApplication) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    translator = QTranslator(app)
    if translator.load("qtbase_fr", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)


def _application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("cms-desktop")
    app.setApplicationDisplayName("cms-desktop")
    # The icon of every window and of the task bar (the installers use the same picture).
    app.setWindowIcon(QIcon(str(resource_path("icons", "cms-desktop.png"))))
    _french(app)
    font = app.font()
    if font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)
    return app


def _create_demo(app: QApplication, data_dir: DataDir, runner: ThreadedTaskRunner) -> bool:
    """Build the demo centre off the UI thread behind a small progress window."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QProgressDialog

    from cms_desktop.services import demo

    print("Création du centre de démonstration (quelques secondes)…", flush=True)
    progress = QProgressDialog(
        app.translate("app", "Création du centre de démonstration…"), "", 0, 0
    )
    progress.setWindowTitle("cms-desktop")
    progress.setCancelButton(None)
    progress.setMinimumDuration(0)
    progress.setMinimumWidth(420)
    progress.show()
    loop = QEventLoop()
    outcome: list[bool] = []

    def finish(ok: bool) -> None:
        outcome.append(ok)
        loop.quit()

    def failed(message: str) -> None:
        print(f"erreur : {message}", file=sys.stderr)
        finish(False)

    runner.run_write(
        lambda: demo.create_demo_centre(data_dir, patients=2000), lambda _v: finish(True), failed
    )
    if not outcome:
        loop.exec()
    progress.close()
    return outcome == [True]


def _run_wizard(data_dir: DataDir, runner: ThreadedTaskRunner) -> bool:
    from cms_desktop.services import setup, sync_admin
    from cms_desktop.ui.setup_wizard import SetupWizard

    wizard = SetupWizard(
        partial(setup.initialise_centre, data_dir),
        runner,
        join=partial(sync_admin.join_existing_centre, data_dir),
    )
    wizard.exec()
    return data_dir.initialised


def _warm_up() -> None:
    for module in (
        "cms_desktop.services.workspace",
        "cms_desktop.services.session_info",
        "cms_desktop.sync.identity",
        "cms_desktop.sync.service",
        "cms_desktop.services.agenda.views",
        "cms_desktop.services.agenda.booking",
        "cms_desktop.services.patient_search",
        "cms_desktop.services.patient_file",
        "cms_desktop.services.agenda.overlaps",
        "cms_desktop.services.backups",
        "cms_desktop.ui.backup_scheduler",
        # The main window and its first areas: class definitions only, no Qt object.
        "cms_desktop.ui.main_window",
        "cms_desktop.ui.agenda.page",
        "cms_desktop.ui.patients.area",
        "cms_desktop.ui.record",
    ):
        with contextlib.suppress(Exception):  # the real import will report any error
            importlib.import_module(module)
    with contextlib.suppress(Exception):  # the real opening will report any error
        from cms_desktop.storage.store import warm_up

        warm_up()


def _bench_login(app: QApplication, shell: Any, warm_up: threading.Thread, who: str) -> None:
    """Types ``who`` in the login window as a person would (after the seconds spent typing,
    i.e. once the warm-up is done), presses Enter, prints the milliseconds until the main
    window's first paint, then quits."""
    import time

    from PySide6.QtCore import QEvent, QObject

    login, _, password = who.partition(":")
    started: list[float] = []

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and started:
                elapsed = (time.perf_counter() - started[0]) * 1000
                print(f"login-to-first-paint-ms={elapsed:.0f}", flush=True)
                started.clear()
                QTimer.singleShot(0, app.quit)
            return False

    painted = FirstPaint(app)

    def shown(window: Any) -> None:
        for widget in [window, *window.findChildren(QWidget)]:
            widget.installEventFilter(painted)

    def press_enter() -> None:
        if warm_up.is_alive() or not warm_up.ident:
            QTimer.singleShot(50, press_enter)
            return
        shell.login_window.login_edit.setText(login)
        shell.login_window.password_edit.setText(password)
        started.append(time.perf_counter())
        shell.login_window.password_edit.returnPressed.emit()

    shell.sig_main_window_shown.connect(shown)
    QTimer.singleShot(400, press_enter)


def _login(data_dir: DataDir, login: str, password: str) -> Any:
    # Imported on first use (the warm-up thread has usually done it by then): the store,
    # SQLAlchemy and Alembic are not needed to show the login window.
    from cms_desktop.services import workspace

    return workspace.login(data_dir, login, password)


def _recover_access(data_dir: DataDir, code: str, login: str, password: str) -> None:
    from cms_desktop.services import setup

    setup.recover_access(data_dir, code, login, password)


def _demo_centre_checked(app: QApplication, data_dir: DataDir) -> bool:
    """`--demo` on a directory holding a real centre: say so (console and window), refuse."""
    from cms_desktop.services.demo_guard import ensure_demo_centre
    from cms_desktop.services.errors import ServiceError

    try:
        ensure_demo_centre(data_dir)
    except ServiceError as exc:  # not a demo, or a store that cannot be opened
        print(f"erreur : {exc}", file=sys.stderr)
        QMessageBox.critical(None, app.translate("app", "Mode démonstration"), str(exc))
        return False
    return True


def _report_login_window_and_quit(app: QApplication, login_window: Any) -> None:
    shown = bool(login_window.isVisible())
    print(LOGIN_SHOWN if shown else "login-window-not-shown", flush=True)
    app.exit(0 if shown else 1)


def run_gui(data_dir: DataDir, demo_mode: bool) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = _application()
    runner = ThreadedTaskRunner(app)
    demo_hint = None
    if demo_mode:
        from cms_desktop.cli import print_demo_logins
        from cms_desktop.services import demo_accounts as demo

        if data_dir.initialised and not _demo_centre_checked(app, data_dir):
            return 1
        if not data_dir.initialised and not _create_demo(app, data_dir, runner):
            return 1
        print_demo_logins(data_dir)
        demo_hint = (
            app.translate("app", "Comptes : %1 — mot de passe : %2")
            .replace("%1", ", ".join(login for login, _pw, _role in demo.demo_logins()))
            .replace("%2", demo.DEMO_PASSWORD)
        )
    elif not data_dir.initialised and not _run_wizard(data_dir, runner):
        return 0

    from cms_desktop.ui.shell import AppShell

    shell = AppShell(
        partial(_login, data_dir),
        partial(_recover_access, data_dir),
        runner,
        demo_hint,
        app,
        with_backups=True,
    )
    shell.start()
    # While the user types the password, import what the main window will need (services
    # only: no Qt object is made off the UI thread), so that logging in does not wait.
    # Started once the window is painted, not to compete with it for the interpreter.
    warm_up = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    QTimer.singleShot(300, warm_up.start)
    if os.environ.get(BENCH_ENV):
        QTimer.singleShot(0, partial(_report_login_window_and_quit, app, shell.login_window))
    if os.environ.get(BENCH_LOGIN_ENV):
        _bench_login(app, shell, warm_up, os.environ[BENCH_LOGIN_ENV])
    code = app.exec()
    runner.wait_idle()
    return code
