"""Backups of the centre: taken while people work, written to the chosen folders, verified.

A backup is one file (storage/backup_archive.py) holding an encrypted copy of the
database taken online (storage/backup_snapshot.py), the key slots and a sealed manifest.
The copy is checked (integrity, audit chain) before it is packed, and every file written
is read back from the device and its members' SHA-256 compared with the manifest before
the backup counts as good. Settings and the last results are per station (``local_state``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from cms_desktop import __version__
from cms_desktop.domain import backup_policy
from cms_desktop.domain.backup_policy import Retention, Schedule
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import internal, no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.key_rotation import backup_keys
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, backup_archive, keyslots, migrations
from cms_desktop.storage.backup_archive import ArchiveError, Source
from cms_desktop.storage.backup_snapshot import (
    SnapshotFacts,
    SnapshotFailed,
    check_copy,
    take_snapshot,
)
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import WrongKeyError
from cms_desktop.storage.models import Centre, LocalState
from cms_desktop.sync.failpoints import failpoint

SETTINGS_KEY = "backup.settings"
STATUS_KEY = "backup.status"
# A logout backs up again only when the last good backup is older than this: a reception
# PC where people log in and out all day must not copy the centre at every change of user.
LOGOUT_MIN_INTERVAL = timedelta(hours=1)
_NAME = re.compile(r"^cms-([0-9a-f]{8})-([0-9a-f]{8})-(\d{8}T\d{6}Z)(?:-\d+)?\.cmsbak$")

Progress = Callable[[float, str], None]  # fraction done (0..1), French phase


class BackupFailed(ServiceError):
    """No backup could be written or verified; the message is French."""


class BackupBusy(BackupFailed):
    """Another backup or check holds this data directory."""


@dataclass(frozen=True)
class TargetResult:
    folder: str
    file: str | None
    error: str | None


@dataclass(frozen=True)
class BackupResult:
    created_at: datetime
    size: int
    results: tuple[TargetResult, ...]
    removed: tuple[str, ...]  # old backups removed by rotation

    @property
    def written(self) -> list[str]:
        return [r.file for r in self.results if r.file]


@dataclass(frozen=True)
class BackupStatus:
    last_good_at: datetime | None
    last_good_file: str
    last_failure_at: datetime | None
    last_failure: str
    last_test_at: datetime | None
    last_test_ok: bool
    last_test_message: str
    overdue: bool  # no good backup for 48 h
    line: str  # the status-bar sentence

    @property
    def attention(self) -> bool:
        """Overdue, or the last attempt failed: shown as a warning."""
        failed = self.last_failure_at is not None and (
            self.last_good_at is None or self.last_failure_at > self.last_good_at
        )
        return self.overdue or failed


@dataclass(frozen=True)
class BackupEntry:
    path: str
    created_at: datetime | None
    size: int
    station_id: str
    this_centre: bool
    readable: bool


@dataclass(frozen=True)
class VerifyReport:
    file: str
    created_at: datetime
    station_id: str
    row_counts: dict[str, int]
    message: str


# --- settings ------------------------------------------------------------------------------


def default_target(data_dir: DataDir) -> Path:
    """A folder beside the data directory: better than nothing, not a real backup medium."""
    return data_dir.path.parent / f"{data_dir.path.name}-sauvegardes"


def _local(ws: Workspace, key: str) -> dict[str, Any]:
    with ws.store.read() as session:
        row = session.get(LocalState, key)
        return dict(json.loads(row.value)) if row is not None else {}


def _set_local(ws: Workspace, key: str, value: dict[str, Any]) -> None:
    with ws.store.write() as session:
        row = session.get(LocalState, key)
        text = json.dumps(value, ensure_ascii=False)
        if row is None:
            session.add(LocalState(key=key, value=text))
        else:
            row.value = text


@no_actor("the station's backup schedule holds no patient data")
def load_schedule(ws: Workspace) -> Schedule:
    raw = _local(ws, SETTINGS_KEY)
    if not raw:
        return Schedule(targets=(str(default_target(ws.data_dir)),))
    keep = raw.get("retention", {})
    return Schedule(
        targets=tuple(str(t) for t in raw.get("targets", [])),
        daily_at=time.fromisoformat(str(raw.get("daily_at", "20:00"))),
        at_last_logout=bool(raw.get("at_last_logout", True)),
        retention=Retention(
            int(keep.get("daily", 7)), int(keep.get("weekly", 5)), int(keep.get("monthly", 12))
        ),
    )


@requires(Permission.BACKUP_MANAGE)
def save_schedule(ws: Workspace, actor: Actor, schedule: Schedule) -> Schedule:
    actor.require(Permission.BACKUP_MANAGE)
    if not schedule.targets:
        raise ValidationFailed("Choisissez au moins un dossier de sauvegarde.")
    for target in schedule.targets:
        path = Path(target)
        if not path.is_absolute():
            raise ValidationFailed(f"Le dossier « {target} » doit être un chemin complet.")
        if path.resolve() == ws.data_dir.path.resolve() or ws.data_dir.path in path.parents:
            raise ValidationFailed(
                "Le dossier de sauvegarde ne peut pas être le dossier des données."
            )
    value = {
        "targets": list(schedule.targets),
        "daily_at": schedule.daily_at.strftime("%H:%M"),
        "at_last_logout": schedule.at_last_logout,
        "retention": {
            "daily": schedule.retention.daily,
            "weekly": schedule.retention.weekly,
            "monthly": schedule.retention.monthly,
        },
    }
    _set_local(ws, SETTINGS_KEY, value)
    audit_record(ws, actor, "backup_settings_changed", {"targets": str(len(schedule.targets))})
    return schedule


@internal("called by the backup services after their own check")
def audit_record(ws: Workspace, actor: Actor | None, action: str, details: dict[str, str]) -> None:
    with ws.store.write() as session:
        audit.append(
            session,
            ws.store.station_id,
            action,
            user_id=actor.user_id if actor else None,
            user_login=actor.login if actor else "",
            details=details,
        )


# --- status --------------------------------------------------------------------------------


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


@no_actor("the status line and the setup checklist: no patient data")
def last_good_backup(ws: Workspace, now: datetime | None = None) -> BackupStatus:
    """When this station last made a good (verified) backup, and whether it is overdue
    (more than 48 h). No patient data: any logged-in user (and the setup checklist) may ask."""
    now = now or datetime.now(UTC)
    raw = _local(ws, STATUS_KEY)
    good = raw.get("last_good", {})
    failure = raw.get("last_failure", {})
    test = raw.get("last_test", {})
    good_at = _when(good.get("at"))
    overdue = backup_policy.overdue(now, good_at)
    if good_at is None:
        line = "Sauvegarde : aucune sauvegarde réussie sur ce poste"
    else:
        line = f"Dernière sauvegarde : {paris_text(good_at)}"
        if overdue:
            line = f"Sauvegarde en retard (dernière le {paris_text(good_at)})"
    failure_at = _when(failure.get("at"))
    if failure_at is not None and (good_at is None or failure_at > good_at):
        line += " — la dernière tentative a échoué"
    return BackupStatus(
        good_at,
        str(good.get("file", "")),
        failure_at,
        str(failure.get("message", "")),
        _when(test.get("at")),
        bool(test.get("ok", False)),
        str(test.get("message", "")),
        overdue,
        line,
    )


def _record_status(ws: Workspace, **changes: dict[str, Any]) -> None:
    raw = _local(ws, STATUS_KEY)
    raw.update(changes)
    _set_local(ws, STATUS_KEY, raw)


# --- making a backup -----------------------------------------------------------------------


@contextlib.contextmanager
def exclusive_work(data_dir: DataDir) -> Iterator[Path]:
    """One backup (or check) at a time per data directory, across processes; yields a
    private work folder, emptied first (a killed run may have left an encrypted copy)."""
    lock = FileLock(str(data_dir.path / ".backup.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BackupBusy("Une sauvegarde est déjà en cours sur ce poste.") from None
    work = data_dir.path / ".backup-work"
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(mode=0o700)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.release()


def _file_name(centre_id: str, station_id: str, at: datetime) -> str:
    return f"cms-{_short(centre_id)}-{_short(station_id)}-{at:%Y%m%dT%H%M%SZ}.cmsbak"


def _short(ident: str) -> str:
    return ident.replace("-", "")[:8]


def _manifest(
    ws: Workspace, facts: SnapshotFacts, created: datetime, members: list[dict[str, Any]]
) -> dict[str, Any]:
    with ws.store.read() as session:
        centre = session.query(Centre).first()
        centre_name = centre.name if centre is not None else ""
    return {
        "format": backup_archive.FORMAT,
        "created_at": created.isoformat(),
        "app_version": __version__,
        "centre_id": facts.centre_id,
        "centre_name": centre_name,
        "station_id": facts.station_id,
        "schema_revision": facts.schema_revision,
        "schema_version": migrations.schema_version(),
        "high_water": facts.high_water,
        "version_vector": facts.version_vector,
        "row_counts": facts.row_counts,
        "members": members,
    }


T = TypeVar("T")


def low_priority(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of its own at a lower CPU priority, and wait for it.

    On the centre's 2-core PCs a backup keeps one core busy for a minute; at nice 10 (a
    per-thread setting on Linux; elsewhere nothing changes) it gives way to the saves and
    to the UI. A thread of its own, because a raised nice value cannot be lowered again
    without privileges and the task pool's threads are reused."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            outcome.append(work())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="cms-backup")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


@requires(Permission.BACKUP_MANAGE)
def create_backup(
    ws: Workspace,
    actor: Actor,
    targets: list[str] | None = None,
    progress: Progress | None = None,
) -> BackupResult:
    """A backup now, asked by an administrator (to the station's folders, or ``targets``)."""
    actor.require(Permission.BACKUP_MANAGE)
    return low_priority(lambda: _backup(ws, actor, targets, progress, reason="manual"))


@no_actor("the scheduled backup of the station, made for whoever is logged in")
def automatic_backup(ws: Workspace, reason: str, progress: Progress | None = None) -> BackupResult:
    """The scheduled backup (daily time, last logout): made for whoever is logged in,
    to the station's folders; it reads no patient data, so no permission is asked."""
    return low_priority(lambda: _backup(ws, None, None, progress, reason=reason))


def _backup(
    ws: Workspace,
    actor: Actor | None,
    targets: list[str] | None,
    progress: Progress | None,
    reason: str,
) -> BackupResult:
    report = progress or (lambda _f, _p: None)
    schedule = load_schedule(ws)
    folders = [Path(t) for t in (targets if targets is not None else schedule.targets)]
    if not folders:
        raise BackupFailed("Aucun dossier de sauvegarde n'est choisi pour ce poste.")
    created = datetime.now(UTC).replace(microsecond=0)
    try:
        with exclusive_work(ws.data_dir) as work:
            copy = work / backup_archive.DATABASE
            report(0.0, "Copie de la base")
            facts = take_snapshot(
                ws.store.engine, ws.key, copy, lambda d, t: report(0.5 * d / max(t, 1), "Copie")
            )
            report(0.5, "Contrôle de la copie")
            # The quick check here (every day, while people work); the full one on every
            # `backup verify`, restore and monthly test restore.
            check = check_copy(copy, ws.key, thorough=False)
            if check.problems:
                raise BackupFailed(f"La copie de la base est endommagée : {check.problems[0]}.")
            if check.facts != facts:
                raise BackupFailed("La copie ne correspond pas à la base (lignes ou historique).")
            failpoint("backup.copied")
            with keyslots.exclusive(ws.data_dir.key_slots):
                slot_bytes = ws.data_dir.key_slots.read_bytes()
            report(0.6, "Empreintes")
            members: list[dict[str, Any]] = [
                {
                    "name": backup_archive.KEY_SLOTS,
                    "size": len(slot_bytes),
                    "sha256": _sha(slot_bytes),
                },
                {
                    "name": backup_archive.DATABASE,
                    "size": copy.stat().st_size,
                    "sha256": backup_archive.sha256_file(copy),
                },
            ]
            body = _manifest(ws, facts, created, members)
            sealed = backup_archive.seal(body, ws.key)
            sources = [Source(backup_archive.KEY_SLOTS, data=slot_bytes), Source("centre.db", copy)]
            results: list[TargetResult] = []
            removed: list[str] = []
            for n, folder in enumerate(folders):
                share = 0.4 / len(folders)
                base = 0.6 + n * share

                def step(d: int, t: int, base: float = base, share: float = share) -> None:
                    failpoint("backup.writing")  # a member is in the file, the rest is not
                    report(base + share * d / max(t, 1), "Écriture")

                result, gone = _write_one(
                    ws, folder, body, sealed, sources, created, schedule, step
                )
                results.append(result)
                removed.extend(gone)
            size = copy.stat().st_size + len(slot_bytes)
    except BackupBusy:
        raise  # the running backup records its own outcome
    except BackupFailed as exc:
        _record_status(ws, last_failure={"at": datetime.now(UTC).isoformat(), "message": str(exc)})
        raise
    except (OSError, WrongKeyError, SnapshotFailed) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else "base illisible ou disque plein"
        message = f"La sauvegarde a échoué ({reason})."
        _record_status(ws, last_failure={"at": datetime.now(UTC).isoformat(), "message": message})
        raise BackupFailed(message) from None
    good = [r for r in results if r.file]
    details = {"reason": reason, "written": str(len(good)), "failed": str(len(results) - len(good))}
    audit_record(ws, actor, "backup_created" if good else "backup_failed", details)
    if not good:
        message = "Aucune sauvegarde n'a pu être écrite : " + "; ".join(
            f"{r.folder} : {r.error}" for r in results
        )
        _record_status(ws, last_failure={"at": datetime.now(UTC).isoformat(), "message": message})
        raise BackupFailed(message)
    status: dict[str, Any] = {"last_good": {"at": created.isoformat(), "file": good[0].file}}
    if len(good) < len(results):
        failed = next(r for r in results if not r.file)
        status["last_failure"] = {
            "at": datetime.now(UTC).isoformat(),
            "message": f"{failed.folder} : {failed.error}",
        }
    _record_status(ws, **status)
    report(1.0, "Terminé")
    return BackupResult(created, size, tuple(results), tuple(removed))


def os_reason(exc: OSError) -> str:
    """A French reason for a file error (the system's own text may be English)."""
    return {
        errno.ENOSPC: "support plein",
        errno.ENOENT: "dossier introuvable (support débranché ?)",
        errno.EACCES: "accès refusé",
        errno.EPERM: "accès refusé",
        errno.EROFS: "support en lecture seule",
        errno.EIO: "erreur de lecture ou d'écriture du support",
    }.get(exc.errno or 0, "erreur d'écriture")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_one(
    ws: Workspace,
    folder: Path,
    body: dict[str, Any],
    sealed: bytes,
    sources: list[Source],
    created: datetime,
    schedule: Schedule,
    progress: Callable[[int, int], None],
) -> tuple[TargetResult, list[str]]:
    # A missing folder is not created (it may be the mount point of an unplugged USB drive),
    # except the default one beside the data directory.
    if folder == default_target(ws.data_dir):
        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, exist_ok=True)
    if not folder.is_dir():
        return TargetResult(str(folder), None, "dossier introuvable (support débranché ?)"), []
    base = _file_name(body["centre_id"], body["station_id"], created).removesuffix(".cmsbak")
    # A run killed while writing here left a hidden partial file of this station: drop it.
    for stale in folder.glob(f".{base[:21]}*{backup_archive.PARTIAL}"):
        with contextlib.suppress(OSError):
            stale.unlink()
    name, n = f"{base}.cmsbak", 1
    while (folder / name).exists():
        n += 1
        name = f"{base}-{n}.cmsbak"
    try:
        path = backup_archive.write(folder, name, sealed, sources, progress)
    except OSError as exc:
        reason = (
            "support plein"
            if exc.errno == errno.ENOSPC
            else (exc.strerror or "écriture impossible")
        )
        return TargetResult(str(folder), None, reason), []
    try:
        backup_archive.extract(path, backup_archive.read_manifest(path), None)
    except ArchiveError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        return TargetResult(str(folder), None, f"relecture en échec ({exc})"), []
    return TargetResult(str(folder), str(path), None), _rotate(folder, body, schedule.retention)


