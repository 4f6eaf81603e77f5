"""Restoring a backup: into a new data directory, or in place of the current one.

The key comes from the backup's own key slots (an administrator's password *of that
backup*, or the recovery code), so a station whose files are lost can be restored. The
backup is unpacked into a hidden folder beside the target and checked in full (members'
SHA-256, SQLCipher integrity, audit chain, row counts); only then does one rename put it
in place. An existing data directory is renamed aside with a timestamp, never overwritten
nor deleted. A kill at any moment before that rename leaves the live data untouched.

Nothing is written into the restored database, but the restored station must not number its
changes from where the copy stopped (its peers already hold those numbers with other
content): the restored directory's station seal is marked restored (``storage.origin``), so
its next open writes under a new op-log origin and its peers send back everything written
since the backup. ``restored.json`` records the restore (when, from which file, the
backup's high-water marks).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cms_desktop.domain import backup_policy
from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.services import key_rotation
from cms_desktop.services.access import no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.backups import (
    STATUS_KEY,
    BackupBusy,
    BackupFailed,
    Progress,
    _local,
    _set_local,
    exclusive_work,
    low_priority,
    unpack_checked,
)
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import backup_archive, in_use, keyslots, origin
from cms_desktop.storage.backup_archive import ArchiveError
from cms_desktop.storage.backup_snapshot import account_in_copy
from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync.failpoints import failpoint

RESTORED_MARKER = "restored.json"


@dataclass(frozen=True)
class RestoreResult:
    data_dir: str
    set_aside: str | None  # where the previous data directory was moved, if any
    backup_created_at: datetime
    row_counts: dict[str, int]


def _unwrap_keys(
    slot_bytes: bytes, login: str, secret: str, recovery: bool
) -> tuple[list[bytes], str]:
    """Every database key the secret reaches in the backup's own slot file, newest first:
    its database is under one of them (#17, rotation: the file may already hold a newer
    generation than the one the copied database was under)."""
    with tempfile.TemporaryDirectory(prefix=".slots-") as tmp:
        path = Path(tmp) / "keyslots.json"
        path.write_bytes(slot_bytes)
        try:
            slots = keyslots.load(path)
        except keyslots.KeySlotError:
            raise BackupFailed("Le fichier des clés de la sauvegarde est illisible.") from None
    try:
        if recovery:
            code = keyslots.normalize_recovery_code(secret)
            return key_rotation.candidate_keys(
                slots, keyslots.RECOVERY_LOGIN, code
            ), slots.centre_id
        return key_rotation.candidate_keys(slots, login, secret), slots.centre_id
    except keyslots.BadCredentials:
        what = "Code de récupération" if recovery else "Identifiant ou mot de passe"
        raise BackupFailed(f"{what} incorrect pour cette sauvegarde.") from None


def _key_of(manifest: dict[str, object], keys: list[bytes]) -> bytes:
    """The key whose MAC the manifest carries (the one the backup was made under); the
    newest when none matches (the check then reports the altered manifest)."""
    return next((k for k in keys if backup_archive.mac_ok(manifest, k)), keys[0])


def _backup_key(ws: Workspace, path: Path) -> bytes:
    """The key among the session's that this station's backup ``path`` was made under."""
    try:
        return _key_of(backup_archive.read_manifest(path), key_rotation.backup_keys(ws))
    except ArchiveError:
        return ws.key  # unpack_checked reports it in French


def _read_slots(path: Path) -> bytes:
    """The key-slot member alone (small), to get the key before unpacking the database."""
    import tarfile

    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.getmember(backup_archive.KEY_SLOTS)
            fh = tar.extractfile(member)
            return fh.read() if fh else b""
    except (KeyError, tarfile.TarError, OSError):
        raise BackupFailed(f"{path.name} n'est pas une sauvegarde lisible.") from None


def _is_admin(db: Path, key: bytes, login: str) -> bool:
    account = account_in_copy(db, key, login)
    return account is not None and account == (Role.ADMINISTRATOR.value, True)


@dataclass(frozen=True)
class PreparedRestore:
    """A backup unpacked and checked beside its target, waiting for the final renames."""

    target: DataDir
    staging: Path
    in_place: bool
    created_at: datetime
    row_counts: dict[str, int]


def in_use_message(target: DataDir) -> str:
    return (
        f"Le centre de {target.path} est ouvert sur ce poste (application, « sync serve » ou "
        "autre commande) : fermez-le avant de le restaurer en place. Rien n'a été modifié."
    )


def _refuse_if_in_use(target: DataDir, in_place: bool) -> None:
    if in_place and target.initialised and in_use.users(target.path):
        raise BackupFailed(in_use_message(target))


def prepare_restore(
    archive: Path,
    target: DataDir,
    login: str,
    secret: str,
    *,
    recovery: bool = False,
    in_place: bool = False,
    progress: Progress | None = None,
    check_in_use: bool = True,
) -> PreparedRestore:
    """Unpack and check ``archive`` beside ``target``; nothing of ``target`` is touched.

    ``check_in_use=False`` lets the application prepare its own in-place restore while its
    store is still open (it closes it before ``finish_restore``, which checks again)."""
    try:
        manifest = backup_archive.read_manifest(archive)
    except ArchiveError as exc:
        raise BackupFailed(str(exc)) from None
    keys, _centre = _unwrap_keys(_read_slots(archive), login, secret, recovery)
    key = _key_of(manifest, keys)
    if in_place and _centre_of(target) not in (None, manifest.get("centre_id")):
        raise BackupFailed(
            f"{archive.name} est la sauvegarde d'un autre centre "
            f"({manifest.get('centre_name', '?')}) que celui de {target.path} : "
            "restaurez-la dans un nouveau dossier."
        )
    if check_in_use:
        _refuse_if_in_use(target, in_place)
    finish_interrupted(target)
    if target.initialised and not in_place:
        raise BackupFailed(
            f"Un centre est déjà installé dans {target.path} : choisissez un dossier vide "
            "ou la restauration en place (l'actuel sera conservé à côté)."
        )
    if target.path.exists() and not target.initialised and any(target.path.iterdir()):
        raise BackupFailed(f"Le dossier {target.path} n'est pas vide.")
    parent = target.path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.path.name}.restauration-", dir=parent))
    except OSError as exc:
        raise BackupFailed(f"Impossible d'écrire dans {parent} : {exc.strerror}.") from None
    try:
        manifest, small = unpack_checked(archive, None, key, staging, progress)
        if not recovery and not _is_admin(staging / backup_archive.DATABASE, key, login):
            raise BackupFailed(
                "Seul un administrateur de cette sauvegarde (ou le code de récupération) "
                "peut la restaurer."
            )
        (staging / backup_archive.KEY_SLOTS).write_bytes(small[backup_archive.KEY_SLOTS])
        os.chmod(staging / backup_archive.KEY_SLOTS, 0o600)
        marker = {
            "restored_at": datetime.now(UTC).isoformat(),
            "from_file": str(archive),
            "backup_created_at": manifest["created_at"],
            "centre_id": manifest["centre_id"],
            "station_id": manifest["station_id"],
            "high_water": manifest["high_water"],
            # For the sync layer: this station must take a new identity before it syncs.
            "sync_identity": "renew_before_sync",
        }
        (staging / RESTORED_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        os.chmod(staging / RESTORED_MARKER, 0o600)
        origin.mark_restored(staging)  # the next open takes a new op-log origin
        backup_archive.fsync_dir(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PreparedRestore(
        target,
        staging,
        in_place,
        datetime.fromisoformat(manifest["created_at"]),
        dict(manifest["row_counts"]),
    )


def finish_restore(prepared: PreparedRestore) -> RestoreResult:
    """Put the checked copy in place (the current folder renamed aside, never deleted).

    Refused, and the copy dropped, when a store of the target is open in any process."""
    target, staging = prepared.target, prepared.staging
    try:
        _refuse_if_in_use(target, prepared.in_place)
        failpoint("restore.unpacked")
        aside = None
        if target.path.exists() and prepared.in_place and target.initialised:
            now = datetime.now(UTC)
            aside = target.path.parent / (
                f"{target.path.name}.avant-restauration-{now:%Y%m%d-%H%M%S}"
            )
        _swap(target.path, staging, aside)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RestoreResult(
        str(target.path), str(aside) if aside else None, prepared.created_at, prepared.row_counts
    )


def abandon_restore(prepared: PreparedRestore) -> None:
    shutil.rmtree(prepared.staging, ignore_errors=True)


@requires(Permission.BACKUP_MANAGE)
def prepare_restore_from_session(
    ws: Workspace,
    actor: Actor,
    archive: Path,
    new_folder: Path | None,
    login: str,
    secret: str,
    *,
    recovery: bool = False,
    progress: Progress | None = None,
) -> PreparedRestore:
    """Administration › Sauvegardes: into ``new_folder``, or in place of this station's data
    directory when it is None. In place, the session's own store is still open: it must be
    closed before ``finish_restore`` (which refuses while any store of it is open)."""
    actor.require(Permission.BACKUP_MANAGE)
    in_place = new_folder is None
    target = ws.data_dir if new_folder is None else DataDir(new_folder)
    if not in_place and target.path.resolve() == ws.data_dir.path.resolve():
        raise BackupFailed(
            f"{target.path} est le dossier des données de ce poste : choisissez un dossier "
            "vide, ou la restauration à la place des données de ce poste."
        )
    return prepare_restore(
        archive,
        target,
        login,
        secret,
        recovery=recovery,
        in_place=in_place,
        progress=progress,
        check_in_use=not in_place,
    )


def restore(
    archive: Path,
    target: DataDir,
    login: str,
    secret: str,
    *,
    recovery: bool = False,
    in_place: bool = False,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore ``archive`` into ``target`` (see the module docstring)."""
    prepared = prepare_restore(
        archive, target, login, secret, recovery=recovery, in_place=in_place, progress=progress
    )
    return finish_restore(prepared)


