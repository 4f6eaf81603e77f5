"""Accounts created or reset after pairing log in on every station once synced."""

from __future__ import annotations

import pytest

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.errors import ServiceError
from cms_desktop.services.users import NewUser
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.sync.stations import sync_over_tls
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401

NEW_PASSWORD = "Cerise-Volcan-Tuba-77"  # not built on her name (refused since #18)
RESET_PASSWORD = "Autre-Secret-Tres-Long-88"
LEGACY_PASSWORD = "Ancien-Format-Pervenche-41"


def sync_b_with_a(centre: Centre, joiner_dir: DataDir) -> None:
    ws_a, _ = centre.login("admin", ADMIN_PASSWORD)
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    try:
        sync_over_tls(ws_a.store, ws_b.store)
    finally:
        ws_a.close()
        ws_b.close()


def test_an_account_created_after_pairing_logs_in_on_the_other_station(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws_a, admin, NewUser("inf.nouvelle", "Infirmière Nouvelle", Role.NURSE, NEW_PASSWORD)
        )
    finally:
        ws_a.close()
    station_b = Centre(joiner_dir, "")
    with pytest.raises(ServiceError):  # not yet: B has never heard of this account
        station_b.login("inf.nouvelle", NEW_PASSWORD)
    sync_b_with_a(centre, joiner_dir)
    slot_file = keyslots.load(joiner_dir.key_slots)
    assert "inf.nouvelle" in slot_file.slots
    ws_b, actor = station_b.login("inf.nouvelle", NEW_PASSWORD)
    try:
        assert actor.user_id == info.id
    finally:
        ws_b.close()
    # A password reset on A: the old password stops working on B, the new one works.
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.reset_password(ws_a, admin, info.id, RESET_PASSWORD)
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    with pytest.raises(ServiceError):
        station_b.login("inf.nouvelle", NEW_PASSWORD)
    ws_b, actor = station_b.login("inf.nouvelle", RESET_PASSWORD)
    ws_b.close()
    # Other accounts' slots on B are untouched.
    ws_b, _ = station_b.login("accueil")
    ws_b.close()


def test_the_replicated_row_never_holds_the_database_key(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, _, _ = joined
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.create_user(
            ws_a, admin, NewUser("inf.deux", "Infirmier Deux", Role.NURSE, NEW_PASSWORD)
        )
        from sqlalchemy import select

        from cms_desktop.storage.models import AccountKeySlot, OpLogRow

        with ws_a.store.read() as session:
            rows = session.scalars(select(AccountKeySlot)).all()
            logged = " ".join(r.values_json for r in session.scalars(select(OpLogRow)).all())
        assert "inf.deux" in {r.login for r in rows}
        key_forms = (ws_a.key.hex(), __import__("base64").b64encode(ws_a.key).decode())
        for text in (rows[0].slot_json, logged):
            assert not any(form in text for form in key_forms)
    finally:
        ws_a.close()


def test_an_account_disabled_on_one_station_loses_its_slot_on_the_other(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws_a, admin, NewUser("inf.partie", "Infirmière Partie", Role.NURSE, NEW_PASSWORD)
        )
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    held = keyslots.load(joiner_dir.key_slots)
    keyslots.unwrap(held, "inf.partie", NEW_PASSWORD)  # B holds her slot
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_active(ws_a, admin, info.id, False)
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    current = keyslots.load(joiner_dir.key_slots)
    assert "inf.partie" not in current.slots
    with pytest.raises(keyslots.BadCredentials):
        keyslots.unwrap(current, "inf.partie", NEW_PASSWORD)
    # The other accounts' slots on B still open the centre.
    assert current.slots["accueil"].wrapped == held.slots["accueil"].wrapped
    # Re-enabled and given a new password on A: she logs in on B again, with it only.
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_active(ws_a, admin, info.id, True)
        users.reset_password(ws_a, admin, info.id, RESET_PASSWORD)
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    ws_b, actor = Centre(joiner_dir, "").login("inf.partie", RESET_PASSWORD)
    assert actor.user_id == info.id
    ws_b.close()


def _slot_rows(data_dir: DataDir, login: str) -> int:
    """How many replicated slot rows this station holds for ``login`` (a reception session
    reads the table: it holds wrapped slots only)."""
    from sqlalchemy import func, select

    from cms_desktop.storage.models import AccountKeySlot

    ws, _ = Centre(data_dir, "").login("accueil")
    try:
        with ws.store.read() as session:
            count = session.scalar(
                select(func.count())
                .select_from(AccountKeySlot)
                .where(AccountKeySlot.login == login)
            )
    finally:
        ws.close()
    return int(count or 0)


def test_a_login_with_the_old_password_elsewhere_does_not_undo_a_reset(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    """A reset on A; before B hears of it, the clinician logs in on B with the old password,
    and that login publishes her slot again (its trust list changed). Once synced both ways,
    the reset holds on both stations: the new password works, the old one is refused."""
    from cms_desktop.services.errors import LoginFailed

    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws_a, admin, NewUser("inf.remise", "Infirmière Remise", Role.NURSE, NEW_PASSWORD)
        )
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.reset_password(ws_a, admin, info.id, RESET_PASSWORD)
    finally:
        ws_a.close()
    before = _slot_rows(joiner_dir, "inf.remise")
    ws_b, actor = station_b.login("inf.remise", NEW_PASSWORD)  # B has not heard of the reset
    ws_b.close()
    # The case needs the old-password login to publish a newer row than the reset's.
    assert _slot_rows(joiner_dir, "inf.remise") > before
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)  # both ways, then once more: nothing flips back
    for station in (centre, station_b):
        ws, actor = station.login("inf.remise", RESET_PASSWORD)
        assert actor.user_id == info.id
        ws.close()
        with pytest.raises(LoginFailed) as refused:
            station.login("inf.remise", NEW_PASSWORD)
        assert str(refused.value) == "Identifiant ou mot de passe incorrect."


