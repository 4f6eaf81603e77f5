"""One-time pairing codes: a new workstation proves it knows the code shown on a paired one.

Exchange (bytes in, bytes out; the network layer carries it over TLS where the joiner does
not yet verify the sponsor's certificate)::

    joiner  → sponsor : JOIN      station id, name, joiner nonce, joiner public key
    sponsor → joiner  : CHALLENGE sponsor nonce
    joiner  → sponsor : PROOF     HMAC(k_joiner, transcript)
    sponsor → joiner  : GRANT     certificate, site CA, HMAC(k_sponsor, transcript + grant)

Keys come from scrypt(code, salt = both nonces), then HKDF bound to the transcript, which
includes the sponsor's TLS certificate *as the joiner saw it*: a man in the middle presents
another certificate, so the joiner's proof is worthless to the real sponsor, and the grant
MAC (sponsor side) cannot be forged without the code. The code itself never travels.

Threat model. Without a PAKE (the ``spake2`` package is installable but is a new pure-Python
dependency; ``cryptography`` has none), an active attacker who impersonates one side obtains
one MAC to attack offline. The code has ~39.6 bits (8 symbols out of 31) and each guess costs
a scrypt derivation (2^15 × 8, ≈ 50 ms): exhausting the space takes CPU-centuries while the
code lives 10 minutes and dies after one use. Online guessing is capped at 3 wrong proofs.
The joiner's private key never leaves it; only its public key is certified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pki import (
    PkiError,
    StationCredentials,
    certificate_public_key,
    certify_station_key,
    load_certificate,
    station_id_from_peer_cert,
    validate_station_id,
)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed safely
CODE_LENGTH = 8
CODE_LIFETIME_S = 600.0
MAX_ATTEMPTS = 3
_PROTOCOL = b"cms-pairing-v1"
_SCRYPT_N = 2**15


class PairingError(SyncError):
    """Pairing failed; the French message says what the person can do."""


Issuer = Callable[[str, str, Ed25519PublicKey], bytes]
"""(station_id, station_name, public key) → certificate PEM signed by the site CA."""


def ca_issuer(ca_cert_pem: bytes, ca_key_pem: bytes) -> Issuer:
    def issue(station_id: str, station_name: str, public_key: Ed25519PublicKey) -> bytes:
        return certify_station_key(ca_cert_pem, ca_key_pem, station_id, station_name, public_key)

    return issue


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch not in "- \t")


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


class PairingCode:
    """A short code valid for 10 minutes, for one successful use and at most 3 wrong proofs."""

    def __init__(
        self,
        code: str | None = None,
        lifetime_s: float = CODE_LIFETIME_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._code = normalize_code(code) if code else _random_code()
        self._clock = clock
        self._expires = clock() + lifetime_s
        self._attempts_left = MAX_ATTEMPTS
        self._consumed = False
        self._lock = threading.Lock()

    @property
    def display(self) -> str:
        """The code as shown on screen, e.g. ``ABCD-EFGH``."""
        return format_code(self._code)

    @property
    def usable(self) -> bool:
        with self._lock:
            return self._usable()

    def _usable(self) -> bool:
        return not self._consumed and self._attempts_left > 0 and self._clock() < self._expires

    def ensure_usable(self) -> None:
        with self._lock:
            self._check_usable()

    def _check_usable(self) -> None:
        if self._consumed:
            raise PairingError(
                "Code d'appairage déjà utilisé par un autre poste : affichez un nouveau code."
            )
        if not self._usable():
            raise PairingError(
                "Code d'appairage expiré ou déjà utilisé : affichez un nouveau code."
            )

    def _secret(self) -> bytes:
        return self._code.encode("ascii")

    def _settle(self, success: bool) -> None:
        with self._lock:
            self._check_usable()
            if success:
                self._consumed = True
            else:
                self._attempts_left -= 1


def _random_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    return base64.b64decode(str(text), validate=True)


def _message(kind: str, **fields: Any) -> bytes:
    return json.dumps({"type": kind, **fields}, sort_keys=True, separators=(",", ":")).encode()


def _parse(data: bytes, kind: str) -> dict[str, Any]:
    try:
        message = json.loads(data)
    except ValueError as exc:
        raise PairingError("Message d'appairage illisible.") from exc
    if not isinstance(message, dict) or message.get("type") != kind:
        raise PairingError("Message d'appairage inattendu.")
    return message


def _keys(
    code: bytes, join: bytes, challenge: bytes, sponsor_cert_der: bytes
) -> tuple[bytes, bytes, bytes]:
    """(k_joiner, k_sponsor, transcript hash)."""
    join_nonce = _unb64(json.loads(join)["nonce"])
    sponsor_nonce = _unb64(json.loads(challenge)["nonce"])
    salt = hashlib.sha256(_PROTOCOL + join_nonce + sponsor_nonce).digest()
    stretched = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(code)
    transcript = hashlib.sha256(
        b"".join(hashlib.sha256(part).digest() for part in (join, challenge, sponsor_cert_der))
    ).digest()
    okm = HKDF(hashes.SHA256(), length=64, salt=_PROTOCOL, info=transcript).derive(stretched)
    return okm[:32], okm[32:], transcript


def _mac(key: bytes, *parts: bytes) -> bytes:
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


class PairingSponsor:
    """The paired station's side. One instance per connection attempt; the code is shared."""

    def __init__(self, code: PairingCode, credentials: StationCredentials, issue: Issuer) -> None:
        self._code = code
        self._credentials = credentials
        self._issue = issue
        self._join: bytes | None = None
        self._challenge: bytes | None = None

    def challenge(self, join: bytes) -> bytes:
        """Answer a JOIN message with a CHALLENGE."""
        self._code.ensure_usable()
        message = _parse(join, "join")
        try:
            valid = len(_unb64(message["nonce"])) == 32 and len(_unb64(message["public_key"])) == 32
            validate_station_id(str(message["station_id"]))
        except (KeyError, ValueError, PkiError) as exc:
            raise PairingError("Message d'appairage illisible.") from exc
        if not valid:
            raise PairingError("Message d'appairage illisible.")
        self._join = join
        self._challenge = _message("challenge", nonce=_b64(secrets.token_bytes(32)))
        return self._challenge

    def grant(self, proof: bytes) -> bytes:
        """Check the joiner's PROOF; on success consume the code and return the GRANT."""
        if self._join is None or self._challenge is None:
            raise PairingError("Message d'appairage inattendu.")
        cert_der = load_certificate(self._credentials.cert_pem).public_bytes(
            serialization.Encoding.DER
        )
        k_joiner, k_sponsor, transcript = _keys(
            self._code._secret(), self._join, self._challenge, cert_der
        )
        expected = _mac(k_joiner, b"joiner", transcript)
        ok = hmac.compare_digest(expected, _unb64(_parse(proof, "proof").get("mac", "")))
        self._code._settle(ok)
        if not ok:
            raise PairingError("Code d'appairage incorrect.")
        join = json.loads(self._join)
        public_key = Ed25519PublicKey.from_public_bytes(_unb64(join["public_key"]))
        cert_pem = self._issue(str(join["station_id"]), str(join["station_name"]), public_key)
        ca_pem = self._credentials.ca_cert_pem
        mac = _mac(k_sponsor, b"sponsor", transcript, hashlib.sha256(cert_pem + ca_pem).digest())
        return _message("grant", cert=cert_pem.decode(), ca_cert=ca_pem.decode(), mac=_b64(mac))