def _rotate(folder: Path, body: dict[str, Any], retention: Retention) -> list[str]:
    """Remove this station's old backups in ``folder`` that the retention does not keep."""
    centre, station = _short(body["centre_id"]), _short(body["station_id"])
    mine: dict[Path, datetime] = {}
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and match.group(1) == centre and match.group(2) == station:
            stamp = datetime.strptime(match.group(3), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            mine[path] = stamp
    keep = backup_policy.to_keep(mine.values(), retention)
    removed = []
    for path, stamp in sorted(mine.items()):
        if stamp not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(str(path))
    return removed


# --- listing and checking ------------------------------------------------------------------


@requires(Permission.BACKUP_MANAGE)
def list_backups(
    ws: Workspace, actor: Actor, folders: list[str] | None = None
) -> list[BackupEntry]:
    actor.require(Permission.BACKUP_MANAGE)
    entries: list[BackupEntry] = []
    for folder in [Path(f) for f in (folders or load_schedule(ws).targets)]:
        try:
            paths = sorted(folder.iterdir()) if folder.is_dir() else []
        except OSError:  # a share gone or refused: nothing to list there
            continue
        for path in paths:
            if backup_archive.is_backup_name(path.name):
                with contextlib.suppress(OSError):
                    entries.append(_entry(ws, path))
    entries.sort(key=lambda e: e.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return entries


def _entry(ws: Workspace, path: Path) -> BackupEntry:
    size = path.stat().st_size
    try:
        manifest = backup_archive.read_manifest(path)
    except ArchiveError:
        return BackupEntry(str(path), None, size, "", False, False)
    return BackupEntry(
        str(path),
        _when(manifest.get("created_at")),
        size,
        str(manifest.get("station_id", "")),
        manifest.get("centre_id") == ws.centre_id,
        True,
    )


@requires(Permission.BACKUP_MANAGE)
def verify_backup_file(
    ws: Workspace, actor: Actor, path: Path, progress: Progress | None = None
) -> VerifyReport:
    """Everything a restore would check, on a copy in a private temp folder (encrypted)."""
    actor.require(Permission.BACKUP_MANAGE)
    key = ws.key
    with contextlib.suppress(ArchiveError):  # unpack_checked reports it in French
        manifest = backup_archive.read_manifest(path)
        # Made before a rotation of the database key (#17): under one of its older keys.
        key = next((k for k in backup_keys(ws) if backup_archive.mac_ok(manifest, k)), ws.key)
    return low_priority(lambda: verify_with_key(ws.centre_id, key, path, ws.data_dir, progress))


def verify_with_key(
    centre_id: str, key: bytes, path: Path, data_dir: DataDir, progress: Progress | None = None
) -> VerifyReport:
    # Unpacked in the work folder, under the backup lock: one heavy job at a time, and a
    # killed check leaves nothing that the next backup does not clear.
    with exclusive_work(data_dir) as work:
        manifest, _small = unpack_checked(path, centre_id, key, work, progress)
    return VerifyReport(
        str(path),
        datetime.fromisoformat(manifest["created_at"]),
        str(manifest["station_id"]),
        dict(manifest["row_counts"]),
        f"Sauvegarde du {paris_text(datetime.fromisoformat(manifest['created_at']))} intacte : "
        "base intègre, journal d'audit intact, "
        f"{sum(manifest['row_counts'].values())} lignes dans {len(manifest['row_counts'])} "
        "tables, conformes au manifeste.",
    )


def unpack_checked(
    path: Path, centre_id: str | None, key: bytes, into: Path, progress: Progress | None = None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Unpack ``path`` into ``into`` and check it fully; raise BackupFailed (French) if not.

    ``centre_id`` None skips the centre check (a restore with the backup's own key slots).
    """
    report = progress or (lambda _f, _p: None)
    try:
        manifest = backup_archive.read_manifest(path)
    except ArchiveError as exc:
        raise BackupFailed(str(exc)) from None
    if centre_id is not None and manifest.get("centre_id") != centre_id:
        raise BackupFailed(
            f"{path.name} est la sauvegarde d'un autre centre ({manifest.get('centre_name', '?')})."
        )
    if not backup_archive.mac_ok(manifest, key):
        raise BackupFailed(f"{path.name} est altérée : son manifeste ne correspond pas à sa clé.")
    try:
        small = backup_archive.extract(
            path, manifest, into, lambda d, t: report(0.7 * d / max(t, 1), "Lecture")
        )
    except ArchiveError as exc:
        raise BackupFailed(str(exc)) from None
    report(0.7, "Contrôle de la base")
    try:
        check = check_copy(into / backup_archive.DATABASE, key)
    except WrongKeyError:
        raise BackupFailed(f"{path.name} : la base ne s'ouvre pas avec la clé du centre.") from None
    if check.problems:
        raise BackupFailed(f"{path.name} est endommagée : {check.problems[0]}.")
    facts = check.facts
    assert facts is not None
    if facts.row_counts != manifest.get("row_counts"):
        raise BackupFailed(f"{path.name} : le nombre de lignes ne correspond pas au manifeste.")
    if (
        facts.high_water != manifest.get("high_water")
        or facts.version_vector != manifest.get("version_vector")
        or facts.centre_id != manifest["centre_id"]
    ):
        raise BackupFailed(f"{path.name} : l'historique ne correspond pas au manifeste.")
    report(1.0, "Terminé")
    return manifest, small


# --- what the schedule asks for now --------------------------------------------------------


@no_actor("a date check on the station's backup status")
def daily_backup_due(ws: Workspace, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return backup_policy.due(
        now, last_good_backup(ws, now).last_good_at, load_schedule(ws).daily_at
    )


@no_actor("a date check on the station's backup status")
def logout_backup_due(ws: Workspace, now: datetime | None = None) -> bool:
    """At the logout of the station's user (the last one: one session per station)."""
    now = now or datetime.now(UTC)
    if not load_schedule(ws).at_last_logout:
        return False
    last = last_good_backup(ws, now).last_good_at
    return last is None or now - last >= LOGOUT_MIN_INTERVAL


@no_actor("the scheduled backup and test restore of the station")
def run_scheduled(ws: Workspace, reason: str, progress: Progress | None = None) -> BackupStatus:
    """The automatic backup, then the monthly test restore when it is due; the status after.

    A failure is recorded in the status (shown to the user), not raised."""
    from cms_desktop.services import backup_restore

    with contextlib.suppress(BackupFailed):
        automatic_backup(ws, reason, progress)
    if backup_restore.trial_restore_due(ws) and last_good_backup(ws).last_good_file:
        backup_restore.trial_restore(ws)
    return last_good_backup(ws)
