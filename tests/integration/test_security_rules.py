"""Issue #18: the security rules pinned, each by a test that fails when the rule is broken
(scripts/mutants.py applies those breakages and reports any the suite lets through).

- lock-out after 5 wrong passwords, for its real duration (15 minutes), on every path:
  login, screen unlock and the command line;
- the audit chain: every hashed field, the link to the previous entry, a missing entry.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.cli import main
from cms_desktop.services import audit_trail, workspace
from cms_desktop.services.errors import LoginFailed
from cms_desktop.storage import audit
from cms_desktop.storage.models import AuditEntry
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LOCK = timedelta(minutes=15)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(workspace, "_now", lambda: self.now)


# --- lock-out ------------------------------------------------------------------------


def test_login_locks_for_fifteen_minutes_after_five_wrong_passwords(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    for attempt in range(4):
        with pytest.raises(LoginFailed, match="Identifiant ou mot de passe incorrect"):
            workspace.login(centre.data_dir, "accueil", f"faux-{attempt}")
    with pytest.raises(LoginFailed, match="verrouillé pour 15 minutes"):
        workspace.login(centre.data_dir, "accueil", "faux-5")
    clock.now = T0 + LOCK - timedelta(seconds=1)
    with pytest.raises(LoginFailed, match="Compte verrouillé"):
        workspace.login(centre.data_dir, "accueil", STAFF_PASSWORD)
    clock.now = T0 + LOCK + timedelta(seconds=1)
    ws, actor = workspace.login(centre.data_dir, "accueil", STAFF_PASSWORD)
    assert actor.login == "accueil"
    ws.close()


def test_screen_unlock_counts_wrong_passwords_and_locks_for_fifteen_minutes(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    ws, actor = workspace.login(centre.data_dir, "dr.test", STAFF_PASSWORD)
    try:
        workspace.record_lock(ws, actor)
        for attempt in range(5):
            with pytest.raises(LoginFailed, match="Mot de passe incorrect"):
                workspace.unlock(ws, actor, f"faux-{attempt}")
        # Locked now: even the right password is refused, until the 15 minutes are over.
        with pytest.raises(LoginFailed, match="Compte verrouillé"):
            workspace.unlock(ws, actor, STAFF_PASSWORD)
        clock.now = T0 + LOCK - timedelta(seconds=1)
        with pytest.raises(LoginFailed, match="Compte verrouillé"):
            workspace.unlock(ws, actor, STAFF_PASSWORD)
        clock.now = T0 + LOCK + timedelta(seconds=1)
        workspace.unlock(ws, actor, STAFF_PASSWORD)
        with ws.store.read() as session:
            actions = session.scalars(
                select(AuditEntry.action).where(AuditEntry.user_login == "dr.test")
            ).all()
        assert actions.count("unlock_failed") == 5 and "account_locked" in actions
    finally:
        ws.close()


def test_the_command_line_is_locked_out_too(
    centre: Centre,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock(monkeypatch)

    def user_list(password: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        code = main(
            [
                "--data-dir",
                str(centre.data_dir.path),
                "user",
                "list",
                "--as",
                "admin",
                "--password-stdin",
            ]
        )
        return code, capsys.readouterr().err

    for attempt in range(5):
        code, err = user_list(f"faux-{attempt}")
        assert code == 1 and "Traceback" not in err
    code, err = user_list(ADMIN_PASSWORD)
    assert code == 1 and "Compte verrouillé" in err and len(err.strip().splitlines()) == 1
    clock.now = T0 + LOCK + timedelta(seconds=1)
    code, err = user_list(ADMIN_PASSWORD)
    assert code == 0, err


def _reset_counters_by_hand(centre: Centre, login: str) -> None:
    """What someone who can write the data directory would do to try more passwords."""
    path = centre.data_dir.key_slots
    data = json.loads(path.read_text(encoding="utf-8"))
    data["slots"][login].update(failed=0, locked_until=None)
    data["pending_events"] = []
    path.write_text(json.dumps(data), encoding="utf-8")


def test_editing_the_key_slot_file_does_not_undo_a_screen_unlock_lock(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    ws, actor = workspace.login(centre.data_dir, "dr.test", STAFF_PASSWORD)
    try:
        for attempt in range(3):
            with pytest.raises(LoginFailed, match="Mot de passe incorrect"):
                workspace.unlock(ws, actor, f"faux-{attempt}")
        _reset_counters_by_hand(centre, "dr.test")  # the database still counts 3
        for attempt in range(2):
            with pytest.raises(LoginFailed, match="Mot de passe incorrect"):
                workspace.unlock(ws, actor, f"encore-{attempt}")
        _reset_counters_by_hand(centre, "dr.test")
        with pytest.raises(LoginFailed, match="Compte verrouillé"):
            workspace.unlock(ws, actor, STAFF_PASSWORD)
    finally:
        ws.close()
    _reset_counters_by_hand(centre, "dr.test")
    with pytest.raises(LoginFailed, match="Compte verrouillé"):
        workspace.login(centre.data_dir, "dr.test", STAFF_PASSWORD)
    clock.now = T0 + LOCK + timedelta(seconds=1)
    workspace.login(centre.data_dir, "dr.test", STAFF_PASSWORD)[0].close()


def test_a_login_lock_seen_by_the_database_survives_an_edited_key_slot_file(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    for attempt in range(5):
        with pytest.raises(LoginFailed):
            workspace.login(centre.data_dir, "accueil", f"faux-{attempt}")
    # Someone else opens the centre on this station: the lock is copied into the database.
    workspace.login(centre.data_dir, "admin", ADMIN_PASSWORD)[0].close()
    _reset_counters_by_hand(centre, "accueil")
    clock.now = T0 + timedelta(minutes=5)
    with pytest.raises(LoginFailed, match=r"Compte verrouillé.*Réessayez dans 11 min"):
        workspace.login(centre.data_dir, "accueil", STAFF_PASSWORD)
    clock.now = T0 + LOCK + timedelta(seconds=1)
    workspace.login(centre.data_dir, "accueil", STAFF_PASSWORD)[0].close()


# --- the audit chain ------------------------------------------------------------------


def _raw(centre: Centre, key: bytes) -> sqlcipher.Connection:
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    return conn


def _middle_entry(centre: Centre) -> tuple[bytes, AuditEntry]:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        assert audit_trail.verify(ws).ok
        with ws.store.read() as session:
            entries = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.station_id == ws.store.station_id)
                .order_by(AuditEntry.seq)
            ).all()
            assert len(entries) > 4
            middle = entries[len(entries) // 2]
            session.expunge(middle)
        return ws.key, middle
    finally:
        ws.close()


def _verify(centre: Centre) -> str:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        report = audit_trail.verify(ws)
    finally:
        ws.close()
    assert not report.ok
    return report.message


HASHED = {
    "at": "2020-01-01 00:00:00.000000",
    "user_id": "someone-else",
    "user_login": "quelquun",
    "action": "login",
    "target_type": "patient",
    "target_id": "another-target",
    "details": json.dumps({"patient_id": "autre"}),
}


@pytest.mark.parametrize("column", sorted(HASHED))
def test_changing_any_hashed_field_of_an_entry_is_named(centre: Centre, column: str) -> None:
    key, entry = _middle_entry(centre)
    conn = _raw(centre, key)
    conn.execute(f"UPDATE audit_log SET {column} = ? WHERE id = ?", (HASHED[column], entry.id))
    conn.commit()
    conn.close()
    assert f"l'entrée n° {entry.seq} " in (message := _verify(centre))
    assert entry.id in message and "a été modifiée" in message


def test_an_entry_forged_with_its_own_valid_hash_breaks_the_link(centre: Centre) -> None:
    """A forger who rewrites an entry and recomputes its hash still cannot fake the link:
    the next entry keeps pointing at the original hash."""
    key, entry = _middle_entry(centre)
    entry.action = "forged"
    entry.prev_hash = "0" * 64
    entry.hash = audit._entry_hash(entry)  # what a forger with the code would compute
    conn = _raw(centre, key)
    conn.execute(
        "UPDATE audit_log SET action = ?, prev_hash = ?, hash = ? WHERE id = ?",
        (entry.action, entry.prev_hash, entry.hash, entry.id),
    )
    conn.commit()
    conn.close()
    message = _verify(centre)
    assert f"l'entrée n° {entry.seq} " in message and "chaîne rompue" in message


def test_a_missing_entry_in_the_middle_of_the_chain_is_named(centre: Centre) -> None:
    key, entry = _middle_entry(centre)
    conn = _raw(centre, key)
    conn.execute("DELETE FROM audit_log WHERE id = ?", (entry.id,))
    conn.commit()
    conn.close()
    message = _verify(centre)
    assert f"l'entrée n° {entry.seq} " in message and "est manquante" in message


def test_failed_logins_with_unknown_names_are_one_counter_without_the_names(
    centre: Centre,
) -> None:
    size_before = len(centre.data_dir.key_slots.read_text(encoding="utf-8"))
    for n in range(60):
        with pytest.raises(LoginFailed, match="Identifiant ou mot de passe incorrect"):
            workspace.login(centre.data_dir, f"inconnu-{n}-Secret!", "x")
    text = centre.data_dir.key_slots.read_text(encoding="utf-8")
    assert "inconnu-" not in text
    assert len(text) < size_before + 300  # one counter, however many names were typed
    ws, _ = workspace.login(centre.data_dir, "admin", ADMIN_PASSWORD)
    try:
        with ws.store.read() as session:
            [event] = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "login_failed_unknown")
            ).all()
        assert json.loads(event.details)["count"] == "60"
    finally:
        ws.close()