@dataclass
class PairingJoiner:
    """The new station's side: it generates its own key and proves it knows the code."""

    code: str
    station_id: str
    station_name: str

    def __post_init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self._join: bytes | None = None
        self._keys: tuple[bytes, bytes, bytes] | None = None
        self._sponsor_cert_der = b""

    def join(self) -> bytes:
        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._join = _message(
            "join",
            station_id=self.station_id,
            station_name=self.station_name,
            nonce=_b64(secrets.token_bytes(32)),
            public_key=_b64(raw),
        )
        return self._join

    def prove(self, challenge: bytes, sponsor_cert_der: bytes) -> bytes:
        """Answer the CHALLENGE; ``sponsor_cert_der`` is the TLS certificate the sponsor showed."""
        if self._join is None:
            raise PairingError("Message d'appairage inattendu.")
        _parse(challenge, "challenge")
        code = normalize_code(self.code).encode("ascii", "replace")
        self._keys = _keys(code, self._join, challenge, sponsor_cert_der)
        self._sponsor_cert_der = sponsor_cert_der
        return _message("proof", mac=_b64(_mac(self._keys[0], b"joiner", self._keys[2])))

    def complete(self, grant: bytes) -> StationCredentials:
        """Check the GRANT and return this station's credentials."""
        if self._keys is None:
            raise PairingError("Message d'appairage inattendu.")
        message = _parse(grant, "grant")
        cert_pem, ca_pem = str(message["cert"]).encode(), str(message["ca_cert"]).encode()
        expected = _mac(
            self._keys[1], b"sponsor", self._keys[2], hashlib.sha256(cert_pem + ca_pem).digest()
        )
        if not hmac.compare_digest(expected, _unb64(message.get("mac", ""))):
            raise PairingError(
                "Réponse d'appairage non authentique : recommencez avec un nouveau code."
            )
        cert, ca, sponsor = (
            load_certificate(pem) for pem in (cert_pem, ca_pem, self._sponsor_cert_der)
        )
        try:
            cert.verify_directly_issued_by(ca)
            sponsor.verify_directly_issued_by(ca)
        except Exception as exc:
            raise PairingError("Certificats d'appairage incohérents.") from exc
        mine = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        theirs = certificate_public_key(cert).public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if mine != theirs or station_id_from_peer_cert(cert_pem) != self.station_id:
            raise PairingError("Certificat reçu pour un autre poste.")
        key_pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return StationCredentials(self.station_id, cert_pem, key_pem, ca_pem)


__all__ = [
    "CODE_LIFETIME_S",
    "MAX_ATTEMPTS",
    "PairingCode",
    "PairingError",
    "PairingJoiner",
    "PairingSponsor",
    "PkiError",
    "ca_issuer",
    "format_code",
    "normalize_code",
]
