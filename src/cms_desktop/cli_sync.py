"""``cms-desktop sync …``: serve headless, status, a pass now, pair, peers, remove a station."""

from __future__ import annotations

import argparse
import errno
import signal
import threading
from collections.abc import Callable
from typing import Any

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError
from cms_desktop.services.sync_admin import (
    PAIRING_PORT,
    join_existing_centre,
    open_pairing_server,
)
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync import identity
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.discovery import DEFAULT_PORT as SYNC_PORT
from cms_desktop.sync.discovery import local_addresses
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pairing_net import PairingServer
from cms_desktop.sync.service import SyncService, peer_rows, read_status


class SyncCliError(ServiceError):
    """A sync command failed; the message is French and one line."""


AuthAdder = Callable[..., None]


def register(sub: Any, with_auth: AuthAdder) -> None:
    sync = sub.add_parser("sync", help="synchronisation entre les postes du centre")
    cmds = sync.add_subparsers(dest="sync_command", required=True)
    serve = cmds.add_parser("serve", help="synchroniser en continu (sans interface)")
    serve.add_argument("--port", type=int, default=None, help="port d'écoute")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--pair", action="store_true", help="afficher un code d'appairage")
    serve.add_argument(
        "--pair-port", type=int, default=None, help="port du code d'appairage (47311 si libre)"
    )
    serve.add_argument("--no-discovery", action="store_true", help="sans zeroconf")
    serve.add_argument("--interval", type=float, default=5.0)
    with_auth(serve)
    with_auth(cmds.add_parser("status", help="état de la synchronisation"))
    now = cmds.add_parser("now", help="synchroniser maintenant avec les postes connus")
    with_auth(now)
    pair = cmds.add_parser("pair", help="rejoindre le centre avec un code d'appairage")
    pair.add_argument("--code", required=True)
    pair.add_argument(
        "--peer",
        required=True,
        help="adresse du poste qui affiche le code (HOTE, ou HOTE:PORT si un port est indiqué)",
    )
    pair.add_argument("--name", default="Poste", help="nom de ce poste")
    peers = cmds.add_parser("peers", help="postes connus (et liste fixe)")
    peers.add_argument("--set", dest="set_peers", default=None, help="liste fixe HOTE:PORT,…")
    with_auth(peers)
    remove = cmds.add_parser("remove", help="retirer un poste (révoque son certificat)")
    remove.add_argument("station")
    with_auth(remove)


def _open(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> tuple[Workspace, Actor]:
    return login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))


