"""The centre's certificate authority, workstation certificates, revocation and TLS contexts.

All keys are Ed25519 (TLS 1.3 with OpenSSL ≥ 1.1.1 accepts them; checked with the OpenSSL
3.0 that Python links here). The same station key signs sync batches, so a receiver trusts
a batch signer through the peer's TLS certificate, with no second key to distribute.

Private keys stay in memory as PEM bytes (the caller stores them in the encrypted database).
``ssl`` only loads a key from a file, so ``_load_identity`` writes the key *encrypted* with a
fresh random password (kept in memory only) to a 0600 file in a private 0700 directory,
loads it with that password and deletes it at once: the clear key never touches the disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cms_desktop.sync.errors import PeerRejected, SyncError

CA_VALIDITY = dt.timedelta(days=20 * 365)
STATION_VALIDITY = dt.timedelta(days=10 * 365)
CRL_VALIDITY = dt.timedelta(days=3650)
STATION_URI_PREFIX = "urn:cms:station:"
_STATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


class PkiError(SyncError):
    """A certificate or key could not be created, read or trusted."""


@dataclass(frozen=True)
class StationCredentials:
    """What a station needs to speak mutual TLS: its identity and the site CA it trusts."""

    station_id: str
    cert_pem: bytes
    key_pem: bytes
    ca_cert_pem: bytes

    def signing_key(self) -> Ed25519PrivateKey:
        return load_private_key(self.key_pem)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem_key(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(key_pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise PkiError("Clé privée du poste invalide : une clé Ed25519 est attendue.")
    return key


def load_certificate(pem_or_der: bytes) -> x509.Certificate:
    try:
        if pem_or_der.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(pem_or_der)
        return x509.load_der_x509_certificate(pem_or_der)
    except ValueError as exc:
        raise PkiError("Certificat illisible.") from exc


def certificate_public_key(cert: x509.Certificate) -> Ed25519PublicKey:
    key = cert.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise PkiError("Certificat inattendu : une clé Ed25519 est attendue.")
    return key


def _clip(text: str, limit: int = 64) -> str:
    """Cut to ``limit`` UTF-8 bytes (the X.509 bound ``cryptography`` checks)."""
    return text.encode()[:limit].decode("utf-8", "ignore")


def create_site_ca(centre_name: str) -> tuple[bytes, bytes]:
    """Create the centre's certificate authority: ``(ca_cert_pem, ca_key_pem)``."""
    key = Ed25519PrivateKey.generate()
    name = x509.Name(
        [
            # X.509 caps both attributes at 64 characters; long centre names are cut.
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _clip(centre_name)),
            x509.NameAttribute(
                NameOID.COMMON_NAME, _clip(f"Autorité de synchronisation — {centre_name}")
            ),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def validate_station_id(station_id: str) -> None:
    """Station ids go into DNS names and URIs: letters, digits and dashes, ≤ 63 characters."""
    if not _STATION_ID.match(station_id):
        raise PkiError("Identifiant de poste invalide (lettres, chiffres et tirets seulement).")


def certify_station_key(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    station_id: str,
    station_name: str,
    public_key: Ed25519PublicKey,
) -> bytes:
    """Sign a certificate for a key the station generated itself (used by pairing)."""
    validate_station_id(station_id)
    ca_cert = load_certificate(ca_cert_pem)
    ca_key = load_private_key(ca_key_pem)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, _clip(station_name or station_id)),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, station_id),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + STATION_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(STATION_URI_PREFIX + station_id),
                    x509.DNSName(f"station-{station_id.lower()}.cms.local"),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(certificate_public_key(ca_cert)),
            critical=False,
        )
        .sign(ca_key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def issue_station_certificate(
    ca_cert_pem: bytes, ca_key_pem: bytes, station_id: str, station_name: str
) -> tuple[bytes, bytes]:
    """Generate a station key and its certificate: ``(cert_pem, key_pem)``."""
    key = Ed25519PrivateKey.generate()
    cert = certify_station_key(ca_cert_pem, ca_key_pem, station_id, station_name, key.public_key())
    return cert, _pem_key(key)


def station_id_from_peer_cert(der: bytes) -> str:
    """The station id carried by a certificate (SAN URI ``urn:cms:station:<id>``)."""
    cert = load_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise PeerRejected("Certificat du poste distant sans identifiant de poste.") from exc
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(STATION_URI_PREFIX):
            station_id = uri[len(STATION_URI_PREFIX) :]
            if _STATION_ID.match(station_id):
                return station_id
    raise PeerRejected("Certificat du poste distant sans identifiant de poste.")


# --- revocation -------------------------------------------------------------------------


def create_revocation_list(
    ca_cert_pem: bytes, ca_key_pem: bytes, revoked_serials: Iterable[int] = ()
) -> bytes:
    """A CRL signed by the site CA listing ``revoked_serials`` (PEM)."""
    ca_cert = load_certificate(ca_cert_pem)
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + CRL_VALIDITY)
    )
    for serial in sorted(set(revoked_serials)):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    crl = builder.sign(load_private_key(ca_key_pem), None)
    return crl.public_bytes(serialization.Encoding.PEM)


