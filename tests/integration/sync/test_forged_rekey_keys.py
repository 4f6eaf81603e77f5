"""A new database key is never sealed to a rekey public key an insider published (#17).

Whoever holds the database key (any account's password opens it) can write slot rows. An
insider writes, on their station, a row for the recovery slot or for a colleague carrying
a rekey public key of their own; the row reaches the administrator's station by sync, and
the next disabling there makes a new database key. It must go to the genuine pairs only.
"""

from __future__ import annotations

from dataclasses import replace

from cms_desktop.services import key_rotation
from cms_desktop.storage import dbkey_rotation, keyslot_sync, keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import opens_with
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401

Pair = tuple[str, bytes, str]  # key id, private key, public key (base64)


def _publish_from_b(joiner_dir: DataDir, slots: list[keyslots.Slot]) -> None:
    """The insider (a reception account on station B) writes slot rows."""
    ws, _ = Centre(joiner_dir, "").login("accueil")
    try:
        with ws.store.write() as session:
            for slot in slots:
                keyslot_sync.record_slot(session, slot, password_set=True)
    finally:
        ws.close()


def _with_pair(slot: keyslots.Slot, pair: Pair) -> keyslots.Slot:
    """``slot`` (same salt, same wrapped key: its owner still logs in) carrying the
    insider's public key; the wrapped private half is the genuine one's bytes."""
    assert slot.rekey is not None
    return replace(slot, rekey={**slot.rekey, "key_id": pair[0], "public": pair[2]})


def _disable_on_a(centre: Centre, login: str) -> dbkey_rotation.Generation:
    centre.disable(login)
    newest = dbkey_rotation.newest(
        dbkey_rotation.parse_all(keyslots.load(centre.data_dir.key_slots).generations)
    )
    assert newest is not None
    return newest


def _insider_reaches(
    centre: Centre, login: str, pair: Pair, generation: dbkey_rotation.Generation
) -> bool:
    """Whether the insider's private key, with the old key they hold, opens ``generation``
    as sealed to ``login``."""
    slots = keyslots.load(centre.data_dir.key_slots)
    old_key = keyslots.unwrap(slots, "admin", ADMIN_PASSWORD)
    reached = dbkey_rotation.reachable_keys(
        slots.centre_id,
        dbkey_rotation.parse_all(slots.generations),
        ((0, ""), old_key),
        login,
        {pair[0]: pair[1]},
    )
    return generation.ref in dict(reached)


def test_a_row_swapping_the_rekey_key_of_the_recovery_slot_or_a_colleague_is_ignored(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    genuine = keyslots.load(joiner_dir.key_slots).slots
    pair = dbkey_rotation.new_pair()
    forged = [_with_pair(genuine[name], pair) for name in (keyslots.RECOVERY_LOGIN, "direction")]
    _publish_from_b(joiner_dir, forged)
    sync_b_with_a(centre, joiner_dir)
    held = keyslots.load(centre.data_dir.key_slots).slots
    for name in (keyslots.RECOVERY_LOGIN, "direction"):
        assert held[name].rekey == genuine[name].rekey  # the file kept the genuine pair
    generation = _disable_on_a(centre, "dr.test")
    for name in (keyslots.RECOVERY_LOGIN, "direction"):
        rekey = genuine[name].rekey
        assert rekey is not None
        assert generation.sealed[name]["key_id"] == rekey["key_id"] != pair[0]
        assert not _insider_reaches(centre, name, pair, generation)
    # The genuine holders reach the new key: the director logs in (A rekeys), and the
    # recovery code opens the file under it.
    ws, _ = centre.login("direction", STAFF_PASSWORD)
    ws.close()
    slots = keyslots.load(centre.data_dir.key_slots)
    code = keyslots.normalize_recovery_code(centre.recovery_code)
    newest = key_rotation.candidate_keys(slots, keyslots.RECOVERY_LOGIN, code)[0]
    assert opens_with(centre.data_dir.database, newest)


def test_a_row_giving_the_recovery_slot_another_code_is_ignored(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    """A recovery slot of a code of the insider's (new salt: it outranks the set-up's row
    by date), carrying their pair: the stations keep the one from set-up."""
    centre, joiner_dir, _ = joined
    slots = keyslots.load(joiner_dir.key_slots)
    genuine = slots.slots[keyslots.RECOVERY_LOGIN]
    old_key = keyslots.unwrap(slots, "accueil", STAFF_PASSWORD)
    pair = dbkey_rotation.new_pair()
    fake_code = keyslots.new_recovery_code()
    fake = keyslots.make_slot(
        slots.centre_id, keyslots.RECOVERY_LOGIN, "recovery", fake_code, old_key
    )
    fake = keyslots.with_keys(slots.centre_id, fake, fake_code, rekey=pair)
    _publish_from_b(joiner_dir, [fake])
    sync_b_with_a(centre, joiner_dir)
    held = keyslots.load(centre.data_dir.key_slots).slots[keyslots.RECOVERY_LOGIN]
    assert (held.salt, held.rekey) == (genuine.salt, genuine.rekey)
    generation = _disable_on_a(centre, "dr.test")
    assert genuine.rekey is not None
    assert generation.sealed[keyslots.RECOVERY_LOGIN]["key_id"] == genuine.rekey["key_id"]
    assert not _insider_reaches(centre, keyslots.RECOVERY_LOGIN, pair, generation)
    # B, where the row was written, keeps the genuine slot too once synced again.
    sync_b_with_a(centre, joiner_dir)
    assert keyslots.load(joiner_dir.key_slots).slots[keyslots.RECOVERY_LOGIN].salt == genuine.salt
