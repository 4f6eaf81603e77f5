"""The clinical key's cryptography (#17), all from ``cryptography`` (no hand-made primitive).

- Each account that may read clinical content has an X25519 key pair; its private half is
  wrapped in the account's own key slot (``keyslots.with_keys``).
- A clinical key (random 256 bits, with an epoch number and a random key id) is *sealed*
  to a recipient's public key as HPKE does it: an ephemeral X25519 key, HKDF-SHA256 over
  the shared secret, AES-256-GCM; the associated data binds the recipient login, the
  recipient's key id, the clinical key id and the epoch, so a grant cannot be replayed to
  another account or epoch.
- A clinical field is stored as ``"cms-ck1:<epoch>:<key id>:<base64 nonce+ciphertext>"``,
  AES-256-GCM under that key with associated data ``table|row id|field|epoch|key id``: a
  ciphertext copied to another row or field does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from cms_desktop.storage import sealbox

FIELD_PREFIX = "cms-ck1:"
GRANT_FORMAT = "cms-ck-grant-1"
GRANT_INFO = GRANT_FORMAT.encode()  # the HKDF info of a grant (``sealbox``)


class ClinicalKeyMissing(Exception):
    """The session does not hold the clinical key of that epoch (no grant yet)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        super().__init__(f"epoch {epoch}")


class TamperedField(Exception):
    """A stored ciphertext does not decrypt: altered, or moved from another row or field."""


class GrantUnreadable(Exception):
    """A sealed grant does not open with this private key (altered, or not ours)."""


