"""Generations of the database key (#17, item 2): a new key when an account is disabled.

A disabled account's slot is removed everywhere, but its owner may have kept a copy of the
old ``keyslots.json``: with the old password it unwraps the key ``centre.db`` was under.
So disabling makes a new *generation* of the database key, which every station applies
with ``PRAGMA rekey`` at its next open. Nobody types a password for that: every slot holds
an X25519 key pair of its own (the ``rekey`` part, its private half wrapped under the
password like the rest of the slot, its public half beside it), and the new key is sealed
to the public key of every remaining account and of the recovery slot, as HPKE does it
(ephemeral X25519, HKDF-SHA256, AES-256-GCM; all ``cryptography``).

A generation record also holds the *previous* key encrypted under the new one, so whoever
holds a key reaches every older one (a station offline through several rotations still
opens its file, a backup made before still opens), never a newer one. Records live in the
key-slot file, readable before the database is open, and travel between stations as
replicated ``account_key_slots`` rows of kind ``generation``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cms_desktop.storage import clinical_crypto, sealbox

FORMAT = "cms-dbkey-gen-1"
# The generation of the key every centre starts with: wrapped directly in the slots.
ORIGINAL = ""

GenRef = tuple[int, str]  # (number, key id): the order is the number, then the key id


@dataclass(frozen=True)
class Generation:
    number: int
    key_id: str
    made_at: str
    made_by: str  # the login whose session made it
    previous_number: int
    previous_key_id: str
    previous: str  # the previous generation's key, AES-GCM under this one (base64)
    # recipient login → {"key_id": its rekey key id, "sealed": base64}
    sealed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def ref(self) -> GenRef:
        return (self.number, self.key_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key_id": self.key_id,
            "made_at": self.made_at,
            "made_by": self.made_by,
            "previous_number": self.previous_number,
            "previous_key_id": self.previous_key_id,
            "previous": self.previous,
            "sealed": {login: dict(body) for login, body in sorted(self.sealed.items())},
        }


def parse(data: Mapping[str, Any]) -> Generation:
    """A record from its JSON form; ValueError when anything is missing or malformed."""
    try:
        sealed = {
            str(login): {"key_id": str(body["key_id"]), "sealed": str(body["sealed"])}
            for login, body in dict(data["sealed"]).items()
        }
        generation = Generation(
            number=int(data["number"]),
            key_id=str(data["key_id"]),
            made_at=str(data["made_at"]),
            made_by=str(data["made_by"]),
            previous_number=int(data["previous_number"]),
            previous_key_id=str(data["previous_key_id"]),
            previous=str(data["previous"]),
            sealed=sealed,
        )
        _unb64(generation.previous)
        for body in sealed.values():
            _unb64(body["sealed"])
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError("generation") from exc
    if generation.number < 1 or not generation.key_id:
        raise ValueError("generation")
    return generation


def parse_all(records: Iterable[Mapping[str, Any]]) -> list[Generation]:
    """The readable records, each key id once (a damaged one is skipped)."""
    out: dict[str, Generation] = {}
    for data in records:
        try:
            generation = parse(data)
        except ValueError:
            continue
        out.setdefault(generation.key_id, generation)
    return sorted(out.values(), key=lambda g: g.ref)


def newest(generations: Iterable[Generation]) -> Generation | None:
    return max(generations, key=lambda g: g.ref, default=None)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_pair() -> tuple[str, bytes, str]:
    """A slot's rekey pair: (key id, private raw, public base64)."""
    raw, public = clinical_crypto.new_agreement_pair()
    return secrets.token_hex(16), raw, public


def _seal_aad(centre_id: str, recipient: str, recipient_key_id: str, ref: GenRef) -> bytes:
    return f"{FORMAT}|seal|{centre_id}|{recipient}|{recipient_key_id}|{ref[0]}|{ref[1]}".encode()


def _previous_aad(centre_id: str, ref: GenRef, previous: GenRef) -> bytes:
    return f"{FORMAT}|previous|{centre_id}|{ref[0]}|{ref[1]}|{previous[0]}|{previous[1]}".encode()


# Its own HKDF info: a sealed database key never opens as a clinical-key grant.
SEAL_INFO = FORMAT.encode()


def _seal(
    public_b64: str, centre_id: str, recipient: str, recipient_key_id: str, ref: GenRef, key: bytes
) -> str:
    aad = _seal_aad(centre_id, recipient, recipient_key_id, ref)
    return _b64(sealbox.seal(SEAL_INFO, _unb64(public_b64), key, aad))


def _open_sealed(
    private_raw: bytes, sealed: str, centre_id: str, recipient: str, key_id: str, ref: GenRef
) -> bytes | None:
    try:
        aad = _seal_aad(centre_id, recipient, key_id, ref)
        return sealbox.open_sealed(SEAL_INFO, private_raw, _unb64(sealed), aad)
    except (sealbox.Unopenable, ValueError, binascii.Error):
        return None


@dataclass(frozen=True)
class Recipient:
    login: str
    key_id: str
    public: str  # base64 X25519 public key


def make_generation(
    centre_id: str,
    previous: tuple[GenRef, bytes],
    number: int,
    recipients: Iterable[Recipient],
    made_by: str,
    made_at: str,
) -> tuple[Generation, bytes]:
    """A new generation after ``previous`` (its ref and key): (record, new key)."""
    key = AESGCM.generate_key(bit_length=256)
    ref: GenRef = (number, secrets.token_hex(16))
    (prev_ref, prev_key) = previous
    nonce = secrets.token_bytes(12)
    back = AESGCM(key).encrypt(nonce, prev_key, _previous_aad(centre_id, ref, prev_ref))
    sealed = {
        r.login: {
            "key_id": r.key_id,
            "sealed": _seal(r.public, centre_id, r.login, r.key_id, ref, key),
        }
        for r in recipients
    }
    record = Generation(
        number=ref[0],
        key_id=ref[1],
        made_at=made_at,
        made_by=made_by,
        previous_number=prev_ref[0],
        previous_key_id=prev_ref[1],
        previous=_b64(nonce + back),
        sealed=sealed,
    )
    return record, key


def reachable_keys(
    centre_id: str,
    generations: Iterable[Generation],
    start: tuple[GenRef, bytes],
    login: str,
    pairs: Mapping[str, bytes],
) -> list[tuple[GenRef, bytes]]:
    """Every key ``login`` can reach, newest first: the one its slot wraps (``start``), the
    generations sealed to one of its X25519 ``pairs`` (key id → private key), and every
    older one from those."""
    records = {g.ref: g for g in generations}
    known: dict[GenRef, bytes] = {start[0]: start[1]}
    for record in records.values():
        body = record.sealed.get(login)
        private = pairs.get(body["key_id"]) if body is not None else None
        if body is not None and private is not None:
            opened = _open_sealed(
                private, body["sealed"], centre_id, login, body["key_id"], record.ref
            )
            if opened is not None:
                known[record.ref] = opened
    frontier = list(known)
    while frontier:  # walk back: each record holds its previous key under its own
        ref = frontier.pop()
        held = records.get(ref)
        if held is None:
            continue
        prev_ref: GenRef = (held.previous_number, held.previous_key_id)
        if prev_ref in known:
            continue
        try:
            raw = _unb64(held.previous)
            prev_key = AESGCM(known[ref]).decrypt(
                raw[:12], raw[12:], _previous_aad(centre_id, ref, prev_ref)
            )
        except (InvalidTag, ValueError, binascii.Error):
            continue
        known[prev_ref] = prev_key
        frontier.append(prev_ref)
    return sorted(known.items(), key=lambda item: item[0], reverse=True)
