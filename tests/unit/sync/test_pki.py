from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from cms_desktop.sync.errors import PeerRejected
from cms_desktop.sync.pki import (
    PkiError,
    RevocationList,
    StationCredentials,
    check_peer_certificate,
    client_context,
    create_revocation_list,
    create_site_ca,
    issue_station_certificate,
    revoke,
    server_context,
    station_id_from_peer_cert,
)

from .factories import credentials, site


def der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def test_station_certificate_carries_identity_and_both_usages() -> None:
    ca_cert, ca_key = site()
    cert_pem, key_pem = issue_station_certificate(ca_cert, ca_key, "salle-3", "Salle 3")
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "station-salle-3.cms.local" in san.get_values_for_type(x509.DNSName)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH} <= set(eku)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert))
    assert station_id_from_peer_cert(der(cert_pem)) == "salle-3"
    assert b"PRIVATE KEY" in key_pem


def test_ca_is_a_constrained_authority() -> None:
    ca = x509.load_pem_x509_certificate(site()[0])
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0


@pytest.mark.parametrize("bad_id", ["", "salle 3", "a/b", "-x", "x" * 64])
def test_invalid_station_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(PkiError):
        issue_station_certificate(*site(), bad_id, "Poste")


def test_peer_from_another_centre_is_rejected() -> None:
    foreign = credentials("salle1", site_name="Autre centre")
    with pytest.raises(PeerRejected):
        check_peer_certificate(der(foreign.cert_pem), site()[0], None)


def test_missing_peer_certificate_is_rejected() -> None:
    with pytest.raises(PeerRejected):
        check_peer_certificate(None, site()[0], None)


def test_revoked_station_is_rejected_and_others_are_not() -> None:
    ca_cert, ca_key = site()
    bad, good = credentials("salle1"), credentials("salle2")
    crl = revoke(ca_cert, ca_key, create_revocation_list(ca_cert, ca_key), bad.cert_pem)
    revocation = RevocationList.load(crl, ca_cert)
    with pytest.raises(PeerRejected, match="révoqué"):
        check_peer_certificate(der(bad.cert_pem), ca_cert, revocation)
    assert check_peer_certificate(der(good.cert_pem), ca_cert, revocation) == "salle2"
    # Revoking a second station keeps the first one revoked.
    crl2 = revoke(ca_cert, ca_key, crl, good.cert_pem)
    assert len(RevocationList.load(crl2, ca_cert).serials) == 2


def test_revocation_list_signed_by_another_ca_is_refused() -> None:
    other_cert, other_key = create_site_ca("Autre centre")
    crl = create_revocation_list(other_cert, other_key, [1, 2])
    with pytest.raises(PkiError):
        RevocationList.load(crl, site()[0])


def test_contexts_require_tls13_and_certificates_both_ways() -> None:
    creds = credentials("salle1")
    for context in (server_context(creds), client_context(creds)):
        assert context.minimum_version is ssl.TLSVersion.TLSv1_3
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert len(context.get_ca_certs()) == 1


def test_private_key_only_touches_disk_encrypted_and_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    seen: list[bytes] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: str, *args: Any, **kwargs: Any) -> None:
        path = Path(certfile)
        assert path.stat().st_mode & 0o077 == 0
        assert path.parent.stat().st_mode & 0o077 == 0
        seen.append(path.read_bytes())
        original(self, certfile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    creds: StationCredentials = credentials("salle1")
    server_context(creds)
    assert seen and b"ENCRYPTED PRIVATE KEY" in seen[0]
    assert b"BEGIN PRIVATE KEY" not in seen[0]
    assert list(tmp_path.iterdir()) == []
