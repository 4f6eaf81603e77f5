"""The clinical key's primitives (#17): sealed grants open only for their recipient, epoch
and key; a field's ciphertext only in its table, row and field."""

from __future__ import annotations

import pytest

from cms_desktop.storage import clinical_crypto as cc

KEY = cc.new_clinical_key(3, "key-a")


def test_a_grant_opens_for_its_recipient_only() -> None:
    private, public = cc.new_agreement_pair()
    assert cc.public_of(private) == public
    sealed = cc.seal(public, "dr.a", "pk-1", KEY)
    opened = cc.open_sealed(private, sealed, "dr.a", "pk-1", "key-a", 3).key
    assert (opened.key, opened.epoch, opened.key_id) == (KEY.key, 3, "key-a")
    other, _ = cc.new_agreement_pair()
    for args in (
        (other, sealed, "dr.a", "pk-1", "key-a", 3),  # another account's private key
        (private, sealed, "dr.b", "pk-1", "key-a", 3),  # replayed to another login
        (private, sealed, "dr.a", "pk-2", "key-a", 3),  # or to another key of the account
        (private, sealed, "dr.a", "pk-1", "key-b", 3),  # claimed as another key
        (private, sealed, "dr.a", "pk-1", "key-a", 4),  # or another epoch
        (private, sealed[:-4] + "AAAA", "dr.a", "pk-1", "key-a", 3),  # altered
        (private, "pas du base64", "dr.a", "pk-1", "key-a", 3),
    ):
        with pytest.raises(cc.GrantUnreadable):
            cc.open_sealed(*args)


def test_a_grant_naming_its_sender_opens_with_that_senders_public_key_only() -> None:
    private, public = cc.new_agreement_pair()
    sender_private, sender_public = cc.new_agreement_pair()
    forger_private, forger_public = cc.new_agreement_pair()
    sender = cc.Sender("pk-s", sender_private)
    sealed = cc.seal(public, "dr.a", "pk-1", KEY, sender, b'{"list":1}')
    assert sealed.startswith("2:pk-s:") and cc.grant_sender(sealed) == "pk-s"
    opened = cc.open_sealed(private, sealed, "dr.a", "pk-1", "key-a", 3, sender_public)
    assert (opened.key.key, opened.sender_key_id, opened.payload) == (
        KEY.key,
        "pk-s",
        b'{"list":1}',
    )
    # Whoever can write rows can seal a key to dr.a, naming pk-s as its sender; it opens
    # only with the forger's own public key, never with pk-s's: the sender is proven.
    forged = cc.seal(public, "dr.a", "pk-1", KEY, cc.Sender("pk-s", forger_private))
    with pytest.raises(cc.GrantUnreadable):
        cc.open_sealed(private, forged, "dr.a", "pk-1", "key-a", 3, sender_public)
    assert cc.open_sealed(private, forged, "dr.a", "pk-1", "key-a", 3, forger_public)
    for bad in (
        sealed.replace("2:pk-s:", "2:pk-t:"),  # another sender named
        sealed.split(":", 2)[2],  # the sender's part dropped: read as the first format
    ):
        with pytest.raises(cc.GrantUnreadable):
            cc.open_sealed(private, bad, "dr.a", "pk-1", "key-a", 3, sender_public)
    with pytest.raises(cc.GrantUnreadable):  # a sender named but no key to check it with
        cc.open_sealed(private, sealed, "dr.a", "pk-1", "key-a", 3)


def test_a_field_opens_in_its_place_only() -> None:
    keys = {KEY.key_id: KEY}
    stored = cc.encrypt_field(KEY, "consultations", "n1", "diagnosis", "Grippe é")
    assert stored.startswith("cms-ck1:3:key-a:") and "Grippe" not in stored
    assert cc.decrypt_field(keys, "consultations", "n1", "diagnosis", stored) == "Grippe é"
    for table, row, field in (
        ("consultations", "n2", "diagnosis"),
        ("consultations", "n1", "reason"),
        ("consultation_drafts", "n1", "diagnosis"),
    ):
        with pytest.raises(cc.TamperedField):
            cc.decrypt_field(keys, table, row, field, stored)
    with pytest.raises(cc.ClinicalKeyMissing) as missing:
        cc.decrypt_field({}, "consultations", "n1", "diagnosis", stored)
    assert missing.value.epoch == 3
    # Text written before the clinical key is read as it is.
    assert cc.decrypt_field({}, "consultations", "n1", "diagnosis", "Angine") == "Angine"
    # The key itself never shows in a repr (a log line, a traceback's locals).
    assert repr(KEY) == "ClinicalKey('key-a', epoch=3)" and str(KEY.key) not in repr(KEY)


def test_bytes_and_json_fields() -> None:
    keys = {KEY.key_id: KEY}
    pdf = b"%PDF-1.4 ordonnance"
    sealed = cc.encrypt_bytes(KEY, "prescriptions", "p1", "pdf", pdf)
    assert cc.is_sealed_bytes(sealed) and pdf not in sealed
    assert cc.decrypt_bytes(keys, "prescriptions", "p1", "pdf", sealed) == pdf
    assert cc.decrypt_bytes({}, "prescriptions", "p1", "pdf", pdf) == pdf  # legacy
    with pytest.raises(cc.TamperedField):
        cc.decrypt_bytes(keys, "prescriptions", "p2", "pdf", sealed)
    vitals = cc.encrypt_json(KEY, "consultations", "n1", "vitals", {"weight_kg": 61.5})
    assert cc.decrypt_json(keys, "consultations", "n1", "vitals", vitals) == {"weight_kg": 61.5}


def test_what_a_password_opens_keeps_its_keys_out_of_repr() -> None:
    from cms_desktop.storage.keyslots import Unwrapped

    opened = Unwrapped(b"db-key-bytes", "k1", b"signing-bytes", "k2", b"agreement-bytes")
    shown = repr(opened)
    assert "k1" in shown and "k2" in shown
    assert not any(secret in shown for secret in ("db-key", "signing-bytes", "agreement-bytes"))
