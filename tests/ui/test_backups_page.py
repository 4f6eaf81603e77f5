"""Administration › Sauvegardes and the automatic backups of a session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from cms_desktop.domain.backup_policy import Schedule
from cms_desktop.services import backups
from cms_desktop.services.actor import Actor
from cms_desktop.services.backups import BackupEntry
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.admin.backups_page import BackupsModel, BackupsPage
from cms_desktop.ui.backup_scheduler import BackupScheduler, status_label
from cms_desktop.ui.tasks import SyncTaskRunner, ThreadedTaskRunner

OpenSession = Callable[[str], tuple[Workspace, Actor]]


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


def _page(qtbot: QtBot, ws: Workspace, actor: Actor, runner: object) -> BackupsPage:
    page = BackupsPage(ws, actor, runner)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    page.resize(1176, 640)  # the area's room on a 1366x768 screen
    page.show()
    return page


def test_model_passes_the_model_tester(qtmodeltester: object) -> None:
    at = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    model = BackupsModel(
        [
            BackupEntry("/usb/a.cmsbak", at, 2_500_000, "s", True, True),
            BackupEntry("/usb/b.cmsbak", at, 10, "s", False, True),
            BackupEntry("/usb/c.cmsbak", None, 10, "", False, False),
        ]
    )
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.data(model.index(0, 0)) == "01/07/2026 20:00"
    assert model.data(model.index(0, 1)) == "2,5 Mo"
    assert model.data(model.index(1, 0)).endswith("(autre centre)")
    assert model.data(model.index(2, 0)) == "Illisible"


def test_only_the_administrator_has_the_tab(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    ws, admin = open_session("admin")
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    assert "Sauvegardes" in [area.tabText(i) for i in range(area.count())]
    ws2, director = open_session("direction")
    area2 = AdminArea(ws2, director, runner)
    qtbot.addWidget(area2)
    assert "Sauvegardes" not in [area2.tabText(i) for i in range(area2.count())]


def test_settings_backup_now_and_verify(
    qtbot: QtBot,
    open_session: OpenSession,
    runner: SyncTaskRunner,
    usb: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws, admin = open_session("admin")
    page = _page(qtbot, ws, admin, runner)
    assert "aucune sauvegarde" in page.status_label.text()
    assert page.model.rowCount() == 0 and not page.verify_button.isEnabled()

    monkeypatch.setattr(page, "_ask_folder", lambda: str(usb))
    page.add_target_button.click()
    page.targets.setCurrentRow(0)  # the default folder beside the data: removed
    page.remove_target_button.click()
    page.daily_at.setTime(page.daily_at.time().fromString("19:45", "HH:mm"))
    page.keep_daily.setValue(3)
    page.save_button.click()
    saved = backups.load_schedule(ws)
    assert saved.targets == (str(usb),) and saved.daily_at.strftime("%H:%M") == "19:45"
    assert saved.retention.daily == 3

    progress: list[float] = []
    page.relay.sig_progress.connect(lambda f, _p: progress.append(f))
    page.now_button.click()
    # Progress comes from the backup's own thread: queued to the UI thread.
    qtbot.waitUntil(lambda: bool(progress) and progress[-1] == 1.0)
    assert progress == sorted(progress) and len(progress) >= 4
    assert "écrite et vérifiée" in page.result_label.text()
    assert page.status_label.text().startswith("Dernière sauvegarde")
    assert page.model.rowCount() == 1 and not page.progress.isVisible()

    page.table.selectRow(0)
    page.verify_button.click()
    assert "intacte" in page.result_label.text()


def test_keeping_nothing_is_refused(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    ws, admin = open_session("admin")
    page = _page(qtbot, ws, admin, runner)
    for spin in (page.keep_daily, page.keep_weekly, page.keep_monthly):
        spin.setValue(0)
    page.save_button.click()
    assert page.settings_error.text() == "Conservez au moins une sauvegarde."
    assert backups.load_schedule(ws).retention.daily == 7


def test_a_failed_backup_is_said_in_french(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, tmp_path: Path
) -> None:
    ws, admin = open_session("admin")
    backups.save_schedule(ws, admin, Schedule(targets=(str(tmp_path / "débranchée"),)))
    page = _page(qtbot, ws, admin, runner)
    page.now_button.click()
    assert "introuvable" in page.error_label.text() and page.error_label.isVisible()
    assert "a échoué" in page.status_label.text()
    assert "b00020" in page.status_label.styleSheet()  # in red


def test_backup_runs_off_the_ui_thread(qtbot: QtBot, open_session: OpenSession, usb: Path) -> None:
    ws, admin = open_session("admin")
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    runner = ThreadedTaskRunner()
    page = _page(qtbot, ws, admin, runner)
    qtbot.waitUntil(lambda: not runner.busy())
    page.now_button.click()
    # The click returned at once: the page is still usable and says a backup is under way.
    assert page.progress.isVisible() and not page.now_button.isEnabled()
    assert "en cours" in page.result_label.text()
    qtbot.waitUntil(lambda: "vérifiée" in page.result_label.text(), timeout=60_000)
    qtbot.waitUntil(lambda: not runner.busy())
    assert page.now_button.isEnabled()
    runner.wait_idle()


def test_scheduler_backs_up_when_due_and_at_logout(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, usb: Path
) -> None:
    ws, admin = open_session("admin")
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    holder = BackupsPage(ws, admin, runner)  # any widget, for the label's parent
    qtbot.addWidget(holder)
    scheduler = BackupScheduler(ws, runner, holder)
    label = status_label(scheduler, holder)
    scheduler.start()
    assert "aucune sauvegarde" in label.text() and "b00020" in label.styleSheet()

    now = datetime.now(UTC)
    scheduler.check(now)
    assert len(list(usb.iterdir())) == 1
    assert label.text().startswith("Dernière sauvegarde") and "b00020" not in label.styleSheet()
    status = backups.last_good_backup(ws)
    assert status.last_test_at is not None and status.last_test_ok  # first monthly test
    scheduler.check(now)  # done for today
    assert len(list(usb.iterdir())) == 1

    # At logout: nothing within the hour, a backup after it.
    assert not scheduler.at_logout(holder, now + timedelta(minutes=30))
    assert scheduler.at_logout(holder, now + timedelta(hours=2))
    assert backups.last_good_backup(ws).last_good_at is not None


def test_the_page_fits_the_centre_screens(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    ws, admin = open_session("admin")
    page = _page(qtbot, ws, admin, runner)
    hint = page.minimumSizeHint()
    assert hint.width() <= 1176 and hint.height() <= 640


def test_the_application_backs_up_when_its_user_logs_out(
    qtbot: QtBot, centre: DataDir, runner: SyncTaskRunner, usb: Path
) -> None:
    from functools import partial

    from cms_desktop.services import setup
    from cms_desktop.services.workspace import login
    from cms_desktop.ui.shell import AppShell
    from tests.ui.conftest import PASSWORD

    ws, admin = login(centre, "admin", PASSWORD)
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    ws.close()
    shell = AppShell(
        partial(login, centre),
        partial(setup.recover_access, centre),
        runner,
        with_sync=False,
        with_backups=True,
    )
    shell.start()
    qtbot.addWidget(shell.login_window)
    qtbot.keyClicks(shell.login_window.login_edit, "accueil")  # any user: it reads no data
    qtbot.keyClicks(shell.login_window.password_edit, PASSWORD)
    with qtbot.waitSignal(shell.sig_main_window_shown) as blocker:
        shell.login_window.submit_button.click()
    window = blocker.args[0]
    labels = [w.text() for w in window.statusBar().findChildren(QLabel)]
    assert any("aucune sauvegarde" in text for text in labels)
    assert list(usb.iterdir()) == []
    window.close()  # logs out: the last user leaves the station
    assert [p.suffix for p in usb.iterdir()] == [".cmsbak"]


def _backup_file(ws: Workspace, admin: Actor, usb: Path) -> Path:
    result = backups.create_backup(ws, admin, [str(usb)])
    assert result.written
    return Path(result.written[0])


def _restore(page: BackupsPage, file: str, secret: str, folder: str | None) -> None:
    page.restore_file.setText(file)
    if folder is None:
        page.restore_in_place.setChecked(True)
    else:
        page.restore_new.setChecked(True)
        page.restore_folder.setText(folder)
    page.restore_secret.setText(secret)
    page.restore_button.click()


def test_restore_bad_input_says_why_in_french_and_changes_nothing(
    qtbot: QtBot,
    open_session: OpenSession,
    runner: SyncTaskRunner,
    usb: Path,
    tmp_path: Path,
    centre: DataDir,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cms_desktop.services.setup import CentreDraft, initialise_centre
    from cms_desktop.ui import widgets
    from tests.ui.conftest import FAST_KDF, PASSWORD

    ws, admin = open_session("admin")
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    file = _backup_file(ws, admin, usb)
    page = _page(qtbot, ws, admin, runner)
    page.table.selectRow(0)
    assert page.restore_file.text() == str(file)  # the row chosen in the list
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    dest = str(tmp_path / "nouveau")
    cases = [
        ("", PASSWORD, dest, "Choisissez la sauvegarde à restaurer."),
        (str(tmp_path / "absente.cmsbak"), PASSWORD, dest, "introuvable"),
        (str(file), PASSWORD, "", "Choisissez le dossier où restaurer"),
        (str(file), "", dest, "Saisissez le mot de passe."),
        (str(file), "faux", dest, "Identifiant ou mot de passe incorrect pour cette sauvegarde."),
        (str(file), PASSWORD, str(centre.path), "est le dossier des données de ce poste"),
    ]
    truncated = tmp_path / "tronquee.cmsbak"
    truncated.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    cases.append((str(truncated), PASSWORD, dest, "tronqu"))
    other = DataDir(tmp_path / "autre")
    initialise_centre(
        other, CentreDraft("CMS Voisin", rooms=()), "admin", "A", PASSWORD, kdf=FAST_KDF
    )
    from cms_desktop.services import workspace

    ws_other, admin_other = workspace.login(other, "admin", PASSWORD)
    (tmp_path / "usb-voisin").mkdir()
    other_file = _backup_file(ws_other, admin_other, tmp_path / "usb-voisin")
    ws_other.close()
    cases.append((str(other_file), PASSWORD, None, "autre centre (CMS Voisin)"))
    before = sorted(p.name for p in tmp_path.iterdir())
    data_before = sorted(p.name for p in centre.path.iterdir())
    restarts: list[bool] = []
    monkeypatch.setattr(page, "restart_application", lambda: restarts.append(True))
    for file_text, secret, folder, message in cases:
        _restore(page, file_text, secret, folder)
        assert message in page.restore_error.text(), (file_text, folder)
        assert page.restore_error.isVisible()
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written
        assert sorted(p.name for p in centre.path.iterdir()) == data_before
    assert restarts == []


def test_restore_into_a_new_folder_then_in_place_with_a_restart(
    qtbot: QtBot,
    open_session: OpenSession,
    usb: Path,
    tmp_path: Path,
    centre: DataDir,
    recovery_code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cms_desktop.services import workspace
    from cms_desktop.ui import widgets
    from tests.ui.conftest import PASSWORD

    ws, admin = open_session("admin")
    file = _backup_file(ws, admin, usb)
    runner = ThreadedTaskRunner()
    page = _page(qtbot, ws, admin, runner)
    qtbot.waitUntil(lambda: not runner.busy())
    progress: list[float] = []
    page.relay.sig_progress.connect(lambda f, _p: progress.append(f))
    dest = tmp_path / "nouveau"
    _restore(page, str(file), PASSWORD, str(dest))
    assert page.restore_progress.isVisible() and not page.restore_button.isEnabled()  # a worker
    qtbot.waitUntil(lambda: "restaurée dans" in page.restore_result.text(), timeout=60_000)
    assert progress and progress[-1] == 1.0 and page.restore_button.isEnabled()
    restored, _actor = workspace.login(DataDir(dest), "admin", PASSWORD)
    restored.close()

    # In place, with the recovery code: the session is closed, the current data kept
    # aside, the user told, the application restarted.
    told: list[str] = []
    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    monkeypatch.setattr(widgets, "inform", lambda _p, _t, text: told.append(text))
    restarts: list[bool] = []
    monkeypatch.setattr(page, "restart_application", lambda: restarts.append(True))
    monkeypatch.setattr(page, "close_session", lambda: ws.close() or True)
    page.restore_recovery.setChecked(True)
    assert not page.restore_login.isEnabled()
    _restore(page, str(file), recovery_code, None)
    qtbot.waitUntil(lambda: bool(restarts), timeout=60_000)
    aside = [p for p in tmp_path.iterdir() if ".avant-restauration-" in p.name]
    assert len(aside) == 1 and (aside[0] / "centre.db").exists()
    assert "restaurée" in told[0] and str(aside[0]) in told[0] and "redémarrer" in told[0]
    assert (centre.path / "restored.json").exists()
    again, _actor = workspace.login(centre, "admin", PASSWORD)
    again.close()


def test_in_place_restore_refused_while_another_session_has_the_centre_open(
    qtbot: QtBot,
    open_session: OpenSession,
    runner: SyncTaskRunner,
    usb: Path,
    tmp_path: Path,
    centre: DataDir,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cms_desktop.ui import widgets
    from tests.ui.conftest import PASSWORD

    ws, admin = open_session("admin")
    file = _backup_file(ws, admin, usb)
    open_session("accueil")  # e.g. « sync serve » or a second window on the same folder
    page = _page(qtbot, ws, admin, runner)
    told: list[str] = []
    monkeypatch.setattr(widgets, "ask", lambda *args: True)
    monkeypatch.setattr(widgets, "inform", lambda _p, _t, text: told.append(text))
    restarts: list[bool] = []
    monkeypatch.setattr(page, "restart_application", lambda: restarts.append(True))
    monkeypatch.setattr(page, "close_session", lambda: ws.close() or True)
    data_before = sorted(p.name for p in centre.path.iterdir())
    _restore(page, str(file), PASSWORD, None)
    assert restarts == [True]
    assert "est ouvert sur ce poste" in told[0] and "données actuelles" in told[0]
    assert [p.name for p in tmp_path.iterdir() if "restauration" in p.name] == []
    assert not (centre.path / "restored.json").exists()
    assert sorted(p.name for p in centre.path.iterdir()) == data_before
