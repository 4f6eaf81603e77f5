"""Which processes have a data directory's store open, so that an in-place restore can
refuse while the application, ``sync serve`` or another command uses it.

The same mechanism as the sync service's one-per-station lock (``filelock``, an OS lock
released when its process ends, even by kill -9), but one lock file per open store: several
processes may use a station at once (the application and ``sync serve``), and a restore
must see any of them. A lock file whose lock can be taken belongs to a process that ended:
it is removed.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from filelock import FileLock, Timeout

FOLDER = ".en-service"


class InUseLock:
    """Held from a store's opening to its closing."""

    def __init__(self, data_dir: Path) -> None:
        folder = data_dir / FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / f"{secrets.token_hex(8)}.lock"
        self._lock: FileLock | None = FileLock(str(self.path), timeout=0, thread_local=False)
        self._lock.acquire()

    def release(self) -> None:
        if self._lock is None:
            return
        self._lock.release()
        self._lock = None
        with contextlib.suppress(OSError):
            self.path.unlink()


def hold(data_dir: Path) -> InUseLock | None:
    """Mark the directory as in use; None when it cannot be marked (read-only media):
    the store still opens, an in-place restore just cannot see this process."""
    try:
        return InUseLock(data_dir)
    except (OSError, Timeout):
        return None


def users(data_dir: Path, ignore: InUseLock | None = None) -> int:
    """How many open stores (of any process) use ``data_dir`` now, ``ignore`` left out."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return 0
    count = 0
    for path in folder.glob("*.lock"):
        if ignore is not None and path == ignore.path:
            continue
        lock = FileLock(str(path), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            count += 1
            continue
        except OSError:
            continue
        lock.release()
        with contextlib.suppress(OSError):
            path.unlink()  # its process ended without closing the store
    return count
