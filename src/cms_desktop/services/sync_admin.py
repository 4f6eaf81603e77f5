"""What the sync screen needs: status, peers and stations as views, pairing codes, removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms_desktop import __version__
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import any_role, no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, origin
from cms_desktop.storage.datadir import DataDir, DataDirError
from cms_desktop.sync import identity
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.discovery import (
    DEFAULT_PORT,
    PeerListError,
    local_addresses,
    parse_peer_list,
)
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pairing_net import JoinResult, PairingServer, join_centre
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
    app_version: str = ""  # its software version at the last exchange ("": not known)
    schema: int = 0  # its database schema then (0: not known)


@dataclass(frozen=True)
class SyncOverview:
    status: SyncStatus
    station_id: str
    station_name: str
    paired: bool
    peers: list[PeerView]
    app_version: str = ""  # this station's software version
    schema: int = 0  # and its database schema


@any_role("stations and their state, no patient data")
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
                app_version=row.get("app_version", ""),
                schema=row.get("schema", 0),
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
                app_version=row["app_version"],
                schema=row["schema"],
            )
        )
    return SyncOverview(
        status,
        store.station_id,
        identity.station_name(store),
        identity.load_credentials(store) is not None,
        peers,
        __version__,
        store.replication.schema_version,
    )


# Where a station showing a pairing code listens, if free: the person setting up the new
# PC then types only this PC's address (the port is shown too, for when it was taken).
PAIRING_PORT = DEFAULT_PORT + 1


@dataclass
class PairingHandle:
    """A code on screen and the listener that accepts the one station using it."""

    code: str
    port: int
    _server: PairingServer
    addresses: tuple[str, ...] = ()  # this PC's LAN addresses, to type on the new one

    def stop(self) -> None:
        self._server.stop()

    @property
    def address_text(self) -> str:
        """« 192.168.1.10 » (or « 192.168.1.10:40853 » when the usual port was taken)."""
        suffix = "" if self.port == PAIRING_PORT else f":{self.port}"
        return " ou ".join(f"{address}{suffix}" for address in self.addresses)


@requires(Permission.SYNC_MANAGE)
def start_pairing(
    ws: Workspace, actor: Actor, sync_port: int | None = None, port: int | None = None
) -> PairingHandle:
    """Show a one-time code; ``port`` None: the usual pairing port, another if taken."""
    actor.require(Permission.SYNC_MANAGE)
    try:
        identity.ensure_site(ws.store)
        server = open_pairing_server(ws, sync_port, port)
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
    return PairingHandle(server.code.display, server.address[1], server, tuple(local_addresses()))


@no_actor("start_pairing and the CLI check sync.manage first")
def open_pairing_server(
    ws: Workspace, sync_port: int | None, port: int | None = None, host: str = "0.0.0.0"
) -> PairingServer:
    """A listener for one joining station: on ``port``, or the usual pairing port and
    another if that one is taken (``port`` None)."""

    def listen(on: int) -> PairingServer:
        return PairingServer(
            ws.store, ws.data_dir, ws.key, host=host, port=on, sync_port=sync_port
        ).start()

    if port is not None:
        return listen(port)
    try:
        return listen(PAIRING_PORT)
    except OSError:
        return listen(0)  # any free port: the page shows it next to the address


def join_existing_centre(
    data_dir: DataDir, address: str, code: str, station_name: str
) -> JoinResult:
    """Join this empty workstation to the centre whose station shows ``code``.

    ``address``: that station's address as shown next to the code (« 192.168.1.10 », or
    with « :port »). Bad input raises ValidationFailed in French and installs nothing."""
    name = " ".join(station_name.split())
    if not name:
        raise ValidationFailed("Donnez un nom à ce poste (par exemple « Cabinet 2 »).")
    if len(name) > 100:
        raise ValidationFailed("Le nom du poste est trop long (100 caractères au plus).")
    if not code.strip():
        raise ValidationFailed("Saisissez le code d'appairage affiché sur l'autre poste.")
    try:
        peers = parse_peer_list(address.strip(), default_port=PAIRING_PORT)
    except PeerListError:
        peers = []
    if len(peers) != 1 or any(ch.isspace() for ch in peers[0].host):
        raise ValidationFailed(
            "Adresse du poste invalide : saisissez celle affichée à côté du code "
            "(par exemple 192.168.1.10)."
        )
    try:
        return join_centre(data_dir, peers[0].host, peers[0].port, code.strip(), name)
    except SyncError as exc:
        raise SyncUnavailable(str(exc)) from None
    except DataDirError as exc:
        raise ValidationFailed(f"Dossier de données inutilisable : {exc.reason}.") from None


@requires(Permission.SYNC_MANAGE)
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


def mark_restored(data_dir: DataDir) -> None:
    """For a restore command (#19): call once this station's files have been put back from
    a copy, before it is opened again. Its next open writes under a new op-log origin, so
    it never numbers again entries its peers already hold, and gets back from them what
    the copy lacked (``storage.origin``). Needs no login: the database stays closed."""
    try:
        origin.mark_restored(data_dir.path)
    except OSError as exc:
        raise SyncUnavailable(
            f"Impossible de marquer ce poste comme restauré dans {data_dir.path} : "
            f"{exc.strerror or exc}."
        ) from None
