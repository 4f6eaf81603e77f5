"""The LAN sync service starts with the main window of a paired station and stops at logout."""

from __future__ import annotations

import socket
from functools import partial

from pytestqt.qtbot import QtBot

from cms_desktop.services import setup
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync import identity
from cms_desktop.ui.shell import AppShell
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _log_in(qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner) -> AppShell:
    shell = AppShell(partial(login, centre), partial(setup.recover_access, centre), runner)
    qtbot.addWidget(shell.login_window)
    shell.start()
    qtbot.keyClicks(shell.login_window.login_edit, "accueil")
    qtbot.keyClicks(shell.login_window.password_edit, PASSWORD)
    shell.login_window.submit_button.click()
    assert shell.main_window is not None
    return shell


def test_unpaired_station_says_sync_is_not_configured(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    shell = _log_in(qtbot, centre, runner)
    window = shell.main_window
    assert window is not None
    assert "non configurée" in window.sync_label.text()
    assert not window.area_widget("sync").sync_button.isEnabled()  # nothing to ask
    assert getattr(window, "background_sync", None) is None
    window.close()


def test_paired_station_runs_the_service_until_logout(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    port = _free_port()
    ws, _admin = login(centre, "admin", PASSWORD)
    try:
        identity.ensure_site(ws.store, "Accueil")
        identity.set_listen_port(ws.store, port)
    finally:
        ws.close()
    shell = _log_in(qtbot, centre, runner)
    window = shell.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.sync_label.text() == "Synchronisation : aucun autre poste connu")
    assert _accepts(port)
    # « Synchroniser maintenant » reaches the running service: a pass runs at once (the
    # next timed one is seconds away) and the page shows its outcome.
    page = window.area_widget("sync")
    window.show_area("sync")
    assert page.sync_button.isEnabled()
    passes: list[object] = []
    service = window.background_sync.service  # type: ignore[attr-defined]
    service.on_status = lambda status: (
        passes.append(status),
        window.background_sync.bridge.publish(status),
    )  # type: ignore[attr-defined]
    service.interval_s = 600  # after the pass already scheduled, no timed pass for 10 min
    qtbot.waitUntil(lambda: len(passes) >= 1, timeout=8000)
    passes.clear()
    page.sync_button.click()
    qtbot.waitUntil(lambda: len(passes) >= 1, timeout=10000)
    qtbot.waitUntil(lambda: page.status_label.text() == "Synchronisation : aucun autre poste connu")
    window.close()
    assert not _accepts(port)
