"""The task runner: results and French errors come back on the UI thread; logs hold no data."""

from __future__ import annotations

import logging
import threading

import pytest
from pytestqt.qtbot import QtBot

from cms_desktop.domain.permissions import Permission, PermissionDenied, Role
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.ui.tasks import SyncTaskRunner, ThreadedTaskRunner, user_message


def _boom() -> None:
    raise KeyError("DUPONT Jean 1 84 12 75 123 456 78")


def test_threaded_runner_runs_off_the_ui_thread_and_answers_on_it(qtbot: QtBot) -> None:
    runner = ThreadedTaskRunner()
    ui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(value: int) -> None:
        seen["callback"] = threading.get_ident()
        seen["value"] = value

    runner.run_read(work, done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["worker"] != ui_thread
    assert seen["callback"] == ui_thread
    assert seen["value"] == 42
    assert not runner.busy()


def test_writes_run_one_at_a_time_in_order(qtbot: QtBot) -> None:
    runner = ThreadedTaskRunner()
    order: list[int] = []
    for n in range(5):
        runner.run_write(lambda n=n: n, order.append)
    qtbot.waitUntil(lambda: len(order) == 5)
    assert order == [0, 1, 2, 3, 4]


def test_service_error_reaches_the_error_callback_in_french(qtbot: QtBot) -> None:
    runner = ThreadedTaskRunner()
    messages: list[str] = []

    def refuse() -> None:
        raise ValidationFailed("Le nom complet est obligatoire.")

    runner.run_write(refuse, None, messages.append)
    qtbot.waitUntil(lambda: bool(messages))
    assert messages == ["Le nom complet est obligatoire."]


@pytest.mark.parametrize("runner", [SyncTaskRunner(), None])
def test_unexpected_error_gives_generic_message_and_logs_no_data(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, runner: SyncTaskRunner | None
) -> None:
    active = runner or ThreadedTaskRunner()
    messages: list[str] = []
    with caplog.at_level(logging.ERROR):
        active.run_read(_boom, None, messages.append)
        qtbot.waitUntil(lambda: bool(messages))
    assert messages[0].startswith("Une erreur inattendue est survenue")
    assert "KeyError" in caplog.text
    assert "DUPONT" not in caplog.text and "84 12" not in caplog.text


def test_permission_denied_message_is_the_french_sentence() -> None:
    assert user_message(PermissionDenied(Role.RECEPTION, Permission.USERS_MANAGE)) == (
        "Action non autorisée : le rôle « Accueil » ne permet pas de gérer les comptes "
        "utilisateurs."
    )
