"""Administration area: accounts table, account dialogs, audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.actor import Actor
from cms_desktop.services.audit_trail import AuditLine
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui import widgets
from cms_desktop.ui.admin.area import AdminArea, UsersPage
from cms_desktop.ui.admin.dialogs import ChangeRoleDialog, NewUserDialog, ResetPasswordDialog
from cms_desktop.ui.admin.models import AuditModel, UsersModel
from cms_desktop.ui.tasks import SyncTaskRunner

OpenSession = Callable[[str], tuple[Workspace, Actor]]
NEW_PASSWORD = "Nouveau-Compte-42"


def _area(qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner) -> AdminArea:
    ws, actor = open_session("admin")
    area = AdminArea(ws, actor, runner)
    qtbot.addWidget(area)
    area.show()
    return area


def _open_dialog(page: UsersPage, kind: type) -> object:
    dialogs = [d for d in page.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_users_model_passes_the_model_tester(qtmodeltester: object) -> None:
    infos = [
        users.UserInfo("1", "admin", "Administrateur", Role.ADMINISTRATOR, True, "", "", ""),
        users.UserInfo("2", "accueil", "Sophie Lambert", Role.RECEPTION, False, "", "", ""),
    ]
    model = UsersModel(infos)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.data(model.index(1, 2)) == "Accueil"
    assert model.data(model.index(1, 3)) == "Désactivé"
    assert model.headerData(2, Qt.Orientation.Horizontal) == "Rôle"


def test_audit_model_passes_the_model_tester_and_shows_paris_time(qtmodeltester: object) -> None:
    winter = AuditLine(datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "admin", "login", "", "")
    summer = AuditLine(datetime(2026, 7, 1, 8, 5), "accueil", "unknown_action", "", "")
    # The night the clocks go forward: 01:30 UTC is already 03:30 in Paris.
    spring = AuditLine(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "admin", "login", "", "")
    model = AuditModel([winter, summer, spring])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.data(model.index(0, 0)) == "16/01/2026 00:30"
    assert model.data(model.index(0, 2)) == "Connexion"
    assert model.data(model.index(1, 0)) == "01/07/2026 10:05"
    assert model.data(model.index(1, 2)) == "unknown_action"
    assert model.data(model.index(2, 0)) == "29/03/2026 03:30"
    assert model.data(model.index(0, 3)) == ""


def test_audit_model_names_the_target_by_id_only() -> None:
    opened = AuditLine(
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        "dr.moreau",
        "clinical_record_opened",
        "patient",
        "01a24c50-aaaa-7bbb-8ccc-00000f1e2d3c",
    )
    model = AuditModel([opened])
    assert (
        model.data(model.index(0, 3)) == "Dossier 0f1e2d3c"
    )  # the end of the id: its start is a date
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Objet"


def test_table_lists_the_accounts(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    logins = {page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())}
    assert logins == {"admin", "accueil", "dr.moreau", "direction"}
    # The administrator runs the installation but does not read the audit trail: it says
    # which patient's record was opened, which is medical secrecy.
    assert [area.tabText(i) for i in range(area.count())] == [
        "Mise en route",
        "Comptes",
        "Centre",
        "Salles",
        "Praticiens",
        "Agenda du centre",
        "Types de rendez-vous",
        "Sauvegardes",
    ]


def test_admin_creates_an_account_through_the_dialog(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, centre: DataDir
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    page.new_button.click()
    dialog = _open_dialog(page, NewUserDialog)
    assert isinstance(dialog, NewUserDialog)
    qtbot.keyClicks(dialog.login_edit, "inf.roux")
    qtbot.keyClicks(dialog.name_edit, "Julien Roux")
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findText("Infirmier·e"))
    qtbot.keyClicks(dialog.profession_edit, "Infirmier")
    qtbot.keyClicks(dialog.password_edit, NEW_PASSWORD)
    qtbot.keyClicks(dialog.confirm_edit, NEW_PASSWORD)
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.confirm_edit, Qt.Key.Key_Return)

    row = page.model.row_of("inf.roux")
    assert row >= 0
    assert page.model.data(page.model.index(row, 2)) == "Infirmier·e"
    assert page.selected() is not None and page.selected().login == "inf.roux"
    ws, actor = login(centre, "inf.roux", NEW_PASSWORD)
    ws.close()
    assert actor.role is Role.NURSE


def test_new_account_errors_stay_in_the_open_dialog(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    page.new_user()
    dialog = _open_dialog(page, NewUserDialog)
    assert isinstance(dialog, NewUserDialog)
    qtbot.keyClicks(dialog.login_edit, "accueil")
    qtbot.keyClicks(dialog.name_edit, "Autre Personne")
    qtbot.keyClicks(dialog.password_edit, NEW_PASSWORD)
    qtbot.keyClicks(dialog.confirm_edit, "Different-Pass-42")
    dialog.ok_button.click()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "Les deux mots de passe saisis ne sont pas identiques."

    dialog.confirm_edit.setText(NEW_PASSWORD)
    dialog.ok_button.click()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "L'identifiant « accueil » est déjà utilisé."
    assert dialog.name_edit.text() == "Autre Personne"
    assert page.model.rowCount() == 4


def test_disable_asks_first_then_greys_the_account(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    page.select_login("accueil")
    row = page.model.row_of("accueil")
    assert page.toggle_button.text() == "Désactiver…"

    monkeypatch.setattr(widgets, "ask", lambda *args: False)
    page.toggle_button.click()
    assert page.model.data(page.model.index(row, 3)) == "Actif"

    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    page.toggle_button.click()
    assert page.model.data(page.model.index(row, 3)) == "Désactivé"
    assert page.toggle_button.text() == "Réactiver…"


def test_admin_cannot_disable_self_and_sees_why(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    page.select_login("admin")
    page.toggle_active()
    assert page.error_label.text() == "Vous ne pouvez pas désactiver votre propre compte."


def test_change_role_and_reset_password(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, centre: DataDir
) -> None:
    area = _area(qtbot, open_session, runner)
    page = area.users_page
    assert page is not None
    page.select_login("dr.moreau")
    page.role_button.click()
    dialog = _open_dialog(page, ChangeRoleDialog)
    assert isinstance(dialog, ChangeRoleDialog)
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findText("Directeur médical"))
    with qtbot.waitSignal(dialog.finished):
        dialog.ok_button.click()
    row = page.model.row_of("dr.moreau")
    assert page.model.data(page.model.index(row, 2)) == "Directeur médical"

    page.password_button.click()
    reset = _open_dialog(page, ResetPasswordDialog)
    assert isinstance(reset, ResetPasswordDialog)
    qtbot.keyClicks(reset.password_edit, "court")
    qtbot.keyClicks(reset.confirm_edit, "court")
    reset.ok_button.click()
    assert "au moins 10 caractères" in reset.error_label.text()
    reset.password_edit.setText(NEW_PASSWORD)
    reset.confirm_edit.setText(NEW_PASSWORD)
    with qtbot.waitSignal(reset.finished):
        reset.ok_button.click()
    ws, _actor = login(centre, "dr.moreau", NEW_PASSWORD)
    ws.close()


def test_audit_tab_lists_entries_and_verifies(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    ws, actor = open_session("direction")
    area = AdminArea(ws, actor, runner)
    qtbot.addWidget(area)
    area.show()
    audit = area.audit_page
    assert audit is not None
    actions = {audit.model.data(audit.model.index(r, 2)) for r in range(audit.model.rowCount())}
    assert {"Installation du centre", "Création d'un compte", "Connexion"} <= actions
    audit.verify_button.click()
    assert audit.result_label.text() == "Journal d'audit intact."
