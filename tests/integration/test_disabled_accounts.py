"""A disabled account opens nothing: no slot left, and recovery never re-enables it (#17)."""

from __future__ import annotations

import pytest

from cms_desktop.services import setup, users
from cms_desktop.services.errors import LoginFailed, ValidationFailed
from cms_desktop.storage import keyslots
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre


def _active(centre: Centre, user_id: str) -> bool:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        return next(u for u in users.list_users(ws, admin) if u.id == user_id).active
    finally:
        ws.close()


def test_recovery_refuses_a_disabled_account_and_changes_nothing(centre: Centre) -> None:
    user_id = centre.disable("dr.test")
    before = keyslots.load(centre.data_dir.key_slots)
    with pytest.raises(ValidationFailed, match="désactivé"):
        setup.recover_access(centre.data_dir, centre.recovery_code, "dr.test", "Recupere-Doc-19")
    assert not _active(centre, user_id)
    after = keyslots.load(centre.data_dir.key_slots)
    assert after.slots.keys() == before.slots.keys()
    assert "dr.test" not in after.slots
    with pytest.raises(LoginFailed):
        centre.login("dr.test", "Recupere-Doc-19")


def test_disabling_removes_the_slot_so_the_old_password_unwraps_nothing(centre: Centre) -> None:
    before = keyslots.load(centre.data_dir.key_slots)
    keyslots.unwrap(before, "dr.test", STAFF_PASSWORD)  # works while the account is active
    centre.disable("dr.test")
    after = keyslots.load(centre.data_dir.key_slots)
    assert "dr.test" not in after.slots
    with pytest.raises(keyslots.BadCredentials):
        keyslots.unwrap(after, "dr.test", STAFF_PASSWORD)
    # The other accounts are untouched.
    for name in ("admin", "accueil", keyslots.RECOVERY_LOGIN):
        assert after.slots[name].wrapped == before.slots[name].wrapped


def test_a_re_enabled_account_logs_in_only_after_a_new_password(centre: Centre) -> None:
    user_id = centre.disable("dr.test")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_active(ws, admin, user_id, True)
    finally:
        ws.close()
    with pytest.raises(LoginFailed):
        centre.login("dr.test", STAFF_PASSWORD)  # the old password stays dead
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.reset_password(ws, admin, user_id, "Nouveau-Depart-55")
    finally:
        ws.close()
    ws, actor = centre.login("dr.test", "Nouveau-Depart-55")
    assert actor.user_id == user_id
    ws.close()


def test_recovery_still_works_for_an_active_account(centre: Centre) -> None:
    setup.recover_access(centre.data_dir, centre.recovery_code, "dr.test", "Recupere-Doc-19")
    ws, actor = centre.login("dr.test", "Recupere-Doc-19")
    assert actor.login == "dr.test"
    ws.close()


def test_junk_slot_rows_neither_cancel_a_revocation_nor_hide_a_slot(centre: Centre) -> None:
    """Rows written by whoever holds the database key that do not read as slots rank
    nowhere: newer than a revocation, or carrying a colleague's salt, they change nothing."""
    from cms_desktop.storage import keyslot_sync
    from cms_desktop.storage.models import AccountKeySlot

    centre.disable("dr.test")
    salt = keyslots.load(centre.data_dir.key_slots).slots["accueil"].salt
    ws, _admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with ws.store.write() as session:
            session.add(AccountKeySlot(login="dr.test", kind="user", slot_json="{pas du json"))
            session.add(
                AccountKeySlot(login="accueil", kind="user", slot_json=f'{{"salt": "{salt}"}}')
            )
        with ws.store.read() as session:
            assert "dr.test" in keyslot_sync.revoked_logins(session)
            assert keyslot_sync.latest_slots(session)["accueil"].salt == salt
        assert keyslot_sync.refresh_key_slots(ws.store) == []
    finally:
        ws.close()
    centre.login("accueil")[0].close()
    with pytest.raises(LoginFailed):
        centre.login("dr.test", STAFF_PASSWORD)
