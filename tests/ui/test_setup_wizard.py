"""First-run wizard: inline French validation, the centre created, the recovery code shown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QWizard
from pytestqt.qtbot import QtBot

from cms_desktop.services.actor import Actor
from cms_desktop.services.setup import initialise_centre, recover_access
from cms_desktop.services.sync_admin import PairingHandle, join_existing_centre, start_pairing
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui import widgets
from cms_desktop.ui.setup_wizard import SetupWizard
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.ui.conftest import FAST_KDF, PASSWORD

ADMIN_PASSWORD = "Premier-Admin-2026"


def _make_wizard(
    qtbot: QtBot, data_dir: DataDir, runner: SyncTaskRunner | None = None
) -> SetupWizard:
    """The first-run wizard as ``app._run_wizard`` builds it (either path offered)."""
    wizard = SetupWizard(
        partial(initialise_centre, data_dir, kdf=FAST_KDF),
        runner or SyncTaskRunner(),
        join=partial(join_existing_centre, data_dir),
    )
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


@pytest.fixture
def wizard(qtbot: QtBot, tmp_path: Path) -> tuple[SetupWizard, DataDir]:
    data_dir = DataDir(tmp_path / "nouveau")
    wizard = _make_wizard(qtbot, data_dir)
    assert wizard.currentPage() is wizard.choice_page
    assert wizard.choice_page.new_centre.isChecked()  # the usual case: Enter goes on
    wizard.next()
    assert wizard.currentPage() is wizard.centre_page
    return wizard, data_dir


def _fill_centre(qtbot: QtBot, wizard: SetupWizard, finess: str = "610000000") -> None:
    page = wizard.centre_page
    qtbot.keyClicks(page.name_edit, "CMS de Valbourg")
    qtbot.keyClicks(page.address_edit, "12 rue de la Republique")
    qtbot.keyClicks(page.postcode_edit, "61000")
    qtbot.keyClicks(page.city_edit, "Valbourg")
    qtbot.keyClicks(page.finess_edit, finess)


def _fill_admin(qtbot: QtBot, wizard: SetupWizard, confirm: str = ADMIN_PASSWORD) -> None:
    page = wizard.admin_page
    qtbot.keyClicks(page.name_edit, "Marc Admin")
    qtbot.keyClicks(page.login_edit, "m.admin")
    qtbot.keyClicks(page.password_edit, ADMIN_PASSWORD)
    qtbot.keyClicks(page.confirm_edit, confirm)


def test_wizard_creates_the_centre_and_shows_the_recovery_code(
    qtbot: QtBot, wizard: tuple[SetupWizard, DataDir]
) -> None:
    wiz, data_dir = wizard
    _fill_centre(qtbot, wiz)
    wiz.next()
    assert wiz.currentPage() is wiz.rooms_page
    wiz.next()  # the usual layout, as proposed
    assert wiz.currentPage() is wiz.admin_page
    _fill_admin(qtbot, wiz)
    wiz.next()
    assert wiz.currentPage() is wiz.recovery_page
    assert data_dir.initialised
    result = wiz.result_value()
    assert result is not None
    assert wiz.recovery_page.code_label.text() == result.recovery_code

    finish = wiz.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()
    wiz.recovery_page.confirm_box.setChecked(True)
    assert finish.isEnabled()
    with qtbot.waitSignal(wiz.accepted):
        finish.click()

    ws, actor = login(data_dir, "m.admin", ADMIN_PASSWORD)
    ws.close()
    assert actor.full_name == "Marc Admin"
    recover_access(data_dir, result.recovery_code, "m.admin", "Autre-Admin-2027")


def test_centre_page_refuses_bad_finess_in_french(
    qtbot: QtBot, wizard: tuple[SetupWizard, DataDir]
) -> None:
    wiz, data_dir = wizard
    _fill_centre(qtbot, wiz, finess="12345")
    wiz.next()
    assert wiz.currentPage() is wiz.centre_page
    assert "FINESS" in wiz.centre_page.error_label.text()
    assert not data_dir.initialised


def test_admin_page_refuses_mismatch_and_weak_password(
    qtbot: QtBot, wizard: tuple[SetupWizard, DataDir]
) -> None:
    wiz, data_dir = wizard
    _fill_centre(qtbot, wiz)
    wiz.next()
    assert wiz.currentPage() is wiz.rooms_page
    wiz.next()  # the usual layout, as proposed
    _fill_admin(qtbot, wiz, confirm="Autre-Chose-2026")
    wiz.next()
    assert wiz.currentPage() is wiz.admin_page
    assert "pas identiques" in wiz.admin_page.error_label.text()
    wiz.admin_page.password_edit.setText("Court-1")
    wiz.admin_page.confirm_edit.setText("Court-1")
    wiz.next()
    assert "au moins 10 caractères" in wiz.admin_page.error_label.text()
    assert not data_dir.initialised


def test_escape_on_the_code_page_is_refused_until_acknowledged(
    qtbot: QtBot, wizard: tuple[SetupWizard, DataDir], monkeypatch: pytest.MonkeyPatch
) -> None:
    wiz, _data_dir = wizard
    told: list[str] = []
    monkeypatch.setattr(widgets, "inform", lambda parent, title, text: told.append(text))
    _fill_centre(qtbot, wiz)
    wiz.next()
    assert wiz.currentPage() is wiz.rooms_page
    wiz.next()  # the usual layout, as proposed
    _fill_admin(qtbot, wiz)
    wiz.next()
    wiz.reject()
    assert wiz.isVisible()
    assert told and "code de récupération" in told[0]


@pytest.fixture
def pairing(open_session: Callable[[str], tuple[Workspace, Actor]]) -> Iterator[PairingHandle]:
    """An administrator of the existing centre shows a pairing code (Synchronisation page)."""
    ws, admin = open_session("admin")
    handle = start_pairing(ws, admin, port=0)
    yield handle
    handle.stop()


def _join_wizard(
    qtbot: QtBot, tmp_path: Path, runner: SyncTaskRunner | None = None
) -> tuple[SetupWizard, DataDir]:
    data_dir = DataDir(tmp_path / "cabinet2")
    wizard = _make_wizard(qtbot, data_dir, runner)
    wizard.choice_page.join.setChecked(True)
    wizard.next()
    assert wizard.currentPage() is wizard.join_page
    return wizard, data_dir


def test_a_second_pc_joins_the_centre_with_the_code_shown_on_the_first(
    qtbot: QtBot, tmp_path: Path, pairing: PairingHandle
) -> None:
    wiz, data_dir = _join_wizard(qtbot, tmp_path)
    page = wiz.join_page
    qtbot.keyClicks(page.address_edit, f"127.0.0.1:{pairing.port}")
    qtbot.keyClicks(page.code_edit, pairing.code)
    qtbot.keyClicks(page.name_edit, "Cabinet 2")
    wiz.next()
    assert wiz.currentPage() is wiz.joined_page, page.error_label.text()
    assert "opérations" in wiz.joined_page.summary.text()
    with qtbot.waitSignal(wiz.accepted):
        wiz.button(QWizard.WizardButton.FinishButton).click()
    # The same accounts and passwords as on the first PC.
    ws, actor = login(data_dir, "dr.moreau", PASSWORD)
    ws.close()
    assert actor.full_name == "Claire Moreau"


def test_a_wrong_code_says_so_in_french_and_installs_nothing(
    qtbot: QtBot, tmp_path: Path, pairing: PairingHandle
) -> None:
    wiz, data_dir = _join_wizard(qtbot, tmp_path)
    page = wiz.join_page
    wiz.next()  # nothing typed
    assert wiz.currentPage() is page
    assert "nom à ce poste" in page.error_label.text()
    qtbot.keyClicks(page.name_edit, "Cabinet 2")
    qtbot.keyClicks(page.code_edit, pairing.code)
    qtbot.keyClicks(page.address_edit, "pas une adresse")
    wiz.next()
    assert "Adresse du poste invalide" in page.error_label.text()
    page.address_edit.setText(f"127.0.0.1:{pairing.port}")
    page.code_edit.setText("AAAA-AAAA" if pairing.code != "AAAA-AAAA" else "BBBB-BBBB")
    wiz.next()
    assert wiz.currentPage() is page
    assert page.error_label.text() == "Code d'appairage incorrect."
    assert not data_dir.initialised
    assert page.address_edit.isEnabled()  # the person can correct and try again


def test_joining_is_offered_only_where_the_app_can_do_it(qtbot: QtBot, tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "seul")
    wizard = SetupWizard(partial(initialise_centre, data_dir, kdf=FAST_KDF), SyncTaskRunner())
    qtbot.addWidget(wizard)
    assert not wizard.choice_page.join.isEnabled()


class HeldRunner(SyncTaskRunner):
    """Runs writes only when the test says so: the time a real copy takes, frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Callable[[], None]] = []

    def run_write(self, fn, on_success=None, on_error=None) -> None:  # type: ignore[no-untyped-def]
        self.pending.append(lambda: SyncTaskRunner.run_write(self, fn, on_success, on_error))


