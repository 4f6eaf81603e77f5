"""``cms-desktop backup now|list|verify|restore|schedule``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any

from cms_desktop.domain.backup_policy import Retention
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.services import backup_restore, backups
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir

AuthAdder = Callable[..., None]


class BackupCliError(ServiceError):
    """Bad option values; the message is French and one line."""


def register(sub: Any, with_auth: AuthAdder) -> None:
    backup = sub.add_parser("backup", help="sauvegardes chiffrées du centre")
    cmds = backup.add_subparsers(dest="backup_command", required=True)
    now = cmds.add_parser("now", help="sauvegarder maintenant (base en service)")
    now.add_argument(
        "--to", action="append", default=None, help="dossier cible (sinon ceux du poste)"
    )
    with_auth(now)
    lst = cmds.add_parser("list", help="sauvegardes présentes dans les dossiers du poste")
    lst.add_argument("--dir", action="append", default=None, help="dossier à lister")
    with_auth(lst)
    verify = cmds.add_parser("verify", help="contrôler entièrement un fichier de sauvegarde")
    verify.add_argument("file")
    with_auth(verify)
    restore = cmds.add_parser(
        "restore", help="restaurer une sauvegarde (mot de passe administrateur de la sauvegarde)"
    )
    restore.add_argument("file")
    where = restore.add_mutually_exclusive_group(required=True)
    where.add_argument("--target", help="nouveau dossier de données (vide ou absent)")
    where.add_argument(
        "--in-place",
        action="store_true",
        help="remplacer le dossier de données actuel (conservé à côté, renommé)",
    )
    who = restore.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="as_login", help="administrateur de la sauvegarde")
    who.add_argument(
        "--recovery-code", action="store_true", help="utiliser le code de récupération"
    )
    restore.add_argument("--password-stdin", action="store_true")
    sched = cmds.add_parser("schedule", help="dossiers, heure et conservation des sauvegardes")
    sched.add_argument("--add-target", action="append", default=[], metavar="DOSSIER")
    sched.add_argument("--remove-target", action="append", default=[], metavar="DOSSIER")
    sched.add_argument("--at", help="heure de la sauvegarde quotidienne (HH:MM)")
    sched.add_argument("--at-logout", choices=["oui", "non"], help="sauvegarder à la déconnexion")
    sched.add_argument("--keep-daily", type=int)
    sched.add_argument("--keep-weekly", type=int)
    sched.add_argument("--keep-monthly", type=int)
    with_auth(sched)


def cmd_backup(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    if args.backup_command == "restore":
        return _restore(data_dir, args, secrets)
    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        handler = {"now": _now, "list": _list, "verify": _verify, "schedule": _schedule}
        return handler[args.backup_command](ws, actor, args)
    finally:
        ws.close()


def _progress(fraction: float, phase: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{phase} : {fraction:4.0%}   ", end="", file=sys.stderr, flush=True)


def _now(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    result = backups.create_backup(ws, actor, args.to, _progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for target in result.results:
        if target.file:
            print(f"Sauvegarde écrite et vérifiée : {target.file}")
        else:
            print(f"Échec pour {target.folder} : {target.error}", file=sys.stderr)
    for path in result.removed:
        print(f"Ancienne sauvegarde supprimée (rotation) : {path}")
    return 0 if all(t.file for t in result.results) else 1


def _list(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    entries = backups.list_backups(ws, actor, args.dir)
    status = backups.last_good_backup(ws)
    print(status.line)
    if not entries:
        print("Aucune sauvegarde dans les dossiers du poste.")
    for e in entries:
        when = paris_text(e.created_at) if e.created_at else "illisible"
        note = "" if e.this_centre else ("  (autre centre)" if e.readable else "  (illisible)")
        print(f"{when}  {e.size / 1e6:9.1f} Mo  {e.path}{note}")
    return 0


def _verify(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    report = backups.verify_backup_file(ws, actor, Path(args.file), _progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(report.message)
    return 0


def _restore(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    if args.recovery_code:
        secret = secrets.read("Code de récupération")
    else:
        secret = secrets.read(f"Mot de passe de {args.as_login} dans la sauvegarde")
    target = DataDir(Path(args.target)) if args.target else data_dir
    result = backup_restore.restore(
        Path(args.file),
        target,
        args.as_login or "",
        secret,
        recovery=args.recovery_code,
        in_place=args.in_place,
        progress=_progress,
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"Sauvegarde du {paris_text(result.backup_created_at)} restaurée dans {result.data_dir}.")
    if result.set_aside:
        print(f"Les données précédentes sont conservées dans {result.set_aside}.")
    print(
        "Ce poste prendra une nouvelle identité de synchronisation avant de se synchroniser : "
        "les autres postes lui renverront ce qui a été saisi depuis la sauvegarde."
    )
    return 0


def _schedule(ws: Workspace, actor: Actor, args: argparse.Namespace) -> int:
    current = backups.load_schedule(ws)
    changed = any(
        v not in (None, [])
        for v in (
            args.add_target,
            args.remove_target,
            args.at,
            args.at_logout,
            args.keep_daily,
            args.keep_weekly,
            args.keep_monthly,
        )
    )
    if changed:
        targets = [t for t in current.targets if t not in args.remove_target]
        targets += [str(Path(t).expanduser().absolute()) for t in args.add_target]
        try:
            at = time.fromisoformat(args.at) if args.at else current.daily_at
            keep = current.retention
            retention = Retention(
                keep.daily if args.keep_daily is None else args.keep_daily,
                keep.weekly if args.keep_weekly is None else args.keep_weekly,
                keep.monthly if args.keep_monthly is None else args.keep_monthly,
            )
        except ValueError:
            raise BackupCliError(
                "heure (HH:MM) ou nombres de sauvegardes à conserver invalides"
            ) from None
        current = backups.save_schedule(
            ws,
            actor,
            replace(
                current,
                targets=tuple(dict.fromkeys(targets)),
                daily_at=at,
                at_last_logout=current.at_last_logout
                if args.at_logout is None
                else args.at_logout == "oui",
                retention=retention,
            ),
        )
    print(f"Sauvegarde quotidienne à {current.daily_at:%H:%M}", end="")
    print(", et à la déconnexion" if current.at_last_logout else "")
    r = current.retention
    print(
        f"Conservation : {r.daily} quotidiennes, {r.weekly} hebdomadaires, {r.monthly} mensuelles"
    )
    for target in current.targets:
        print(f"Dossier : {target}")
    print(backups.last_good_backup(ws).line)
    return 0


def register_archive(sub: Any, with_auth: AuthAdder) -> None:
    archive = sub.add_parser("archive", help="archive du centre pour la conservation (20 ans)")
    cmds = archive.add_subparsers(dest="archive_command", required=True)
    export = cmds.add_parser(
        "export", help="archiver tout le centre (stdin : mot de passe, phrase de passe ×2)"
    )
    export.add_argument("--to", required=True, help="dossier où écrire l'archive")
    with_auth(export)
    patients = cmds.add_parser(
        "patients",
        help="archiver le dossier d'un patient, ou de tous les patients inactifs depuis N ans "
        "(stdin : mot de passe, phrase de passe ×2)",
    )
    which = patients.add_mutually_exclusive_group(required=True)
    which.add_argument("--patient", action="append", help="identifiant du patient (répétable)")
    which.add_argument("--inactive-years", type=int, help="patients sans activité depuis N ans")
    patients.add_argument("--to", help="dossier où écrire l'archive")
    patients.add_argument(
        "--list", action="store_true", help="seulement lister les patients concernés"
    )
    with_auth(patients)
    read = cmds.add_parser("read", help="lire une archive (stdin : phrase de passe)")
    read.add_argument("file")
    read.add_argument("--table", help="table à afficher (une ligne JSON par enregistrement)")
    read.add_argument("--password-stdin", action="store_true")


def cmd_archive(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    import json

    from cms_desktop.services import archives

    if args.archive_command == "export":
        ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
        try:
            passphrase = secrets.read("Phrase de passe de l'archive")
            confirmation = secrets.read("Phrase de passe de l'archive (confirmation)")
            result = archives.export_centre_archive(
                ws, actor, Path(args.to), passphrase, confirmation
            )
        finally:
            ws.close()
        print(f"Archive écrite : {result.path} ({result.tables} tables, {result.rows} lignes).")
        print("Gardez la phrase de passe à part : sans elle, l'archive est illisible.")
        return 0
    if args.archive_command == "patients":
        return _archive_patients(data_dir, args, secrets)
    passphrase = secrets.read("Phrase de passe de l'archive")
    if args.table:
        for row in archives.archive_rows(Path(args.file), passphrase, args.table):
            print(json.dumps(row, ensure_ascii=False, default=str))
        return 0
    contents = archives.describe_archive(Path(args.file), passphrase)
    for key in ("centre_name", "created_at", "created_by", "app_version", "how_to_read"):
        print(f"{key} : {contents.about.get(key, '')}")
    if contents.about.get("scope") == "patients":  # an archive of chosen records
        print(f"patients archivés : {contents.about.get('patient_count', '?')}")
    for name, description, count in contents.tables:
        print(f"{name:<28} {count:>9} lignes  {description}")
    return 0


def _archive_patients(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    from cms_desktop.services import archives

    if not args.list and not args.to:
        raise ValidationFailed("Indiquez le dossier de l'archive (--to) ou --list.")
    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        if args.inactive_years is not None:
            found = archives.inactive_patients(ws, actor, args.inactive_years)
            for patient in found:
                last = f"{patient.last_activity:%d/%m/%Y}" if patient.last_activity else "—"
                print(f"{patient.id}  {patient.label}  (dernière activité : {last})")
            print(f"{len(found)} patient(s) sans activité depuis {args.inactive_years} an(s).")
            ids = [p.id for p in found]
            if not ids and not args.list:
                return 0
        else:
            ids = list(args.patient)
        if args.list:
            return 0
        passphrase = secrets.read("Phrase de passe de l'archive")
        confirmation = secrets.read("Phrase de passe de l'archive (confirmation)")
        result = archives.export_patient_archive(
            ws, actor, Path(args.to), ids, passphrase, confirmation
        )
    finally:
        ws.close()
    print(f"Archive écrite : {result.path} ({result.tables} tables, {result.rows} lignes).")
    print("Gardez la phrase de passe à part : sans elle, l'archive est illisible.")
    return 0
