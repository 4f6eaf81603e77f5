"""What the sync screen needs: status, peers and stations as views, pairing codes, removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.sync import identity
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pairing_net import PairingServer
from cms_desktop.sync.service import SyncStatus, peer_rows, read_status


class SyncUnavailable(ServiceError):
    """A sync action failed; the French message comes from the sync layer."""


@dataclass(frozen=True)
class PeerView:
    station_id: str
    name: str
    address: str
    last_contact: datetime | None
    unreachable_since: datetime | None
    revoked: bool
    paired: bool = True  # False: an address that answered or was listed, no known station


@dataclass(frozen=True)
class SyncOverview:
    status: SyncStatus
    station_id: str
    station_name: str
    paired: bool
    peers: list[PeerView]


def overview(ws: Workspace, actor: Actor) -> SyncOverview:
    """Status and peers; anyone logged in may see them (no patient data here)."""
    store = ws.store
    status = read_status(store, DbReplicaStore(store))
    contacts = {row["station_id"]: row for row in peer_rows(store)}
    peers: list[PeerView] = []
    for station in identity.stations(store):
        if station.id == store.station_id:
            continue
        row = contacts.pop(station.id, None) or {}
        peers.append(
            PeerView(
                station.id,
                station.name,
                f"{row['host']}:{row['port']}" if row.get("host") else "",
                row.get("last_contact"),
                row.get("unreachable_since"),
                station.revoked,
            )
        )
    for key, row in sorted(contacts.items()):
        peers.append(
            PeerView(
                key,
                "",
                f"{row['host']}:{row['port']}",
                row["last_contact"],
                row["unreachable_since"],
                False,
                paired=False,
            )
        )
    return SyncOverview(
        status,
        store.station_id,
        identity.station_name(store),
        identity.load_credentials(store) is not None,
        peers,
    )


@dataclass
class PairingHandle:
    """A code on screen and the listener that accepts the one station using it."""

    code: str
    port: int
    _server: PairingServer

    def stop(self) -> None:
        self._server.stop()


def start_pairing(
    ws: Workspace, actor: Actor, sync_port: int | None = None, port: int = 0
) -> PairingHandle:
    actor.require(Permission.SYNC_MANAGE)
    try:
        identity.ensure_site(ws.store)
        server = PairingServer(
            ws.store, ws.data_dir, ws.key, port=port, sync_port=sync_port
        ).start()
    except (SyncError, OSError) as exc:
        raise SyncUnavailable(
            str(exc) if isinstance(exc, SyncError) else "Port d'appairage indisponible."
        ) from None
    with ws.store.write() as session:
        audit.append(
            session,
            ws.store.station_id,
            "sync_pairing_code_shown",
            user_id=actor.user_id,
            user_login=actor.login,
        )
    return PairingHandle(server.code.display, server.address[1], server)


def remove_station(ws: Workspace, actor: Actor, station_id: str) -> None:
    actor.require(Permission.SYNC_MANAGE)
    if station_id == ws.store.station_id:
        raise ValidationFailed(
            "Un poste ne peut pas se retirer lui-même : faites-le depuis un autre poste."
        )
    with ws.store.write() as session:
        try:
            identity.revoke_station(session, station_id)
        except SyncError as exc:
            raise ValidationFailed(str(exc)) from None
        audit.append(
            session,
            ws.store.station_id,
            "sync_station_removed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="station",
            target_id=station_id,
        )