def test_while_the_centre_is_copied_nothing_can_be_clicked_twice_or_left(
    qtbot: QtBot, tmp_path: Path, pairing: PairingHandle
) -> None:
    runner = HeldRunner()
    wiz, data_dir = _join_wizard(qtbot, tmp_path, runner)
    page = wiz.join_page
    page.address_edit.setText(f"127.0.0.1:{pairing.port}")
    page.code_edit.setText(pairing.code)
    page.name_edit.setText("Cabinet 2")
    wiz.next()
    assert wiz.currentPage() is page and len(runner.pending) == 1
    for button in (
        QWizard.WizardButton.CommitButton,
        QWizard.WizardButton.BackButton,
        QWizard.WizardButton.CancelButton,
    ):
        assert not wiz.button(button).isEnabled()
    assert not page.code_edit.isEnabled()
    progress = page.findChild(QLabel, "progress")
    assert progress is not None and progress.isVisible()
    assert progress.text() == "Copie des données du centre en cours…"
    assert not page.error_label.isVisible()  # progress is not an error
    wiz.reject()  # Escape while copying: ignored
    assert wiz.isVisible()
    assert not data_dir.initialised  # the copy has not run yet
    runner.pending.pop()()
    assert data_dir.initialised
    assert wiz.currentPage() is wiz.joined_page
    assert not progress.isVisible()


