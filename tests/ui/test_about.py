"""« À propos » : version, this station's data directory, licences of the bundled libraries."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from cms_desktop import __version__
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.about import AboutDialog
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import CENTRE_NAME


def _shown(window: MainWindow) -> list[AboutDialog]:
    # Looked up among the window's children: another test's dialog may still be open.
    return [d for d in window.findChildren(AboutDialog) if d.isVisible()]


def _open_about(qtbot: QtBot, window: MainWindow) -> AboutDialog:
    window.about_button.click()
    qtbot.waitUntil(lambda: len(_shown(window)) == 1)
    return _shown(window)[0]


def test_about_shows_version_data_directory_and_licences(
    qtbot: QtBot,
    centre: DataDir,
    open_session: Callable[[str], tuple[Workspace, Actor]],
    runner: SyncTaskRunner,
) -> None:
    ws, actor = open_session("accueil")
    window = MainWindow(ws, actor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    dialog = _open_about(qtbot, window)
    assert dialog.version_label.text() == f"cms-desktop {__version__}"
    assert dialog.data_dir_edit.text() == str(centre.path)
    assert dialog.data_dir_edit.isReadOnly()
    licences = dialog.licences.toPlainText()
    for line in ("PySide6, shiboken6 — LGPL-3.0", "Polices DejaVu", "SQLCipher", "ReportLab — BSD"):
        assert line in licences
    # Fits the centre's 1366x728 screens.
    assert dialog.width() <= 1366 and dialog.height() <= 728
    dialog.close()


def test_about_is_not_shown_over_a_locked_screen(
    qtbot: QtBot,
    open_session: Callable[[str], tuple[Workspace, Actor]],
    runner: SyncTaskRunner,
) -> None:
    ws, actor = open_session("accueil")
    window = MainWindow(ws, actor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.lock_screen()
    window.show_about()
    assert window.findChildren(AboutDialog) == []
