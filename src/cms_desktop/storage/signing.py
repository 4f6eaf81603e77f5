"""Ed25519 signatures of clinical acts (``cryptography``), and clinicians' key pairs.

The private half lives only wrapped in its owner's key slot (``keyslots.with_keys``)
and, after login, in the workspace's memory; the public half is a replicated
``signing_keys`` row. A signature is stored as ``"<canonical format>:<base64>"`` so that a
later canonical form can be told apart.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy.orm import Session

from cms_desktop.domain.signed_acts import FORMAT, UnknownFormat, canonical_bytes
from cms_desktop.storage.models.base import new_id
from cms_desktop.storage.models.signing import SigningKey


def new_key_pair() -> tuple[bytes, str]:
    """(private raw 32 bytes, public raw bytes in base64)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw, base64.b64encode(public).decode("ascii")


def publish_key(session: Session, user_id: str, public_b64: str) -> str:
    """Add the public half for every station (in the caller's transaction); its key id."""
    key_id = new_id()
    session.add(SigningKey(id=key_id, user_id=user_id, public_key=public_b64))
    return key_id


def sign(private_raw: bytes, kind: str, values: dict[str, object]) -> str:
    payload = canonical_bytes(kind, values)
    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(payload)
    return f"{FORMAT}:{base64.b64encode(signature).decode('ascii')}"


@functools.lru_cache(maxsize=256)
def _public_key(public_b64: str) -> Ed25519PublicKey:
    # A centre has a few dozen keys: parsed once, not once per act verified.
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))


def verify(public_b64: str, kind: str, values: dict[str, object], signature: str) -> bool:
    """True only if ``signature`` is this key's signature of exactly these values."""
    fmt, _, encoded = signature.partition(":")
    try:
        payload = canonical_bytes(kind, values, fmt)
        _public_key(public_b64).verify(base64.b64decode(encoded, validate=True), payload)
    except (InvalidSignature, UnknownFormat, ValueError, binascii.Error, TypeError):
        return False
    return True
