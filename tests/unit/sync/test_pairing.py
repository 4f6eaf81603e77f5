from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cms_desktop.sync.pairing import (
    ALPHABET,
    MAX_ATTEMPTS,
    PairingCode,
    PairingError,
    PairingJoiner,
    PairingSponsor,
    ca_issuer,
)
from cms_desktop.sync.pki import check_peer_certificate, station_id_from_peer_cert

from .factories import credentials, site

SPONSOR = credentials("recep")


def sponsor_der() -> bytes:
    return x509.load_pem_x509_certificate(SPONSOR.cert_pem).public_bytes(serialization.Encoding.DER)


def new_sponsor(code: PairingCode) -> PairingSponsor:
    return PairingSponsor(code, SPONSOR, ca_issuer(*site()))


def attempt(code: PairingCode, typed: str, station_id: str = "salle4") -> bytes:
    """Run join → challenge → proof; return the grant (raises on a wrong code)."""
    joiner = PairingJoiner(typed, station_id, "Salle 4")
    sponsor = new_sponsor(code)
    challenge = sponsor.challenge(joiner.join())
    return sponsor.grant(joiner.prove(challenge, sponsor_der()))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_code_is_short_grouped_and_unambiguous() -> None:
    code = PairingCode()
    assert len(code.display) == 9 and code.display[4] == "-"
    assert all(ch in ALPHABET for ch in code.display.replace("-", ""))
    assert not set("01ILO") & set(ALPHABET)


def test_full_handshake_gives_working_credentials() -> None:
    code = PairingCode()
    joiner = PairingJoiner(code.display.lower().replace("-", " "), "salle4", "Salle 4")
    sponsor = new_sponsor(code)
    join = joiner.join()
    challenge = sponsor.challenge(join)
    proof = joiner.prove(challenge, sponsor_der())
    grant = sponsor.grant(proof)
    creds = joiner.complete(grant)
    assert creds.station_id == "salle4" and creds.ca_cert_pem == site()[0]
    cert_der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(
        serialization.Encoding.DER
    )
    assert check_peer_certificate(cert_der, site()[0], None) == "salle4"
    creds.signing_key()  # the private key is the joiner's own and loads
    # The code itself never travels in any message.
    raw = code.display.replace("-", "").encode()
    assert all(raw not in message for message in (join, challenge, proof, grant))
    assert not code.usable


def test_code_is_single_use() -> None:
    code = PairingCode()
    attempt(code, code.display)
    with pytest.raises(PairingError, match="déjà utilisé par un autre poste"):
        attempt(code, code.display, "salle5")


def test_wrong_code_fails_and_three_failures_burn_the_code() -> None:
    code = PairingCode("ABCD-EFGH")
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(PairingError, match="incorrect"):
            attempt(code, "ABCD-EFGJ")
    assert not code.usable
    with pytest.raises(PairingError, match="expiré ou déjà utilisé"):
        attempt(code, "ABCD-EFGH")


def test_a_wrong_attempt_leaves_the_right_one_possible() -> None:
    code = PairingCode("ABCD-EFGH")
    with pytest.raises(PairingError):
        attempt(code, "ZZZZ-ZZZZ")
    grant = attempt(code, "abcdefgh")
    assert b"grant" in grant


def test_expired_code_is_refused() -> None:
    clock = FakeClock()
    code = PairingCode("ABCD-EFGH", lifetime_s=600, clock=clock)
    joiner = PairingJoiner("ABCD-EFGH", "salle4", "Salle 4")
    sponsor = new_sponsor(code)
    challenge = sponsor.challenge(joiner.join())
    clock.now += 601
    with pytest.raises(PairingError, match="expiré"):
        sponsor.grant(joiner.prove(challenge, sponsor_der()))


def test_man_in_the_middle_certificate_makes_the_proof_useless() -> None:
    # The joiner talked TLS to an impostor, so it binds the impostor's certificate.
    impostor = credentials("intrus", site_name="Autre centre")
    impostor_der = x509.load_pem_x509_certificate(impostor.cert_pem).public_bytes(
        serialization.Encoding.DER
    )
    code = PairingCode()
    joiner = PairingJoiner(code.display, "salle4", "Salle 4")
    sponsor = new_sponsor(code)
    challenge = sponsor.challenge(joiner.join())
    with pytest.raises(PairingError, match="incorrect"):
        sponsor.grant(joiner.prove(challenge, impostor_der))


def test_joiner_refuses_a_grant_it_cannot_authenticate() -> None:
    code = PairingCode()
    joiner = PairingJoiner(code.display, "salle4", "Salle 4")
    sponsor = new_sponsor(code)
    grant = json.loads(sponsor.grant(joiner.prove(sponsor.challenge(joiner.join()), sponsor_der())))
    other_ca = site("Autre centre")[0].decode()
    forged = json.dumps({**grant, "ca_cert": other_ca}).encode()
    with pytest.raises(PairingError, match="non authentique"):
        joiner.complete(forged)


def test_certificate_is_for_the_joiners_own_key_and_id() -> None:
    code = PairingCode()
    joiner = PairingJoiner(code.display, "salle4", "Salle 4")
    sponsor = new_sponsor(code)
    grant = json.loads(sponsor.grant(joiner.prove(sponsor.challenge(joiner.join()), sponsor_der())))
    assert station_id_from_peer_cert(grant["cert"].encode()) == "salle4"
    assert "PRIVATE" not in json.dumps(grant)


def test_invalid_station_id_is_refused_before_using_an_attempt() -> None:
    code = PairingCode()
    joiner = PairingJoiner(code.display, "salle 4/x", "Salle 4")
    with pytest.raises(PairingError):
        new_sponsor(code).challenge(joiner.join())
    assert code.usable
