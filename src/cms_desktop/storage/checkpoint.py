"""Copying the write-ahead log back into the database file, off the writers' threads.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, so that
one commit (a doctor's save, or a sync batch) also pays for copying and syncing every
page written since the last one: on SQLCipher that was half of a sync batch's write time.
Here each commit only appends to the WAL; a thread of the store copies the WAL into the
file a moment after writes (PASSIVE: it never blocks a reader or a writer). SQLite's own
automatic checkpoint stays as a backstop at a much higher threshold
(``engine.WAL_AUTOCHECKPOINT_PAGES``), for a process whose checkpointer is not running.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class Checkpointer:
    """One per open store; ``poke()`` after each committed write."""

    def __init__(self, engine: Engine, *, delay_s: float = 0.25) -> None:
        self._engine = engine
        self._delay_s = delay_s
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cms-checkpoint", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def poke(self) -> None:
        self._pending.set()

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint now: (busy, frames in the WAL, frames copied)."""
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                row = cursor.fetchone()
                busy, frames, copied = row if row is not None else (0, 0, 0)
            finally:
                cursor.close()
        finally:
            raw.close()
        return int(busy), int(frames), int(copied)

    def stop(self) -> None:
        self._stopping.set()
        self._pending.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._pending.wait()
            if self._stopping.is_set():
                return
            # Let a burst of commits (a catch-up, an import) finish appending first.
            if self._stopping.wait(self._delay_s):
                return
            self._pending.clear()
            try:
                self.checkpoint()
            except Exception as exc:
                log.warning("checkpoint skipped: %s", type(exc).__name__)
