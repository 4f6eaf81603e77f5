"""The login window and the recovery dialog against a real (test) centre."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cms_desktop import __version__
from cms_desktop.services import setup
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.login import LoginWindow
from cms_desktop.ui.recovery import RecoveryDialog
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import PASSWORD


def _window(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, demo_hint: str | None = None
) -> LoginWindow:
    window = LoginWindow(
        partial(login, centre), partial(setup.recover_access, centre), runner, demo_hint
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_title_is_the_app_name_and_focus_starts_on_login(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    window = _window(qtbot, centre, runner)
    assert window.windowTitle() == f"cms-desktop {__version__}"
    qtbot.waitUntil(lambda: window.focusWidget() is window.login_edit)
    assert not window.demo_banner.isVisible()


def test_wrong_password_shows_french_error_keeps_login_clears_password(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    window = _window(qtbot, centre, runner)
    qtbot.keyClicks(window.login_edit, "accueil")
    qtbot.keyClicks(window.password_edit, "pas-le-bon")
    with qtbot.assertNotEmitted(window.sig_logged_in):
        qtbot.keyClick(window.password_edit, Qt.Key.Key_Return)
    assert window.error_label.isVisible()
    assert window.error_label.text() == "Identifiant ou mot de passe incorrect."
    assert window.login_edit.text() == "accueil"
    assert window.password_edit.text() == ""
    assert window.submit_button.isEnabled()


def test_empty_fields_are_refused_without_calling_the_service(
    qtbot: QtBot, centre: DataDir
) -> None:
    calls: list[tuple[str, str]] = []
    window = LoginWindow(lambda a, b: calls.append((a, b)), lambda *a: None, SyncTaskRunner())
    qtbot.addWidget(window)
    window.submit_button.click()
    assert calls == []
    assert "Saisissez votre identifiant" in window.error_label.text()


def test_right_password_emits_the_session(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    window = _window(qtbot, centre, runner)
    qtbot.keyClicks(window.login_edit, "dr.moreau")
    qtbot.keyClicks(window.password_edit, PASSWORD)
    with qtbot.waitSignal(window.sig_logged_in) as blocker:
        window.submit_button.click()
    ws, actor = blocker.args[0]
    try:
        assert isinstance(ws, Workspace)
        assert actor.login == "dr.moreau"
    finally:
        ws.close()
    assert window.password_edit.text() == ""


def test_demo_banner_is_shown_in_demo_mode(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    window = _window(qtbot, centre, runner, demo_hint="Comptes : admin, accueil")
    assert window.demo_banner.isVisible()
    assert "Mode démonstration" in window.demo_banner.text()
    assert "admin, accueil" in window.demo_banner.text()


def test_recovery_dialog_sets_a_new_password(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, recovery_code: str
) -> None:
    dialog = RecoveryDialog(partial(setup.recover_access, centre), runner, "accueil")
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.code_edit, recovery_code.lower())
    qtbot.keyClicks(dialog.password_edit, "Nouveau-Mdp-2026")
    qtbot.keyClicks(dialog.confirm_edit, "Nouveau-Mdp-2027")
    dialog.ok_button.click()
    assert "pas identiques" in dialog.error_label.text()

    dialog.confirm_edit.clear()
    qtbot.keyClicks(dialog.confirm_edit, "Nouveau-Mdp-2026")
    with qtbot.waitSignal(dialog.sig_done):
        dialog.ok_button.click()
    ws, _actor = login(centre, "accueil", "Nouveau-Mdp-2026")
    ws.close()


def test_recovery_dialog_wrong_code_stays_open_with_input(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    dialog = RecoveryDialog(partial(setup.recover_access, centre), runner, "accueil")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.code_edit, "AAAA-BBBB-CCCC-DDDD-EEEE")
    qtbot.keyClicks(dialog.password_edit, "Nouveau-Mdp-2026")
    qtbot.keyClicks(dialog.confirm_edit, "Nouveau-Mdp-2026")
    dialog.ok_button.click()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "Code de récupération incorrect."
    assert dialog.code_edit.text() == "AAAA-BBBB-CCCC-DDDD-EEEE"


def test_progress_is_visible_while_logging_in(qtbot) -> None:
    from cms_desktop.ui.login import LoginWindow

    class Pending:
        """A runner whose task has not finished yet: the window is caught while it works."""

        def run_write(self, fn, on_success=None, on_error=None) -> None:
            self.done = lambda: on_success(fn()) if on_success else None

    runner = Pending()
    window = LoginWindow(lambda login, password: "session", lambda *a: None, runner)
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.login_edit, "accueil")
    qtbot.keyClicks(window.password_edit, "secret")
    window.submit()
    assert window.progress.isVisible() and window.progress.maximum() == 0  # moving bar
    assert window.progress_label.text().startswith("Vérification du mot de passe")
    with qtbot.waitSignal(window.sig_logged_in):
        runner.done()
    assert not window.progress.isVisible()


def test_an_account_left_without_the_new_database_key_reads_what_to_do(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner
) -> None:
    """#17: the database key changed (a disabling) while this account had no rekey pair."""
    from cms_desktop.services import users
    from cms_desktop.storage import keyslots

    def strip(slots: keyslots.SlotFile) -> keyslots.Slot:
        slots.slots["accueil"].rekey = None  # as an account made before the upgrade
        return slots.slots["accueil"]

    # This station's file only: the login reads it before any sync could bring the pair.
    keyslots.update(centre.key_slots, strip)
    ws, admin = login(centre, "admin", PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.moreau")
        users.set_active(ws, admin, doctor.id, False)
    finally:
        ws.close()
    window = _window(qtbot, centre, runner)
    qtbot.keyClicks(window.login_edit, "accueil")
    qtbot.keyClicks(window.password_edit, PASSWORD)
    with qtbot.assertNotEmitted(window.sig_logged_in):
        window.submit_button.click()
    assert window.error_label.isVisible()
    text = window.error_label.text()
    assert text.startswith("La clé de la base de données a été renouvelée le ")
    assert "nouveau mot de passe (Administration › Comptes)" in text
    assert window.submit_button.isEnabled() and window.password_edit.text() == ""
