"""This station's sync identity and settings, kept in the encrypted database.

Keys and certificates live in ``local_state`` (never replicated); the roster of paired
stations and their revocations is the replicated ``sync_stations`` table, so a removal
made on one station reaches all the others with the next exchange.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.storage.models import Centre, LocalState, SyncStation, utcnow
from cms_desktop.storage.store import Store
from cms_desktop.sync.discovery import DEFAULT_PORT, PeerAddress, parse_peer_list
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pki import (
    Membership,
    PkiError,
    StationCredentials,
    certificate_fingerprint,
    create_site_ca,
    issue_station_certificate,
    load_certificate,
)

_CERT, _KEY, _CA, _CA_KEY = "sync.cert_pem", "sync.key_pem", "sync.ca_cert_pem", "sync.ca_key_pem"
_NAME, _PORT, _PEERS = "sync.station_name", "sync.port", "sync.peers"


class NotPaired(SyncError):
    """This station has no sync identity yet."""


def get_local(session: Session, key: str) -> str | None:
    value = session.scalar(select(LocalState.value).where(LocalState.key == key))
    return None if value is None else str(value)


def set_local(session: Session, key: str, value: str) -> None:
    row = session.get(LocalState, key)
    if row is None:
        session.add(LocalState(key=key, value=value))
    else:
        row.value = value


def load_credentials(store: Store) -> StationCredentials | None:
    with store.read() as session:
        cert, key, ca = (get_local(session, k) for k in (_CERT, _KEY, _CA))
    if not (cert and key and ca):
        return None
    return StationCredentials(store.station_id, cert.encode(), key.encode(), ca.encode())


def require_credentials(store: Store) -> StationCredentials:
    credentials = load_credentials(store)
    if credentials is None:
        raise NotPaired(
            "Ce poste n'est pas encore appairé : créez l'autorité du centre sur le premier "
            "poste ou rejoignez le centre avec un code d'appairage."
        )
    return credentials


def ca_keys(store: Store) -> tuple[bytes, bytes] | None:
    with store.read() as session:
        ca, ca_key = get_local(session, _CA), get_local(session, _CA_KEY)
    return (ca.encode(), ca_key.encode()) if ca and ca_key else None


def save_identity(
    session: Session,
    station_id: str,
    station_name: str,
    cert_pem: bytes,
    key_pem: bytes,
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
) -> None:
    for key, value in (
        (_CERT, cert_pem),
        (_KEY, key_pem),
        (_CA, ca_cert_pem),
        (_CA_KEY, ca_key_pem),
    ):
        set_local(session, key, value.decode())
    set_local(session, _NAME, station_name)
    register_station(session, station_id, station_name, cert_pem)


def register_station(session: Session, station_id: str, name: str, cert_pem: bytes) -> None:
    serial = str(load_certificate(cert_pem).serial_number)
    row = session.get(SyncStation, station_id)
    if row is None:
        session.add(
            SyncStation(id=station_id, name=name, cert_pem=cert_pem.decode(), serial=serial)
        )
    else:
        row.name, row.cert_pem, row.serial = name, cert_pem.decode(), serial


def ensure_site(store: Store, station_name: str = "Poste principal") -> StationCredentials:
    """The first station of a centre creates the centre's authority and its own certificate."""
    existing = load_credentials(store)
    if existing is not None:
        return existing
    with store.write() as session:
        centre = session.scalars(select(Centre)).first()
        ca_cert, ca_key = create_site_ca(centre.name if centre else "Centre de santé")
        cert, key = issue_station_certificate(ca_cert, ca_key, store.station_id, station_name)
        save_identity(session, store.station_id, station_name, cert, key, ca_cert, ca_key)
    credentials = load_credentials(store)
    assert credentials is not None
    return credentials


def revocation(store: Store) -> Membership:
    """Who may sync with this station: the centre's members, each with the certificate
    recorded when it was paired; a removed station (revoked, by station id) is none."""
    with store.read() as session:
        rows = session.execute(
            select(
                SyncStation.id,
                SyncStation.cert_pem,
                SyncStation.serial,
                SyncStation.revoked,
                SyncStation.deleted,
            )
        ).all()
    members: dict[str, str] = {}
    for station_id, cert_pem, _, revoked, deleted in rows:
        if revoked or deleted or not cert_pem:
            continue
        with contextlib.suppress(ValueError, PkiError):
            members[station_id] = certificate_fingerprint(cert_pem.encode())
    serials = frozenset(int(serial) for _, _, serial, revoked, _ in rows if revoked and serial)
    return Membership(serials, members)


def revoke_station(session: Session, station_id: str) -> None:
    row = session.get(SyncStation, station_id)
    if row is None:
        raise SyncError(f"Aucun poste « {station_id} » dans ce centre.")
    row.revoked = True
    row.revoked_at = utcnow()


def stations(store: Store) -> list[SyncStation]:
    with store.read() as session:
        return list(session.scalars(select(SyncStation).order_by(SyncStation.name)))


def station_name(store: Store) -> str:
    with store.read() as session:
        return get_local(session, _NAME) or "Poste"


def listen_port(store: Store) -> int:
    with store.read() as session:
        value = get_local(session, _PORT)
    return int(value) if value else DEFAULT_PORT


def static_peers(store: Store) -> list[PeerAddress]:
    with store.read() as session:
        return parse_peer_list(get_local(session, _PEERS) or "")


def set_static_peers(store: Store, text: str) -> list[PeerAddress]:
    peers = parse_peer_list(text)  # raises a French PeerListError on a bad line
    with store.write() as session:
        set_local(session, _PEERS, ",".join(_address(p) for p in peers))
    return peers


def _address(peer: PeerAddress) -> str:
    return f"[{peer.host}]:{peer.port}" if ":" in peer.host else f"{peer.host}:{peer.port}"


def set_listen_port(store: Store, port: int) -> None:
    with store.write() as session:
        set_local(session, _PORT, str(port))
