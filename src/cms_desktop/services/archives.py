"""The whole-centre archive for the 20-year retention of medical records (CSP R.1112-7).

Unlike a backup (which restores a workstation), an archive is meant to be *read* long
after this software is gone: see storage/archive_export.py. It holds clinical content
readable with its passphrase alone, so it is made by the medical director (who may export
records), never by the administrator, and the export is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cms_desktop import __version__
from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.backups import audit_record, low_priority, os_reason
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import archive_export
from cms_desktop.storage.archive_export import ArchiveUnreadable
from cms_desktop.storage.models import Centre

MIN_PASSPHRASE = 16


class ArchiveFailed(ServiceError):
    pass


@dataclass(frozen=True)
class ArchiveResult:
    path: str
    tables: int
    rows: int


@requires(Permission.EXPORT_RECORD)
def export_centre_archive(
    ws: Workspace, actor: Actor, folder: Path, passphrase: str, confirmation: str
) -> ArchiveResult:
    actor.require(Permission.EXPORT_RECORD)
    if passphrase != confirmation:
        raise ValidationFailed("Les deux saisies de la phrase de passe diffèrent.")
    # No lock-out protects an archive: its passphrase must resist an offline attack.
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationFailed(
            f"La phrase de passe de l'archive doit contenir au moins {MIN_PASSPHRASE} caractères."
        )
    try:
        check_password_strength(passphrase)
    except WeakPassword as exc:
        raise ValidationFailed(str(exc).replace("Le mot de passe", "La phrase de passe")) from None
    if not folder.is_dir():
        raise ArchiveFailed(f"Dossier introuvable : {folder}.")
    now = datetime.now(UTC).replace(microsecond=0)
    with ws.store.read() as session:
        centre = session.query(Centre).first()
        centre_name = centre.name if centre is not None else ""
    about = {
        "centre_id": ws.centre_id,
        "centre_name": centre_name,
        "created_at": now.isoformat(),
        "created_by": actor.login,
        "app_version": __version__,
    }
    name = f"cms-archive-{ws.centre_id.replace('-', '')[:8]}-{now:%Y%m%dT%H%M%SZ}.cmsarchive"
    try:
        facts = low_priority(
            lambda: archive_export.export(ws.store.engine, folder, name, passphrase, about)
        )
    except OSError as exc:
        raise ArchiveFailed(f"L'archive n'a pas pu être écrite ({os_reason(exc)}).") from None
    audit_record(ws, actor, "centre_archive_exported", {"file": Path(facts.path).name})
    return ArchiveResult(facts.path, len(facts.row_counts), sum(facts.row_counts.values()))


@dataclass(frozen=True)
class ArchiveContents:
    about: dict[str, str]
    tables: list[tuple[str, str, int]]  # name, description, rows


def describe_archive(path: Path, passphrase: str) -> ArchiveContents:
    """No login: an archive must be readable when the centre's software is gone."""
    try:
        with archive_export.open_archive(path, passphrase) as conn:
            about, tables = archive_export.describe(conn)
    except ArchiveUnreadable as exc:
        raise ArchiveFailed(str(exc)) from None
    return ArchiveContents(about, tables)


def archive_rows(path: Path, passphrase: str, table: str) -> Iterator[dict[str, Any]]:
    try:
        with archive_export.open_archive(path, passphrase) as conn:
            yield from archive_export.rows(conn, table)
    except ArchiveUnreadable as exc:
        raise ArchiveFailed(str(exc)) from None
