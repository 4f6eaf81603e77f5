"""The encrypted store on real SQLCipher files: nothing readable without a key slot."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from cms_desktop.services.errors import LoginFailed, StoreUnavailable
from cms_desktop.services.workspace import login
from cms_desktop.storage import keyslots
from cms_desktop.storage.models import Patient
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre


def _add_patient(centre: Centre, name: str) -> None:
    ws, _ = centre.login("accueil")
    with ws.store.write() as session:
        session.add(
            Patient(
                birth_name=name, first_given_name="Jeanne", birth_date=date(1970, 5, 4), sex="F"
            )
        )
    ws.close()


def test_no_file_holds_a_patient_name_or_the_key_in_clear(centre: Centre) -> None:
    _add_patient(centre, "ZYGOMATIQUE")
    ws, _ = centre.login("accueil")
    key = ws.key
    ws.close()
    files = [p for p in centre.data_dir.path.iterdir() if p.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        assert b"ZYGOMATIQUE" not in content, path.name
        assert key not in content and key.hex().encode() not in content, path.name


def test_plain_sqlite_cannot_read_the_database(centre: Centre) -> None:
    conn = sqlite3.connect(centre.data_dir.database)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    conn.close()


def test_wrong_password_is_refused_in_french_and_counts_toward_lockout(centre: Centre) -> None:
    for attempt in range(4):
        with pytest.raises(Exception, match="Identifiant ou mot de passe incorrect"):
            login(centre.data_dir, "accueil", f"wrong-{attempt}")
    with pytest.raises(Exception, match="verrouillé pour 15 minutes"):
        login(centre.data_dir, "accueil", "wrong-5")
    # Even the right password is refused while the account is locked.
    with pytest.raises(Exception, match="Compte verrouillé"):
        login(centre.data_dir, "accueil", STAFF_PASSWORD)


def test_failed_logins_reach_the_audit_trail_at_the_next_login(centre: Centre) -> None:
    with pytest.raises(LoginFailed):
        login(centre.data_dir, "dr.test", "nope")
    ws, _admin = login(centre.data_dir, "admin", ADMIN_PASSWORD)
    from cms_desktop.storage import repositories

    with ws.store.read() as session:
        actions = [(e.action, e.user_login) for e in repositories.audit_entries(session)]
    ws.close()
    assert ("login_failed", "dr.test") in actions
    assert ("login", "admin") in actions


def test_missing_key_slot_file_gives_a_recovery_message(centre: Centre) -> None:
    centre.data_dir.key_slots.unlink()
    with pytest.raises(StoreUnavailable, match=r"introuvable.*code de récupération"):
        login(centre.data_dir, "accueil", STAFF_PASSWORD)


def test_damaged_key_slot_file_gives_a_clear_message(centre: Centre) -> None:
    centre.data_dir.key_slots.write_text(
        '{"format": "cms-keyslots-1", "slots": [', encoding="utf-8"
    )
    with pytest.raises(StoreUnavailable, match="endommagé"):
        login(centre.data_dir, "accueil", STAFF_PASSWORD)


def test_database_of_another_centre_is_named_as_such(centre: Centre, tmp_path) -> None:
    from cms_desktop.services import setup
    from cms_desktop.storage.datadir import DataDir
    from tests.conftest import FAST_KDF

    other = DataDir(tmp_path / "other")
    setup.initialise_centre(
        other, setup.CentreDraft(name="Autre"), "admin", "A", ADMIN_PASSWORD, kdf=FAST_KDF
    )
    before = centre.data_dir.database.read_bytes()
    centre.data_dir.database.write_bytes(other.database.read_bytes())
    with pytest.raises(StoreUnavailable, match="autre centre"):
        login(centre.data_dir, "admin", ADMIN_PASSWORD)
    centre.data_dir.database.write_bytes(before)
    ws, _ = login(centre.data_dir, "admin", ADMIN_PASSWORD)
    ws.close()


def test_password_reset_rewraps_only_that_slot(centre: Centre) -> None:
    from cms_desktop.services import users

    before = keyslots.load(centre.data_dir.key_slots)
    ws, admin = login(centre.data_dir, "admin", ADMIN_PASSWORD)
    target = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
    users.reset_password(ws, admin, target.id, "Nouveau-Secret-7")
    ws.close()
    after = keyslots.load(centre.data_dir.key_slots)
    assert after.slots["dr.test"].wrapped != before.slots["dr.test"].wrapped
    for name in ("admin", "accueil", "direction", keyslots.RECOVERY_LOGIN):
        assert after.slots[name].wrapped == before.slots[name].wrapped
    with pytest.raises(Exception, match="incorrect"):
        login(centre.data_dir, "dr.test", STAFF_PASSWORD)
    ws, _ = login(centre.data_dir, "dr.test", "Nouveau-Secret-7")
    ws.close()


def test_recovery_code_sets_a_new_password(centre: Centre) -> None:
    from cms_desktop.services import setup

    with pytest.raises(Exception, match="Code de récupération incorrect"):
        setup.recover_access(
            centre.data_dir, "AAAA-BBBB-CCCC-DDDD-EEEE", "admin", "Recupere-Chef-1"
        )
    setup.recover_access(centre.data_dir, centre.recovery_code.lower(), "admin", "Recupere-Chef-1")
    ws, actor = login(centre.data_dir, "admin", "Recupere-Chef-1")
    assert actor.login == "admin"
    ws.close()


def test_unwritable_data_directory_is_reported(centre: Centre, tmp_path) -> None:
    import os

    from cms_desktop.services import setup
    from cms_desktop.storage.datadir import DataDir

    if os.geteuid() == 0:
        target = DataDir(tmp_path / "file-not-dir" / "x")
        (tmp_path / "file-not-dir").write_text("")
    else:
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        target = DataDir(locked / "x")
    with pytest.raises(StoreUnavailable, match="accessible en écriture"):
        setup.initialise_centre(target, setup.CentreDraft(name="X"), "admin", "A", ADMIN_PASSWORD)


def test_a_slot_written_during_a_failed_login_is_kept(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sync thread writes a replicated slot (a password set on another station) while
    # the login screen is checking a wrong password: neither change may erase the other.
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    new_slot = keyslots.make_slot(ws.centre_id, "nouveau", "user", STAFF_PASSWORD, ws.key)
    ws.close()
    path = centre.data_dir.key_slots
    real_unwrap = keyslots.unwrap_all  # the login unwraps the key and the signing key at once

    def unwrap_while_sync_writes(
        slots: keyslots.SlotFile, login_name: str, secret: str
    ) -> keyslots.Unwrapped:
        keyslots.update(path, lambda fresh: fresh.slots.__setitem__("nouveau", new_slot))
        return real_unwrap(slots, login_name, secret)

    monkeypatch.setattr(keyslots, "unwrap_all", unwrap_while_sync_writes)
    with pytest.raises(LoginFailed):
        login(centre.data_dir, "dr.test", "nope")
    after = keyslots.load(path)
    assert after.slots["nouveau"].wrapped == new_slot.wrapped
    assert after.slots["dr.test"].failed == 1
    assert [e["action"] for e in after.pending_events] == ["login_failed"]


def test_slot_file_updates_from_threads_and_processes_are_all_kept(centre: Centre) -> None:
    import subprocess
    import sys
    import threading

    path = centre.data_dir.key_slots

    def add_events(tag: str, count: int) -> None:
        for i in range(count):
            keyslots.update(
                path, lambda fresh, i=i: fresh.pending_events.append({"action": f"{tag}-{i}"})
            )

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from cms_desktop.storage import keyslots\n"
            "for i in range(40):\n"
            "    keyslots.update(Path(sys.argv[1]), lambda f, i=i: f.pending_events.append("
            "{'action': f'proc-{i}'}))",
            str(path),
        ]
    )
    threads = [threading.Thread(target=add_events, args=(f"t{n}", 20)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert child.wait(60) == 0
    actions = {e["action"] for e in keyslots.load(path).pending_events}
    assert len(actions) == 4 * 20 + 40