def _centre_of(target: DataDir) -> str | None:
    """The centre of an installed data directory, None when it cannot be told."""
    try:
        return keyslots.load(target.key_slots).centre_id
    except keyslots.KeySlotError:
        return None


def _journal(target: Path) -> Path:
    return target.parent / f".{target.name}.restauration.json"


def _swap(target: Path, staging: Path, aside: Path | None) -> None:
    """Put ``staging`` at ``target`` (the current folder moved to ``aside``, or an empty one
    removed). A journal written first lets ``finish_interrupted`` complete the two renames
    after a kill between them; before the journal, the live folder was never touched."""
    journal = _journal(target)
    journal.write_text(json.dumps({"staging": str(staging), "aside": str(aside or "")}))
    backup_archive.fsync_dir(target.parent)
    if aside is not None:
        target.rename(aside)
        failpoint("restore.swapping")
    elif target.exists():
        target.rmdir()  # empty, checked by the caller
    staging.rename(target)
    backup_archive.fsync_dir(target.parent)
    journal.unlink()


def finish_interrupted(target: DataDir) -> bool:
    """Complete a restore killed between its two renames; drop unfinished unpackings.

    Returns True when an interrupted restore of ``target`` was completed."""
    journal = _journal(target.path)
    done = False
    if journal.exists():
        try:
            staging = Path(json.loads(journal.read_text())["staging"])
        except (ValueError, KeyError, OSError):
            staging = None
        if staging is not None and staging.is_dir() and not target.path.exists():
            staging.rename(target.path)
            backup_archive.fsync_dir(target.path.parent)
            done = True
        journal.unlink()
    parent = target.path.parent
    if parent.is_dir():
        for stale in parent.glob(f".{target.path.name}.restauration-*"):
            shutil.rmtree(stale, ignore_errors=True)
    return done


