"""``cms-desktop room add|list|rename|disable``: the centre's rooms from the command line.

Rooms are named by their name (case and spaces do not matter) or their id.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

from cms_desktop.domain.agenda.rooms import RoomKind, room_name_key
from cms_desktop.services.errors import ServiceError
from cms_desktop.storage.datadir import DataDir


class RoomCliError(ServiceError):
    """A room the command cannot find; ``str()`` is a French one-liner."""


class _Secrets(Protocol):
    def read(self, prompt: str) -> str: ...


def register(sub: Any, with_auth: Callable[[argparse.ArgumentParser], None]) -> None:
    room = sub.add_parser("room", help="salles du centre").add_subparsers(
        dest="room_command", required=True
    )
    kinds = [k.value for k in RoomKind]
    add = room.add_parser("add", help="ajouter une salle")
    add.add_argument("name")
    add.add_argument("--kind", choices=kinds, default=RoomKind.CONSULTING.value)
    with_auth(add)
    with_auth(room.add_parser("list", help="lister les salles"))
    ren = room.add_parser("rename", help="renommer une salle")
    ren.add_argument("name")
    ren.add_argument("new_name")
    with_auth(ren)
    dis = room.add_parser("disable", help="désactiver une salle")
    dis.add_argument("name")
    dis.add_argument("--move-to", help="salle où transférer ses rendez-vous à venir")
    with_auth(dis)


def cmd_room(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop.services.agenda import rooms
    from cms_desktop.services.workspace import login

    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        known = rooms.list_all_rooms(ws, actor)

        def find(name: str) -> rooms.RoomInfo:
            for info in known:
                if info.id == name or room_name_key(info.name) == room_name_key(name):
                    return info
            raise RoomCliError(f"aucune salle « {name} »")

        if args.room_command == "list":
            for info in known:
                state = "active" if info.active else "désactivée"
                print(
                    f"{info.sort_order:>3}  {info.name:<28} {info.kind_label:<18} {state:<11} "
                    f"{info.upcoming} rendez-vous à venir"
                )
        elif args.room_command == "add":
            added = rooms.add_room(ws, actor, args.name, args.kind)
            print(f"Salle « {added.name} » ajoutée ({added.kind_label.lower()}).")
        elif args.room_command == "rename":
            old = find(args.name)
            renamed = rooms.update_room(ws, actor, old.id, name=args.new_name)
            print(f"Salle « {old.name} » renommée « {renamed.name} ».")
        elif args.room_command == "disable":
            target = find(args.name)
            move_to = find(args.move_to).id if args.move_to else None
            done = rooms.disable_room(ws, actor, target.id, move_to=move_to)
            print(f"Salle « {target.name} » désactivée.")
            if done.moved_appointments or done.moved_ranges:
                print(
                    f"{done.moved_appointments} rendez-vous et {done.moved_ranges} plages "
                    f"transférés dans « {args.move_to} »."
                )
            if done.ranges_left:
                print(
                    f"Attention : {done.ranges_left} plage(s) de consultation indiquaient "
                    "cette salle ; choisissez-leur une autre salle (Plages…)."
                )
    finally:
        ws.close()
    return 0