def cmd_sync(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    try:
        if args.sync_command == "pair":
            return _pair(data_dir, args)
        ws, actor = _open(data_dir, args, secrets)
        try:
            if args.sync_command in {"serve", "remove"} or getattr(args, "set_peers", None):
                actor.require(Permission.SYNC_MANAGE)
            return COMMANDS[args.sync_command](ws, actor, args)
        finally:
            ws.close()
    except SyncError as exc:
        raise SyncCliError(str(exc)) from None


def _pair(data_dir: DataDir, args: argparse.Namespace) -> int:
    # The same checks and messages as the first-run wizard's « Ajouter ce poste ».
    result = join_existing_centre(data_dir, args.peer, args.code, args.name)
    print(f"Poste appairé ({result.station_id}) : {result.entries} opérations copiées.")
    print("Chaque utilisateur se connecte ici avec son mot de passe habituel.")
    return 0


def check_port(port: int | None, option: str) -> None:
    """A port the command line was given must be one a socket can use (0: any free one)."""
    if port is not None and not 0 <= port <= 65535:
        raise SyncCliError(
            f"{option} {port} : un port est un nombre entre 1 et 65535 (0 : un port libre)."
        )


def _listen_error(exc: OSError, host: str, port: int | None, option: str) -> SyncCliError:
    if exc.errno == errno.EADDRINUSE:
        return SyncCliError(
            f"le port {port} est déjà utilisé sur ce poste (une autre session de cms-desktop ?) : "
            f"fermez-la ou choisissez un autre port avec {option}."
        )
    if exc.errno == errno.EACCES:
        return SyncCliError(
            f"le port {port} est réservé (ports sous 1024) : choisissez-en un autre avec {option}."
        )
    return SyncCliError(
        f"impossible d'écouter sur {host}:{port} ({exc.strerror or exc}) : vérifiez --host "
        f"et {option}."
    )


def _serve(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    check_port(args.port, "--port")
    check_port(args.pair_port, "--pair-port")
    identity.ensure_site(ws.store)
    try:
        service = SyncService(
            ws.store,
            host=args.host,
            port=args.port,
            interval_s=args.interval,
            discovery=not args.no_discovery,
            on_status=lambda status: print(status.text, flush=True),
        ).start()
    except OSError as exc:
        raise _listen_error(exc, args.host, args.port or SYNC_PORT, "--port") from None
    pairing: PairingServer | None = None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        print(f"Synchronisation active sur le port {service.address[1]}.", flush=True)
        if args.pair:
            try:
                pairing = open_pairing_server(
                    ws, service.address[1], args.pair_port, host=args.host
                )
            except OSError as exc:
                port = args.pair_port or PAIRING_PORT
                raise _listen_error(exc, args.host, port, "--pair-port") from None
            addresses = ", ".join(local_addresses())
            print(
                f"Code d'appairage : {pairing.code.display} (port {pairing.address[1]}, "
                f"adresse de ce poste : {addresses} ; valable 10 minutes)",
                flush=True,
            )
        stop.wait()
    finally:
        if pairing is not None:
            pairing.stop()
        service.stop()
    return 0


def _status(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    status = read_status(ws.store, DbReplicaStore(ws.store), own_seq=ws.store.own_seq_at_open)
    print(status.text)
    if status.advice:
        print(status.advice)
    if status.held:
        print(f"{status.held} modification(s) reçue(s) en attente d'application.")
    for station in status.newer_stations:
        print(f"Le poste {station} utilise une version plus récente : mettez ce poste à jour.")
    return 0


def _now(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    # A one-shot pass, also beside a running ``sync serve`` (both write through the database).
    service = SyncService(ws.store, port=0, discovery=False, exclusive=False)
    service.start()
    try:
        status = service.sync_now()
    finally:
        service.stop()
    print(status.text)
    return 0


def _peers(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    if args.set_peers is not None:
        identity.set_static_peers(ws.store, args.set_peers)
    for peer in identity.static_peers(ws.store):
        print(f"liste fixe   {peer.host}:{peer.port}")
    removed = {station.id for station in identity.stations(ws.store) if station.revoked}
    for row in peer_rows(ws.store):
        seen = paris_text(row["last_contact"]) if row["last_contact"] else "jamais"
        if row["station_id"] in removed:
            state = "retiré du centre"
        elif row["unreachable_since"]:
            state = "injoignable"
        elif row["last_error"]:
            state = f"échange en échec : {row['last_error']}"
        else:
            state = "joignable"
        print(
            f"{row['station_id']:<38} {row['host']}:{row['port']}  dernier contact : {seen}  {state}"
        )
    for station in identity.stations(ws.store):
        mark = "révoqué" if station.revoked else "appairé"
        print(f"poste        {station.id:<38} {station.name}  ({mark})")
    return 0


def _remove(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    if args.station == ws.store.station_id:
        raise SyncCliError(
            "un poste ne peut pas se retirer lui-même : faites-le depuis un autre poste"
        )
    with ws.store.write() as session:
        identity.revoke_station(session, args.station)
        audit.append(
            session,
            ws.store.station_id,
            "sync_station_removed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="station",
            target_id=args.station,
        )
    print(f"Poste {args.station} retiré : son certificat est révoqué sur tous les postes.")
    return 0


COMMANDS: dict[str, Callable[[Workspace, Actor, argparse.Namespace], int]] = {
    "serve": _serve,
    "status": _status,
    "now": _now,
    "peers": _peers,
    "remove": _remove,
}
