"""Generations of the database key (storage.dbkey_rotation): who reaches which key."""

from __future__ import annotations

import base64
import secrets

import pytest

from cms_desktop.storage import clinical_crypto, dbkey_rotation
from cms_desktop.storage.dbkey_rotation import Recipient

CENTRE = "centre-1"


def _pair(login: str) -> tuple[Recipient, dict[str, bytes]]:
    key_id, private, public = dbkey_rotation.new_pair()
    return Recipient(login, key_id, public), {key_id: private}


def _chain() -> tuple[bytes, list[dbkey_rotation.Generation], dict[str, dict[str, bytes]], bytes]:
    """Generation 0 → 1 (to alice and bob) → 2 (to alice only)."""
    original = secrets.token_bytes(32)
    alice, alice_pairs = _pair("alice")
    bob, bob_pairs = _pair("bob")
    first, key1 = dbkey_rotation.make_generation(
        CENTRE, ((0, ""), original), 1, [alice, bob], "admin", "2026-12-06T10:00:00+00:00"
    )
    second, key2 = dbkey_rotation.make_generation(
        CENTRE, (first.ref, key1), 2, [alice], "admin", "2026-12-06T11:00:00+00:00"
    )
    return original, [first, second], {"alice": alice_pairs, "bob": bob_pairs}, key2


def test_a_recipient_reaches_the_newest_and_every_older_key_never_a_newer_one() -> None:
    original, generations, pairs, newest = _chain()
    alice = dbkey_rotation.reachable_keys(
        CENTRE, generations, ((0, ""), original), "alice", pairs["alice"]
    )
    assert [ref[0] for ref, _ in alice] == [2, 1, 0]
    assert alice[0][1] == newest and alice[-1][1] == original
    bob = dbkey_rotation.reachable_keys(
        CENTRE, generations, ((0, ""), original), "bob", pairs["bob"]
    )
    assert [ref[0] for ref, _ in bob] == [1, 0]  # left out of generation 2
    nobody = dbkey_rotation.reachable_keys(CENTRE, generations, ((0, ""), original), "bob", {})
    assert [ref[0] for ref, _ in nobody] == [0]


def test_a_seal_moved_to_another_login_or_centre_opens_nothing() -> None:
    original, generations, pairs, _ = _chain()
    second = generations[1]
    moved = dbkey_rotation.Generation(
        **{**second.as_json(), "sealed": {"bob": dict(second.sealed["alice"])}}
    )
    bob = dbkey_rotation.reachable_keys(
        CENTRE, [generations[0], moved], ((0, ""), original), "bob", pairs["alice"]
    )
    # Even with the private key it was sealed to, under another login it opens nothing.
    assert [ref[0] for ref, _ in bob] == [0]
    elsewhere = dbkey_rotation.reachable_keys(
        "another-centre", generations, ((0, ""), original), "alice", pairs["alice"]
    )
    assert [ref[0] for ref, _ in elsewhere] == [0]


def test_a_tampered_back_link_is_skipped() -> None:
    _, generations, _, newest = _chain()
    second = generations[1].as_json()
    raw = bytearray(base64.b64decode(second["previous"]))
    raw[-1] ^= 1
    second["previous"] = base64.b64encode(bytes(raw)).decode()
    tampered = dbkey_rotation.parse(second)
    keys = dbkey_rotation.reachable_keys(
        CENTRE, [tampered], ((2, tampered.key_id), newest), "alice", {}
    )
    assert [ref[0] for ref, _ in keys] == [2]


def test_a_sealed_database_key_never_reads_as_a_clinical_grant() -> None:
    """Same X25519 pair (the fallback for slots without a rekey pair), other HKDF info."""
    private, public = clinical_crypto.new_agreement_pair()
    generation, _ = dbkey_rotation.make_generation(
        CENTRE,
        ((0, ""), secrets.token_bytes(32)),
        1,
        [Recipient("dr.x", "k1", public)],
        "admin",
        "2026-12-06T10:00:00+00:00",
    )
    with pytest.raises(clinical_crypto.GrantUnreadable):
        clinical_crypto.open_sealed(
            private, generation.sealed["dr.x"]["sealed"], "dr.x", "k1", generation.key_id, 1
        )


def test_damaged_records_are_skipped_and_a_missing_field_is_refused() -> None:
    _, generations, _, _ = _chain()
    good = generations[0].as_json()
    assert dbkey_rotation.parse_all([{"number": "x"}, {}, good]) == [generations[0]]
    with pytest.raises(ValueError):
        dbkey_rotation.parse({k: v for k, v in good.items() if k != "previous"})
