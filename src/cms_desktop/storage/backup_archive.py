"""The backup file: one uncompressed tar holding the manifest, the key slots and the copy.

``manifest.json`` (first member, readable without a key) says which centre, station and
schema the copy is of, the op-log high-water marks, the row counts, and each member's size
and SHA-256; an HMAC-SHA256 under a key derived from the database key (HKDF) seals it, so
an altered manifest is caught by whoever can open the copy. ``centre.db`` is the SQLCipher
copy (encrypted as the live file) and ``keyslots.json`` the key slots that unwrap its key.

Written atomically: a temp name in the target folder, fsync, rename, fsync of the folder.
A target that fills or disappears mid-write leaves at most a ``.partial`` file (removed
when possible), never a file under a backup's name; earlier backups are not touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "cms-backup-1"
SUFFIX = ".cmsbak"
PARTIAL = ".partial"
MANIFEST = "manifest.json"
DATABASE = "centre.db"
KEY_SLOTS = "keyslots.json"
MEMBERS = (KEY_SLOTS, DATABASE)
_CHUNK = 1 << 20
# Written data is synced every 32 MiB: without it, hundreds of megabytes of dirty pages
# pile up and the kernel then throttles every writer of the PC, the saves of the
# application included (and a USB drive stalls the desktop while it drains).
SYNC_EVERY = 32 << 20


class ArchiveError(Exception):
    """The file is not a readable backup; ``str()`` is a French sentence."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mac_key(db_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cms-backup-manifest"
    ).derive(db_key)


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal(body: dict[str, Any], db_key: bytes) -> bytes:
    """The manifest bytes: ``body`` plus its HMAC."""
    mac = hmac.new(_mac_key(db_key), _canonical(body), hashlib.sha256).hexdigest()
    return json.dumps({**body, "mac": mac}, indent=1, ensure_ascii=False).encode()


def mac_ok(manifest: dict[str, Any], db_key: bytes) -> bool:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    expected = hmac.new(_mac_key(db_key), _canonical(body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(manifest.get("mac", "")))


@dataclass(frozen=True)
class Source:
    name: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else os.path.getsize(self.path or "")

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem (or OS) lets a folder be synced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write(
    folder: Path,
    name: str,
    manifest: bytes,
    sources: list[Source],
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the backup file ``folder/name`` atomically; return its path."""
    final = folder / name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=PARTIAL, dir=folder)
    tmp = Path(tmp_name)
    total = sum(s.size for s in sources) or 1
    done = [0]

    def wrote(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    try:
        with os.fdopen(fd, "wb") as fh:
            with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
                _add(tar, Source(MANIFEST, data=manifest), fh, lambda _n: None)
                for source in sources:
                    _add(tar, source, fh, wrote)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(folder)
    return final


def _add(tar: tarfile.TarFile, source: Source, out: BinaryIO, wrote: Callable[[int], None]) -> None:
    info = tarfile.TarInfo(source.name)
    info.size = source.size
    info.mode = 0o600
    with source.open() as src:
        tar.addfile(info, _Paced(src, out, wrote))


class _Paced:
    """A reader for ``tar.addfile`` that syncs what was written every SYNC_EVERY bytes."""

    def __init__(self, src: BinaryIO, out: BinaryIO, wrote: Callable[[int], None]) -> None:
        self._src, self._out, self._wrote = src, out, wrote
        self._unsynced = 0

    def read(self, size: int = -1) -> bytes:
        if self._unsynced >= SYNC_EVERY:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._unsynced = 0
        data = self._src.read(size)
        self._unsynced += len(data)
        self._wrote(len(data))
        return data


@contextlib.contextmanager
def _tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed by this context manager)
    except FileNotFoundError:
        raise ArchiveError(f"Fichier introuvable : {path}.") from None
    except (tarfile.TarError, OSError):
        raise ArchiveError(
            f"{path.name} n'est pas une sauvegarde du logiciel (fichier illisible ou tronqué)."
        ) from None
    try:
        yield tar
    finally:
        tar.close()


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as written (not yet authenticated: see ``mac_ok``)."""
    with _tar(path) as tar:
        try:
            member = tar.next()
            if member is None or member.name != MANIFEST:
                raise ArchiveError(f"{path.name} n'est pas une sauvegarde du logiciel.")
            fh = tar.extractfile(member)
            data: dict[str, Any] = json.loads(fh.read() if fh else b"")
        except (tarfile.TarError, OSError, ValueError):
            raise ArchiveError(
                f"{path.name} n'est pas une sauvegarde du logiciel (fichier illisible ou tronqué)."
            ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError(f"{path.name} n'est pas une sauvegarde du logiciel (format inconnu).")
    return data


def _drop_cache(path: Path) -> None:
    # Read back from the device, not from the page cache just filled by the write.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def extract(
    path: Path,
    manifest: dict[str, Any],
    into: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, bytes]:
    """Read every member, checking its size and SHA-256 against the manifest.

    The database is written to ``into/centre.db`` when ``into`` is given (else only
    hashed); the small members are returned as bytes. Raises ArchiveError on a mismatch.
    """
    expected = {m["name"]: m for m in manifest.get("members", [])}
    if set(expected) != set(MEMBERS):
        raise ArchiveError(f"{path.name} : la liste des éléments de la sauvegarde est incomplète.")
    total = sum(int(m["size"]) for m in expected.values()) or 1
    done = 0
    small: dict[str, bytes] = {}
    seen: set[str] = set()
    _drop_cache(path)
    altered = f"{path.name} est altérée ou tronquée : {{}} ne correspond pas au manifeste."
    with _tar(path) as tar:
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or member.name in seen or not member.isfile():
                    raise ArchiveError(f"{path.name} contient un élément inattendu.")
                seen.add(member.name)
                fh = tar.extractfile(member)
                assert fh is not None
                digest = hashlib.sha256()
                size = 0
                out: BinaryIO | None = None
                buffer = io.BytesIO()
                if member.name == DATABASE and into is not None:
                    fd = os.open(into / DATABASE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    out = os.fdopen(fd, "wb")
                try:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        (out or buffer).write(chunk)
                        if out is not None and size % SYNC_EVERY < len(chunk):
                            out.flush()
                            os.fsync(out.fileno())
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
                    if out is not None:
                        out.flush()
                        os.fsync(out.fileno())
                finally:
                    if out is not None:
                        out.close()
                want = expected[member.name]
                if size != int(want["size"]) or digest.hexdigest() != want["sha256"]:
                    raise ArchiveError(altered.format(member.name))
                if member.name != DATABASE:
                    small[member.name] = buffer.getvalue()
        except (tarfile.TarError, OSError, EOFError):
            raise ArchiveError(
                f"{path.name} est illisible ou tronquée (lecture interrompue)."
            ) from None
    missing = set(MEMBERS) - seen
    if missing:
        raise ArchiveError(altered.format(sorted(missing)[0]))
    return small


def is_backup_name(name: str) -> bool:
    return name.endswith(SUFFIX) and not name.startswith(".")