def revoke(ca_cert_pem: bytes, ca_key_pem: bytes, crl_pem: bytes | None, cert_pem: bytes) -> bytes:
    """Return a new CRL with ``cert_pem`` added to those already revoked in ``crl_pem``."""
    known = RevocationList.load(crl_pem, ca_cert_pem).serials if crl_pem else frozenset()
    serial = load_certificate(cert_pem).serial_number
    return create_revocation_list(ca_cert_pem, ca_key_pem, known | {serial})


@dataclass(frozen=True)
class RevocationList:
    """The revoked serial numbers of a CRL whose signature by the site CA was checked."""

    serials: frozenset[int]

    @classmethod
    def load(cls, crl_pem: bytes, ca_cert_pem: bytes) -> RevocationList:
        try:
            crl = x509.load_pem_x509_crl(crl_pem)
        except ValueError as exc:
            raise PkiError("Liste de révocation illisible.") from exc
        ca_key = certificate_public_key(load_certificate(ca_cert_pem))
        try:
            valid = crl.is_signature_valid(ca_key)
        except InvalidSignature:
            valid = False
        if not valid:
            raise PkiError("Liste de révocation non signée par l'autorité du centre.")
        return cls(frozenset(revoked.serial_number for revoked in crl))

    def is_revoked(self, cert: x509.Certificate) -> bool:
        return cert.serial_number in self.serials


@dataclass(frozen=True)
class Membership(RevocationList):
    """The centre's stations as the replicated ``sync_stations`` table lists them: a peer
    is admitted only if its station id is a member (not removed) **and** the certificate
    it shows is the one recorded for it at pairing. A CA signature alone admits nobody: a
    removed station keeps a copy of the CA key and could certify itself again."""

    members: Mapping[str, str] = field(default_factory=dict)  # station id → cert SHA-256

    def admits(self, station_id: str, der: bytes) -> bool:
        return self.members.get(station_id) == hashlib.sha256(der).hexdigest()


def certificate_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the certificate's DER (what a TLS peer presents)."""
    der = load_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def check_peer_certificate(
    der: bytes | None, ca_cert_pem: bytes, revocation: RevocationList | None
) -> str:
    """Station id of a peer whose TLS certificate the handshake already chain-checked.

    Re-checks the issuer signature (cheap) and the revocation list, which ``ssl`` does not
    see, then the centre's membership when given one (``Membership``).
    """
    if not der:
        raise PeerRejected("Le poste distant n'a présenté aucun certificat du centre.")
    cert = load_certificate(der)
    ca = load_certificate(ca_cert_pem)
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise PeerRejected("Le certificat du poste distant n'est pas émis par ce centre.") from exc
    if revocation is not None and revocation.is_revoked(cert):
        raise PeerRejected("Le certificat du poste distant a été révoqué.")
    station_id = station_id_from_peer_cert(der)
    if isinstance(revocation, Membership) and not revocation.admits(station_id, der):
        raise PeerRejected(
            "Ce poste ne fait pas partie du centre (retiré, ou certificat inconnu du centre).",
            station_id,
        )
    return station_id


# --- TLS contexts -----------------------------------------------------------------------


def _base_context(protocol: int, ca_cert_pem: bytes | None) -> ssl.SSLContext:
    context = ssl.SSLContext(protocol)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    if ca_cert_pem is not None:
        context.load_verify_locations(cadata=ca_cert_pem.decode("ascii"))
    return context


def _load_identity(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    password = secrets.token_bytes(32)
    encrypted = load_private_key(key_pem).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    directory = tempfile.mkdtemp(prefix="cms-tls-")  # created 0700 by mkdtemp
    path = os.path.join(directory, "identity.pem")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(cert_pem + b"\n" + encrypted)
        context.load_cert_chain(path, password=password)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def server_context(credentials: StationCredentials) -> ssl.SSLContext:
    """Mutual TLS 1.3 server side: a client certificate from the site CA is required."""
    context = _base_context(ssl.PROTOCOL_TLS_SERVER, credentials.ca_cert_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    _load_identity(context, credentials.cert_pem, credentials.key_pem)
    return context


def client_context(credentials: StationCredentials) -> ssl.SSLContext:
    """Mutual TLS 1.3 client side, trusting only the site CA.

    Host names are not checked (peers are reached by LAN address); the peer's identity is
    the station id in its certificate, which the sync session checks after the handshake.
    """
    context = _base_context(ssl.PROTOCOL_TLS_CLIENT, credentials.ca_cert_pem)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    _load_identity(context, credentials.cert_pem, credentials.key_pem)
    return context


def pairing_server_context(credentials: StationCredentials) -> ssl.SSLContext:
    """TLS for the pairing step only: the joiner has no certificate yet.

    Trust comes from the pairing exchange, which binds the code to this certificate.
    """
    context = _base_context(ssl.PROTOCOL_TLS_SERVER, None)
    context.verify_mode = ssl.CERT_NONE
    _load_identity(context, credentials.cert_pem, credentials.key_pem)
    return context


def pairing_client_context() -> ssl.SSLContext:
    """TLS for the pairing step only: the server certificate is checked by the exchange."""
    context = _base_context(ssl.PROTOCOL_TLS_CLIENT, None)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
