"""Sealing a secret to an X25519 public key, as HPKE does it (RFC 9180), from
``cryptography``'s primitives: an ephemeral X25519 key, HKDF-SHA256 over the shared secret
(with, in « auth » mode, X25519(sender, recipient) appended), AES-256-GCM. The clinical-key
grants and the database-key generations both use it, each with its own HKDF ``info`` so a
sealed value of one never opens as the other.

Sealed bytes: ephemeral public key (32) + nonce (12) + ciphertext.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class Unopenable(Exception):
    """Not sealed to this key, altered, or bound to other associated data."""


def _kek(info: bytes, secret: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=info + ephemeral_public + recipient_public,
    ).derive(secret)


def seal(
    info: bytes,
    recipient_public: bytes,
    plaintext: bytes,
    aad: bytes,
    sender_private: bytes | None = None,
) -> bytes:
    """``plaintext`` sealed to ``recipient_public`` (raw 32 bytes); with ``sender_private``
    only that key's holder (or the recipient) can have made it."""
    recipient = X25519PublicKey.from_public_bytes(recipient_public)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    secret = ephemeral.exchange(recipient)
    if sender_private is not None:
        secret += X25519PrivateKey.from_private_bytes(sender_private).exchange(recipient)
    nonce = secrets.token_bytes(12)
    kek = _kek(info, secret, ephemeral_public, recipient_public)
    return ephemeral_public + nonce + AESGCM(kek).encrypt(nonce, plaintext, aad)


def open_sealed(
    info: bytes,
    private_raw: bytes,
    sealed: bytes,
    aad: bytes,
    sender_public: bytes | None = None,
) -> bytes:
    """The plaintext, or Unopenable."""
    try:
        ephemeral_public, nonce, body = sealed[:32], sealed[32:44], sealed[44:]
        private = X25519PrivateKey.from_private_bytes(private_raw)
        recipient_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        secret = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        if sender_public is not None:
            secret += private.exchange(X25519PublicKey.from_public_bytes(sender_public))
        kek = _kek(info, secret, ephemeral_public, recipient_public)
        return AESGCM(kek).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError):
        raise Unopenable() from None
