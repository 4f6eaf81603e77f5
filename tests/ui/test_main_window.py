"""Main window: areas by role, the screen lock keeping unsaved work, logout on close."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from cms_desktop.domain.permissions import Role
from cms_desktop.services import audit_trail, setup, users
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import SyncPeer
from cms_desktop.ui import widgets
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.shell import AppShell
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import CENTRE_NAME, PASSWORD

OpenSession = Callable[[str], tuple[Workspace, Actor]]


def _main(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, login_name: str
) -> MainWindow:
    ws, actor = open_session(login_name)
    window = MainWindow(ws, actor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.mark.parametrize(
    ("login_name", "expected"),
    [
        ("accueil", ["agenda", "patients", "printing", "sync"]),
        ("dr.moreau", ["agenda", "patients", "printing", "sync"]),
        ("admin", ["admin", "sync"]),
        ("direction", ["agenda", "patients", "printing", "admin", "sync"]),
    ],
)
def test_login_opens_main_window_with_the_areas_of_the_role(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, login_name: str, expected: list[str]
) -> None:
    shell = AppShell(partial(login, centre), partial(setup.recover_access, centre), runner)
    shell.start()
    qtbot.addWidget(shell.login_window)
    qtbot.keyClicks(shell.login_window.login_edit, login_name)
    qtbot.keyClicks(shell.login_window.password_edit, PASSWORD)
    with qtbot.waitSignal(shell.sig_main_window_shown) as blocker:
        shell.login_window.submit_button.click()
    window = blocker.args[0]  # deletes itself on close
    assert window.area_keys() == expected
    assert not shell.login_window.isVisible()
    assert CENTRE_NAME in window.windowTitle()
    assert window.actor.full_name in window.user_label.text()
    window.close()


def test_admin_area_of_the_medical_director_has_only_the_audit_trail(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "direction")
    admin = window.area_widget("admin")
    assert admin.users_page is None
    assert admin.audit_page is not None


def test_status_bar_and_sync_state(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    assert window.database_label.text() == "Base chiffrée : ouverte"
    assert window.sync_label.text() == "Synchronisation : non configurée"
    window.set_sync_state("Synchronisation : à jour")
    assert window.sync_label.text() == "Synchronisation : à jour"


def test_the_open_sync_page_follows_each_new_sync_state(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    window.show_area("sync")
    page = window.area_widget("sync")
    assert page.peers.rowCount() == 0
    with window.workspace.store.write() as session:
        session.add(SyncPeer(station_id="station-b", host="10.0.0.2", port=7600, last_error=""))
    window.set_sync_state("Synchronisation : 1 modification en attente")
    assert page.peers.rowCount() == 1
    assert page.peers.item(0, 4).text() == "pas encore joint"


def test_show_area_and_plugged_in_page(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    window.add_area("notes", "Notes", QLineEdit(), "Ctrl+9")
    window.show_area("patients")
    assert window.current_area() == "patients"
    window.show_area("notes")
    assert window.current_area() == "notes"
    with pytest.raises(ValueError):
        window.add_area("notes", "Notes", QLineEdit())


def test_lock_hides_content_and_keeps_unsaved_text(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "dr.moreau")
    draft = QLineEdit()
    window.add_area("draft", "Brouillon", draft)
    window.show_area("draft")
    qtbot.keyClicks(draft, "Texte non enregistre (brouillon)")

    window.lock_button.click()
    assert window.is_locked()
    assert not draft.isVisible()
    assert not window.content.isVisible()
    window.show_area("patients")  # area shortcuts do nothing while locked
    assert window.current_area() == "draft"

    qtbot.keyClicks(window.lock_page.password_edit, "mauvais-mot-de-passe")
    window.lock_page.unlock_button.click()
    assert window.is_locked()
    assert window.lock_page.error_label.text() == "Mot de passe incorrect."
    assert window.lock_page.password_edit.text() == ""

    qtbot.keyClicks(window.lock_page.password_edit, PASSWORD)
    with qtbot.waitSignal(window.lock_page.sig_unlocked):
        window.lock_page.unlock_button.click()
    assert not window.is_locked()
    assert draft.isVisible()
    assert draft.text() == "Texte non enregistre (brouillon)"


def test_inactivity_locks_the_screen(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    assert window.watcher.is_running()
    window.watcher.set_delay_ms(30)
    qtbot.waitUntil(window.is_locked, timeout=5000)
    assert not window.watcher.is_running()


def test_lock_and_logout_are_recorded_in_the_audit_trail(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, centre: DataDir
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    window.lock_screen()
    window.close()
    ws, director = login(centre, "direction", PASSWORD)
    try:
        actions = [(line.user_login, line.action) for line in audit_trail.recent(ws, director)]
    finally:
        ws.close()
    assert ("accueil", "screen_locked") in actions
    assert ("accueil", "logout") in actions


def test_switch_user_asks_then_returns_to_login(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = AppShell(partial(login, centre), partial(setup.recover_access, centre), runner)
    qtbot.addWidget(shell.login_window)
    shell.start()
    qtbot.keyClicks(shell.login_window.login_edit, "accueil")
    qtbot.keyClicks(shell.login_window.password_edit, PASSWORD)
    shell.login_window.submit_button.click()
    window = shell.main_window
    assert window is not None
    window.lock_screen()

    monkeypatch.setattr(widgets, "ask", lambda *args: False)
    window.lock_page.switch_button.click()
    assert window.isVisible() and window.is_locked()

    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    with qtbot.waitSignal(window.sig_logged_out):
        window.lock_page.switch_button.click()
    assert shell.login_window.isVisible()
    assert shell.login_window.login_edit.text() == "accueil"
    assert shell.login_window.password_edit.text() == ""
    assert shell.main_window is None


def test_lock_hides_an_open_dialog_and_gives_it_back_with_its_text(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    from cms_desktop.ui.admin.dialogs import NewUserDialog

    window = _main(qtbot, open_session, runner, "admin")
    window.show_area("admin")
    page = window.area_widget("admin").users_page
    page.new_user()
    dialog = page.findChild(NewUserDialog)
    qtbot.keyClicks(dialog.name_edit, "Julien Roux")
    window.lock_screen()
    assert not dialog.isVisible()
    qtbot.keyClicks(window.lock_page.password_edit, PASSWORD)
    window.lock_page.submit()
    assert dialog.isVisible()
    assert dialog.name_edit.text() == "Julien Roux"


def test_closing_with_an_unsaved_patient_form_asks_and_keeps_it(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms_desktop.services import patients
    from tests.patient_helpers import form

    window = _main(qtbot, open_session, runner, "accueil")
    pid = patients.create_patient(window.workspace, window.actor, form())
    window.show_area("patients")
    area = window.area_widget("patients")
    tab = area.open_patient(pid)
    qtbot.keyClicks(tab.identity.edits["city"], "Valbourg")
    assert window.unsaved_areas() == ["Patients"]
    questions: list[str] = []
    monkeypatch.setattr(widgets, "ask", lambda _p, _t, q: questions.append(q) or False)
    window.close()
    assert window.isVisible() and tab.identity.edits["city"].text().endswith("Valbourg")
    assert "Patients" in questions[0]
    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    window.close()
    assert not window.isVisible()


def test_only_the_first_area_is_built_at_login(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    window = _main(qtbot, open_session, runner, "accueil")
    assert [type(w).__name__ for w in window.built_widgets()] == ["AgendaPage"]
    window.show_area("patients")
    assert window.current_area() == "patients"
    assert [type(w).__name__ for w in window.built_widgets()] == ["AgendaPage", "PatientsArea"]


def test_an_open_window_shows_a_clinician_waiting_for_the_clinical_key_and_grants_nothing(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    # A sync brings a clinician's account (its public key) while the director works: the
    # director's window counts it as waiting; the key goes only by a hand-over (#17).
    window = _main(qtbot, open_session, runner, "direction")
    assert not window.access_button.isVisible()
    ws, admin = open_session("admin")
    users.create_user(
        ws, admin, users.NewUser("inf.arrivee", "Infirmière Arrivée", Role.NURSE, PASSWORD)
    )
    window.changes.notify(frozenset({"agreement_keys"}))
    qtbot.waitUntil(window.access_button.isVisible)
    assert window.access_button.text() == "Accès au dossier : 1 en attente"
    assert "inf.arrivee" not in window.statusBar().currentMessage()