@dataclass(frozen=True)
class ClinicalKey:
    key_id: str
    epoch: int
    key: bytes

    def __repr__(self) -> str:  # never the key in a log or a traceback
        return f"ClinicalKey({self.key_id!r}, epoch={self.epoch})"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_agreement_pair() -> tuple[bytes, str]:
    """(private raw 32 bytes, public raw 32 bytes in base64)."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw, _b64(public)


def public_of(private_raw: bytes) -> str:
    public = X25519PrivateKey.from_private_bytes(private_raw).public_key()
    return _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def new_clinical_key(epoch: int, key_id: str) -> ClinicalKey:
    return ClinicalKey(key_id, epoch, AESGCM.generate_key(bit_length=256))


def _grant_aad(
    recipient: str, recipient_key_id: str, key_id: str, epoch: int, sender_key_id: str
) -> bytes:
    text = f"{GRANT_FORMAT}|{recipient}|{recipient_key_id}|{key_id}|{epoch}"
    return (text + f"|sender|{sender_key_id}" if sender_key_id else text).encode()


@dataclass(frozen=True)
class Sender:
    """The granting account's own X25519 key: a grant sealed with it can only have been
    made by whoever holds that private key (HPKE's « auth » mode, RFC 9180 §5.1.3)."""

    key_id: str
    private: bytes = field(repr=False)


@dataclass(frozen=True)
class Opened:
    key: ClinicalKey
    sender_key_id: str | None  # None: a grant of the first format, no sender proven
    payload: bytes = field(repr=False)  # what the sender attached (its trust, JSON)


AUTH_MARK = "2:"  # sealed text "2:<sender key id>:<base64>"; base64 never holds ":"


def seal(
    recipient_public_b64: str,
    recipient: str,
    recipient_key_id: str,
    clinical: ClinicalKey,
    sender: Sender | None = None,
    payload: bytes = b"",
) -> str:
    """``clinical`` (and ``payload``) sealed to the recipient's X25519 public key (text).

    With ``sender``, the key-encryption key also mixes X25519(sender, recipient): only the
    sender's private key or the recipient's can make it, so the recipient knows the grant
    comes from the holder of the sender's public key, not from whoever can write rows."""
    sender_key_id = sender.key_id if sender is not None else ""
    aad = _grant_aad(recipient, recipient_key_id, clinical.key_id, clinical.epoch, sender_key_id)
    body = _b64(
        sealbox.seal(
            GRANT_INFO,
            _unb64(recipient_public_b64),
            clinical.key + payload,
            aad,
            sender.private if sender is not None else None,
        )
    )
    return f"{AUTH_MARK}{sender_key_id}:{body}" if sender is not None else body


def grant_sender(sealed: str) -> str | None:
    """The sender key id a sealed grant names (not yet proven), None for the first format."""
    if not sealed.startswith(AUTH_MARK):
        return None
    return sealed[len(AUTH_MARK) :].split(":", 1)[0]


def open_sealed(
    private_raw: bytes,
    sealed: str,
    recipient: str,
    recipient_key_id: str,
    key_id: str,
    epoch: int,
    sender_public_b64: str | None = None,
) -> Opened:
    """The clinical key of a grant, or GrantUnreadable. A grant naming a sender opens only
    with that sender's public key (``sender_public_b64``): it proves who sealed it."""
    try:
        sender_key_id = grant_sender(sealed)
        body, sender_public = sealed, b""
        if sender_key_id is not None:
            if sender_public_b64 is None:
                raise ValueError("sender key unknown")
            body = sealed[len(AUTH_MARK) + len(sender_key_id) + 1 :]
            sender_public = _unb64(sender_public_b64)
        plain = sealbox.open_sealed(
            GRANT_INFO,
            private_raw,
            _unb64(body),
            _grant_aad(recipient, recipient_key_id, key_id, epoch, sender_key_id or ""),
            sender_public or None,
        )
    except (sealbox.Unopenable, ValueError, binascii.Error):
        raise GrantUnreadable(key_id) from None
    if len(plain) < 32:
        raise GrantUnreadable(key_id)
    return Opened(ClinicalKey(key_id, epoch, plain[:32]), sender_key_id, plain[32:])


def fingerprint(key: ClinicalKey) -> str:
    """A digest naming a clinical key's value (pinned in a trust list; reveals nothing)."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"cms-ck-pin|" + key.key_id.encode() + b"|" + key.key)
    return digest.finalize().hex()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FIELD_PREFIX)


def _field_aad(table: str, row_id: str, field: str, epoch: int, key_id: str) -> bytes:
    return f"{FIELD_PREFIX}{table}|{row_id}|{field}|{epoch}|{key_id}".encode()


def encrypt_field(key: ClinicalKey, table: str, row_id: str, field: str, text: str) -> str:
    nonce = secrets.token_bytes(12)
    body = AESGCM(key.key).encrypt(
        nonce, text.encode("utf-8"), _field_aad(table, row_id, field, key.epoch, key.key_id)
    )
    return f"{FIELD_PREFIX}{key.epoch}:{key.key_id}:{_b64(nonce + body)}"


def epoch_of(stored: str) -> tuple[int, str]:
    """(epoch, key id) a stored ciphertext names; TamperedField if it is malformed."""
    try:
        epoch_text, key_id, _ = stored[len(FIELD_PREFIX) :].split(":", 2)
        return int(epoch_text), key_id
    except ValueError:
        raise TamperedField(stored[:24]) from None


def decrypt_field(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: str
) -> str:
    """The plaintext of a stored field. Legacy plaintext (written before the clinical key)
    comes back as it is; ClinicalKeyMissing or TamperedField otherwise."""
    if not stored.startswith(FIELD_PREFIX):
        return stored
    epoch, key_id = epoch_of(stored)
    key = keys.get(key_id)
    if key is None:
        raise ClinicalKeyMissing(epoch)
    try:
        raw = _unb64(stored.rsplit(":", 1)[1])
        plain = AESGCM(key.key).decrypt(
            raw[:12], raw[12:], _field_aad(table, row_id, field, key.epoch, key.key_id)
        )
        return plain.decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        raise TamperedField(f"{table}.{field}") from None


BYTES_PREFIX = FIELD_PREFIX.encode("ascii")


def encrypt_bytes(key: ClinicalKey, table: str, row_id: str, field: str, data: bytes) -> bytes:
    """A binary field (a stored PDF): the same header as text, then nonce + ciphertext raw."""
    nonce = secrets.token_bytes(12)
    body = AESGCM(key.key).encrypt(
        nonce, data, _field_aad(table, row_id, field, key.epoch, key.key_id)
    )
    return BYTES_PREFIX + f"{key.epoch}:{key.key_id}:".encode("ascii") + nonce + body


def is_sealed_bytes(value: bytes) -> bool:
    return value.startswith(BYTES_PREFIX)


def decrypt_bytes(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: bytes
) -> bytes:
    """The plaintext bytes (legacy plaintext as it is); ClinicalKeyMissing, TamperedField."""
    if not stored.startswith(BYTES_PREFIX):
        return stored
    try:
        epoch_raw, key_raw, raw = stored[len(BYTES_PREFIX) :].split(b":", 2)
        epoch, key_id = int(epoch_raw), key_raw.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise TamperedField(f"{table}.{field}") from None
    key = keys.get(key_id)
    if key is None:
        raise ClinicalKeyMissing(epoch)
    try:
        return AESGCM(key.key).decrypt(
            raw[:12], raw[12:], _field_aad(table, row_id, field, key.epoch, key.key_id)
        )
    except (InvalidTag, ValueError):
        raise TamperedField(f"{table}.{field}") from None


def encrypt_json(key: ClinicalKey, table: str, row_id: str, field: str, value: object) -> str:
    return encrypt_field(
        key, table, row_id, field, json.dumps(value, ensure_ascii=False, sort_keys=True)
    )


def decrypt_json(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: str
) -> object:
    text = decrypt_field(keys, table, row_id, field, stored)
    try:
        return json.loads(text)
    except ValueError:
        raise TamperedField(f"{table}.{field}") from None