@no_actor("the monthly test restore of the station's own backup; shows no data")
def trial_restore(
    ws: Workspace, archive: Path | None = None, progress: Progress | None = None
) -> bool:
    """The monthly test: restore the latest good backup into a temporary folder (the copy
    stays encrypted), check it in full, delete it; the result goes into the status."""
    from cms_desktop.services.backups import last_good_backup

    status = last_good_backup(ws)
    path = archive or (Path(status.last_good_file) if status.last_good_file else None)
    now = datetime.now(UTC)
    if path is None:
        message = "Aucune sauvegarde à tester."
        ok = False
    else:
        try:
            with exclusive_work(ws.data_dir) as work:
                key = _backup_key(ws, path)
                low_priority(lambda: unpack_checked(path, ws.centre_id, key, work, progress))
            ok = True
            message = f"Restauration d'essai réussie ({path.name})."
        except BackupBusy:
            return False  # a backup is running: the test is made next time
        except BackupFailed as exc:
            ok, message = False, f"Restauration d'essai en échec : {exc}"
        except OSError as exc:
            ok, message = False, f"Restauration d'essai en échec : {exc.strerror}."
    raw = _local(ws, STATUS_KEY)
    raw["last_test"] = {"at": now.isoformat(), "ok": ok, "message": message}
    _set_local(ws, STATUS_KEY, raw)
    return ok


@no_actor("a date check on the station's backup status")
def trial_restore_due(ws: Workspace, now: datetime | None = None) -> bool:
    raw = _local(ws, STATUS_KEY).get("last_test", {})
    last = datetime.fromisoformat(raw["at"]) if raw.get("at") else None
    return backup_policy.trial_restore_due(now or datetime.now(UTC), last)