def test_the_rooms_page_proposes_the_usual_layout_editable_before_creation(
    qtbot: QtBot, wizard: tuple[SetupWizard, DataDir]
) -> None:
    from cms_desktop.domain.agenda.rooms import RoomKind
    from cms_desktop.services.agenda.rooms import list_all_rooms

    wiz, data_dir = wizard
    _fill_centre(qtbot, wiz)
    wiz.next()
    page = wiz.rooms_page
    assert wiz.currentPage() is page
    proposed = [(r.name, r.kind) for r in page.rooms()]
    assert proposed == [
        *((f"Cabinet {n}", RoomKind.CONSULTING) for n in range(1, 7)),
        ("Salle de soins", RoomKind.NURSING),
    ]
    item = page.table.item(5, 0)
    assert item is not None
    item.setText("Cabinet 1")  # the same name twice: refused, nothing created
    wiz.next()
    assert wiz.currentPage() is page
    assert page.error_label.text() == "La salle « Cabinet 1 » figure deux fois."
    item.setText("Cabinet dentaire")
    combo = page.table.cellWidget(5, 1)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData(RoomKind.DENTAL.value))
    page.add_button.click()
    added = page.table.item(7, 0)
    assert added is not None
    added.setText("Salle de réunion")
    wiz.next()
    assert wiz.currentPage() is wiz.admin_page
    _fill_admin(qtbot, wiz)
    wiz.next()
    assert wiz.currentPage() is wiz.recovery_page
    ws, actor = login(data_dir, "m.admin", ADMIN_PASSWORD)
    try:
        created = [(r.name, r.kind_label) for r in list_all_rooms(ws, actor)]
    finally:
        ws.close()
    assert created[5:] == [
        ("Cabinet dentaire", "Cabinet dentaire"),
        ("Salle de soins", "Infirmerie"),
        ("Salle de réunion", "Cabinet médical"),
    ]
    # Acknowledge the code, as the installer must, so the wizard can close.
    wiz.recovery_page.confirm_box.setChecked(True)
    with qtbot.waitSignal(wiz.accepted):
        wiz.button(QWizard.WizardButton.FinishButton).click()
