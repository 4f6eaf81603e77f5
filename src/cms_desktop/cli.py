"""The command line: ``cms-desktop [--data-dir DIR] [--demo] [COMMAND …]``.

Without a command it starts the application. Passwords are read from standard input
(``--password-stdin``, one per line) or asked on the terminal, never taken as arguments.
Exit codes: 0 success, 1 refused or failed (one-line message), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from cms_desktop import __version__
from cms_desktop.domain.permissions import PermissionDenied, Role
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError
from cms_desktop.storage.datadir import DataDir, resolve_data_dir

# The services (the store, SQLAlchemy, Alembic, cryptography) are imported by the commands
# that use them: without a command the application starts, and its login window must not
# wait for them (bench/bench_startup.py).
if TYPE_CHECKING:
    from cms_desktop.services import users
    from cms_desktop.services.workspace import Workspace


class CliError(Exception):
    pass


class _Secrets:
    """Reads the secrets a command needs: stdin lines with --password-stdin, else a prompt."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def read(self, prompt: str) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise CliError(f"entrée standard vide : {prompt.lower()} attendu")
            return line.rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CliError("utilisez --password-stdin pour fournir le mot de passe")
        return getpass.getpass(f"{prompt} : ")


def _gui_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The options of a start of the application (only ``--data-dir``/``--demo``), parsed
    without importing the command modules; None when there is anything else (a command,
    ``--help``, ``--version``, a mistake): the full parser deals with it."""
    quick = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    quick.add_argument("--data-dir")
    quick.add_argument("--demo", action="store_true")
    try:
        args, rest = quick.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit):
        return None
    if rest:
        return None
    args.command = None
    return args


def _parser() -> argparse.ArgumentParser:
    from cms_desktop import (
        cli_agenda,
        cli_backup,
        cli_patients,
        cli_printing,
        cli_rooms,
        cli_sync,
    )

    p = argparse.ArgumentParser(
        prog="cms-desktop", description="Logiciel du centre municipal de santé."
    )
    p.add_argument("--version", action="version", version=f"cms-desktop {__version__}")
    p.add_argument("--data-dir", help="dossier des données de ce poste (sinon CMS_DATA_DIR)")
    p.add_argument(
        "--demo", action="store_true", help="centre de démonstration (créé au premier lancement)"
    )
    sub = p.add_subparsers(dest="command")

    def with_auth(sp: argparse.ArgumentParser, required: bool = True) -> None:
        sp.add_argument(
            "--as", dest="as_login", required=required, help="identifiant de l'utilisateur qui agit"
        )
        sp.add_argument(
            "--password-stdin",
            action="store_true",
            help="lire le(s) mot(s) de passe sur l'entrée standard",
        )

    init = sub.add_parser("init", help="installer un nouveau centre sur ce poste")
    init.add_argument("--centre-name", required=True)
    init.add_argument("--admin", required=True, help="identifiant du premier administrateur")
    init.add_argument("--admin-name", default="Administrateur")
    init.add_argument("--address", default="")
    init.add_argument("--postcode", default="")
    init.add_argument("--city", default="")
    init.add_argument("--phone", default="")
    init.add_argument("--finess", default="")
    init.add_argument(
        "--no-rooms",
        action="store_true",
        help="ne pas créer les salles habituelles (Cabinet 1 à 6, Salle de soins)",
    )
    init.add_argument("--password-stdin", action="store_true")

    dm = sub.add_parser("demo", help="créer le centre de démonstration ou y ajouter des patients")
    dm.add_argument("--patients", type=int, default=2000)
    with_auth(dm, required=False)

    user = sub.add_parser("user", help="gérer les comptes").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add")
    add.add_argument("login")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--profession", default="")
    add.add_argument("--specialty", default="")
    add.add_argument("--rpps", default="")
    add.add_argument("--title", default="", help="titre imprimé devant le nom (ex. Dr)")
    add.add_argument(
        "--bizone",
        action="store_true",
        help="peut prescrire sur une ordonnance bizone (ALD) ; rôles qui prescrivent",
    )
    with_auth(add)
    with_auth(user.add_parser("list"))
    dis = user.add_parser("disable")
    dis.add_argument("login")
    with_auth(dis)
    pw = user.add_parser("passwd")
    pw.add_argument("login")
    with_auth(pw)

    audit = sub.add_parser("audit").add_subparsers(dest="audit_command", required=True)
    with_auth(audit.add_parser("verify"))
    with_auth(sub.add_parser("check", help="contrôle d'intégrité de la base et du journal d'audit"))

    imp = sub.add_parser("import", help="importer des données").add_subparsers(
        dest="import_command", required=True
    )
    cli_patients.register(imp, with_auth)
    cli_printing.register(imp, with_auth)
    cli_agenda.register(sub, with_auth)
    cli_rooms.register(sub, with_auth)

    rec = sub.add_parser("recover", help="nouveau mot de passe avec le code de récupération")
    rec.add_argument("login")
    rec.add_argument("--password-stdin", action="store_true")
    cli_sync.register(sub, with_auth)
    cli_backup.register(sub, with_auth)
    cli_backup.register_archive(sub, with_auth)
    return p


def _open(
    data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets
) -> tuple[Workspace, Actor]:
    from cms_desktop.services.workspace import login

    return login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))


def _find_user(ws: Workspace, actor: Actor, login_name: str) -> users.UserInfo:
    from cms_desktop.services import users

    for info in users.list_users(ws, actor):
        if info.login == login_name:
            return info
    raise CliError(f"aucun compte « {login_name} »")


def _cmd_init(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop.services import setup

    password = secrets.read(f"Mot de passe de {args.admin}")
    draft = setup.CentreDraft(
        args.centre_name, args.address, args.postcode, args.city, args.phone, args.finess
    )
    if args.no_rooms:
        draft = replace(draft, rooms=())
    result = setup.initialise_centre(data_dir, draft, args.admin, args.admin_name, password)
    print(f"Centre « {args.centre_name} » installé dans {data_dir.path}.")
    if draft.rooms:
        names = ", ".join(room.name for room in draft.rooms)
        print(f"Salles créées : {names} (à adapter avec « room » ou l'écran Administration).")
    print("Code de récupération (à imprimer et à garder au coffre par le directeur médical) :")
    print(f"    {result.recovery_code}")
    return 0


def print_demo_logins(data_dir: DataDir) -> None:
    print(f"Centre de démonstration : {data_dir.path}")
    print("Comptes de démonstration (identifiant / mot de passe / rôle) :")
    from cms_desktop.services.demo_accounts import demo_logins

    for login_name, password, role in demo_logins():
        print(f"    {login_name:<12} {password:<16} {role}")


def _cmd_demo(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    if args.patients < 0:
        raise CliError("--patients doit être positif")
    from cms_desktop.services import demo  # Faker takes a while to import: not at start-up
    from cms_desktop.services.demo_guard import ensure_demo_centre

    ensure_demo_centre(data_dir)  # never adds synthetic patients to a real centre
    if not data_dir.initialised:
        demo.create_demo_centre(data_dir, patients=args.patients)
        print_demo_logins(data_dir)
        return 0
    if not args.as_login:
        raise CliError(
            "ce centre existe déjà : indiquez --as IDENTIFIANT pour y ajouter des patients"
        )
    ws, actor = _open(data_dir, args, secrets)
    try:
        added = demo.add_demo_patients(ws, actor, args.patients)
    finally:
        ws.close()
    print(f"{added} patients de démonstration ajoutés.")
    return 0


def _cmd_user(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop.services import users

    ws, actor = _open(data_dir, args, secrets)
    try:
        if args.user_command == "list":
            for u in users.list_users(ws, actor):
                state = "actif" if u.active else "désactivé"
                print(f"{u.login:<16} {u.role.value:<18} {state:<10} {u.full_name}")
        elif args.user_command == "add":
            new_pw = secrets.read(f"Mot de passe du nouveau compte {args.login}")
            users.create_user(
                ws,
                actor,
                users.NewUser(
                    args.login,
                    args.name,
                    Role(args.role),
                    new_pw,
                    args.profession,
                    args.specialty,
                    args.rpps,
                    args.title,
                    may_prescribe_bizone=args.bizone,
                ),
            )
            print(f"Compte « {args.login} » créé.")
        elif args.user_command == "disable":
            users.set_active(ws, actor, _find_user(ws, actor, args.login).id, False)
            print(f"Compte « {args.login} » désactivé.")
        elif args.user_command == "passwd":
            target = _find_user(ws, actor, args.login)
            users.reset_password(
                ws, actor, target.id, secrets.read(f"Nouveau mot de passe de {args.login}")
            )
            print(f"Mot de passe de « {args.login} » changé.")
    finally:
        ws.close()
    return 0


def _cmd_audit(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop.services import audit_trail

    ws, _actor = _open(data_dir, args, secrets)
    try:
        report = audit_trail.verify(ws)
    finally:
        ws.close()
    print(report.message, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _cmd_check(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop.services import audit_trail, legacy_sealing, signatures
    from cms_desktop.services.workspace import check_database

    ws, _actor = _open(data_dir, args, secrets)  # a damaged file is reported from here too
    try:
        damage = check_database(ws)
        if damage is not None:
            print(f"erreur : {damage}", file=sys.stderr)
            return 1
        report = audit_trail.verify(ws)
        signed = signatures.verify_all(ws)
        in_clear = legacy_sealing.rows_in_clear(ws)
    finally:
        ws.close()
    print("Base de données intègre (SQLCipher).")
    print(legacy_sealing.clear_rows_message(in_clear))  # a count, never content
    print(report.message, file=sys.stdout if report.ok else sys.stderr)
    # Ids, dates and logins of altered acts only: never their content.
    print(signed.message, file=sys.stdout if signed.ok else sys.stderr)
    return 0 if report.ok and signed.ok else 1


def _cmd_recover(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    code = secrets.read("Code de récupération")
    new_pw = secrets.read(f"Nouveau mot de passe de {args.login}")
    from cms_desktop.services import setup

    setup.recover_access(data_dir, code, args.login, new_pw)
    print(f"Nouveau mot de passe enregistré pour « {args.login} ».")
    return 0


def _cmd_import(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    from cms_desktop import cli_patients, cli_printing

    importers = {
        "patients": cli_patients.cmd_import_patients,
        "bdpm": cli_printing.cmd_import_bdpm,
    }
    return importers[args.import_command](data_dir, args, secrets)


def _commands() -> dict[str, Callable[[DataDir, argparse.Namespace, _Secrets], int]]:
    from cms_desktop import cli_agenda, cli_backup, cli_rooms, cli_sync

    return {
        "init": _cmd_init,
        "demo": _cmd_demo,
        "user": _cmd_user,
        "audit": _cmd_audit,
        "check": _cmd_check,
        "recover": _cmd_recover,
        "import": _cmd_import,
        "agenda": cli_agenda.cmd_agenda,
        "room": cli_rooms.cmd_room,
        "sync": cli_sync.cmd_sync,
        "backup": cli_backup.cmd_backup,
        "archive": cli_backup.cmd_archive,
    }


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = _gui_arguments(arguments) or _parser().parse_args(arguments)
    data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
    if args.command is None:
        from cms_desktop.app import run_gui

        return run_gui(data_dir, demo_mode=args.demo)
    secrets = _Secrets(getattr(args, "password_stdin", False))
    try:
        return _commands()[args.command](data_dir, args, secrets)
    except (ServiceError, PermissionDenied, CliError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrompu", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