def test_a_reset_also_wins_over_a_password_that_was_never_replicated(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    """A password set by a version that did not replicate slots (it sits in each station's
    file, no row carries it): the first row carrying it is written by a later login, which
    must not date it after a reset made meanwhile on another station."""
    from cms_desktop.services import key_rotation
    from cms_desktop.services.errors import LoginFailed

    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws_a, admin, NewUser("acc.ancienne", "Agente Ancienne", Role.RECEPTION, NEW_PASSWORD)
        )
        key, generation = key_rotation.slot_key(ws_a)
        centre_id = ws_a.centre_id
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    legacy = keyslots.make_slot(
        centre_id, "acc.ancienne", "user", LEGACY_PASSWORD, key, key_generation=generation
    )
    for data_dir in (centre.data_dir, joiner_dir):
        keyslots.update(data_dir.key_slots, lambda f: f.slots.__setitem__("acc.ancienne", legacy))
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.reset_password(ws_a, admin, info.id, RESET_PASSWORD)
    finally:
        ws_a.close()
    before = _slot_rows(joiner_dir, "acc.ancienne")
    station_b.login("acc.ancienne", LEGACY_PASSWORD)[0].close()  # gets its rekey pair
    assert _slot_rows(joiner_dir, "acc.ancienne") > before
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    for station in (centre, station_b):
        station.login("acc.ancienne", RESET_PASSWORD)[0].close()
        for old in (LEGACY_PASSWORD, NEW_PASSWORD):
            with pytest.raises(LoginFailed):
                station.login("acc.ancienne", old)


def test_a_login_with_the_old_password_elsewhere_does_not_undo_a_disabling(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    """Disabled on A; before B hears of it, she logs in there (her slot published again):
    once synced, no station's slot file holds her slot."""
    centre, joiner_dir, _ = joined
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws_a, admin, NewUser("inf.sortie", "Infirmière Sortie", Role.NURSE, NEW_PASSWORD)
        )
    finally:
        ws_a.close()
    sync_b_with_a(centre, joiner_dir)
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_active(ws_a, admin, info.id, False)
    finally:
        ws_a.close()
    before = _slot_rows(joiner_dir, "inf.sortie")
    Centre(joiner_dir, "").login("inf.sortie", NEW_PASSWORD)[0].close()
    assert _slot_rows(joiner_dir, "inf.sortie") > before
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    for data_dir in (centre.data_dir, joiner_dir):
        assert "inf.sortie" not in keyslots.load(data_dir.key_slots).slots


def test_a_password_set_with_the_recovery_code_sticks_on_every_station(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    """The recovery code dates the password it sets, as a reset does: a login with the old
    password on a station that has not heard of it yet does not bring the old one back."""
    from cms_desktop.services import setup
    from cms_desktop.services.errors import LoginFailed

    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    setup.recover_access(centre.data_dir, centre.recovery_code, "dr.test", RESET_PASSWORD)
    station_b.login("dr.test", STAFF_PASSWORD)[0].close()  # B has not heard of it
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    for station in (centre, station_b):
        station.login("dr.test", RESET_PASSWORD)[0].close()
        with pytest.raises(LoginFailed):
            station.login("dr.test", STAFF_PASSWORD)
