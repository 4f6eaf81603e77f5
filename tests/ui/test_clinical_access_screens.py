"""The clinical key handed over in person (#17), as people use it: a newcomer's header
offers « Recevoir la clé du dossier médical »; a holder types their own login and password
there; a holder's header counts the accounts waiting."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.clinical_access import ReceiveKeyDialog, WaitingAccountsDialog
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import CENTRE_NAME, PASSWORD


def _newcomer(centre: DataDir) -> None:
    ws, admin = login(centre, "admin", PASSWORD)
    try:
        users.create_user(ws, admin, users.NewUser("inf.neuve", "Ines Neuve", Role.NURSE, PASSWORD))
    finally:
        ws.close()


def _window(qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, name: str) -> MainWindow:
    ws, actor = login(centre, name, PASSWORD)
    window = MainWindow(ws, actor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _dialog() -> object:
    return QApplication.activeModalWidget()


def test_a_holder_gives_the_key_at_the_newcomers_screen(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    _newcomer(centre)
    window = _window(qtbot, centre, runner, "inf.neuve")
    try:
        assert window.access_button.isVisible()
        assert window.access_button.text() == "Recevoir la clé du dossier médical"
        window.access_button.click()
        dialog = _dialog()
        assert isinstance(dialog, ReceiveKeyDialog)
        assert not dialog.receive_button.isEnabled()
        qtbot.keyClicks(dialog.holder_login, "dr.moreau")
        qtbot.keyClicks(dialog.holder_password, "mauvais")
        dialog.receive()
        assert dialog.message.text() == (
            "Identifiant ou mot de passe du détenteur de la clé incorrect."
        )
        assert dialog.holder_password.text() == "" and dialog.isVisible()
        assert window.workspace.clinical_writing_key is None
        qtbot.keyClicks(dialog.holder_password, PASSWORD)
        dialog.holder_password.returnPressed.emit()  # Entrée, as a person would
        assert not dialog.isVisible()
        assert window.workspace.clinical_writing_key is not None
        assert (
            "Clé du dossier médical reçue de Claire Moreau" in window.statusBar().currentMessage()
        )
        assert not window.access_button.isVisible()  # nobody else waits
    finally:
        window.workspace.close()


def test_a_holders_header_counts_the_accounts_waiting(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    _newcomer(centre)
    login(centre, "inf.neuve", PASSWORD)[0].close()  # its first login publishes its key
    window = _window(qtbot, centre, runner, "direction")
    try:
        assert window.access_button.isVisible()
        assert window.access_button.text() == "Accès au dossier : 1 en attente"
        window.access_button.click()
        dialog = _dialog()
        assert isinstance(dialog, WaitingAccountsDialog)
        assert dialog.table.rowCount() == 1
        assert dialog.table.item(0, 0).text() == "Ines Neuve (inf.neuve)"
        assert dialog.table.item(0, 3).text() == "Nouveau compte soignant."
        dialog.reject()
    finally:
        window.workspace.close()


def test_reception_and_the_administrator_never_see_the_button(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    _newcomer(centre)
    login(centre, "inf.neuve", PASSWORD)[0].close()
    for name in ("accueil", "admin"):
        window = _window(qtbot, centre, runner, name)
        try:
            assert not window.access_button.isVisible()
        finally:
            window.workspace.close()
