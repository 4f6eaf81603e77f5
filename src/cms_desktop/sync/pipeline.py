"""Received batches: verified, then written a few frames per transaction.

Each frame is checked against the tip the previous one left (``decode_batch``); consecutive
frames of one origin are gathered up to ``MAX_PENDING_ENTRIES``, the store prepares what it
can of their writing without the database (``prepare_batch``: statement parameters), then
writes them in one transaction (``apply_batch``, which checks the links against the store
again). The transport runs it on the frames of a session; the merge benchmark runs it on
frames from memory, so both measure the same path.

Two threads, taking turns (``run``). Sessions 4 and 5 verified frame n+1 on a second thread
while the first wrote frame n, and it was 5–15 % *slower* than doing both in turn: SQLCipher
gives the GIL back around every row it writes, and each time the writing thread then waited
for the verifying one to hand it back. Here the verifying thread reads and verifies only
while the writing thread runs no Python: while it waits for a verified frame, and while its
transaction COMMITs (``apply_batch``'s ``committing`` event), which writes every page of the
transaction encrypted with the GIL released (about a sixth of a receiving station's time,
py-spy, session 10). Verification (another sixth) thus mostly overlaps the commits.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cms_desktop.domain.oplog import OpEntry
from cms_desktop.sync.batch import BatchRejected, decode_batch, read_header
from cms_desktop.sync.replica import ReplicaStore

# Entries written per transaction: consecutive frames of one origin are written together.
# Fewer commits write fewer pages twice (the right edge of each index); 4,000 entries hold
# the write lock about 0.2 s, which a save on the same station waits at most (its busy
# timeout is seconds).
MAX_PENDING_ENTRIES = 4000
_AHEAD = 8  # frames verified ahead of the writer at most (8 MiB at most in memory)

NextFrame = Callable[[], bytes | None]
"""The next frame body of the session, or None at its end; raises on a cut or an error."""


class _Verified:
    __slots__ = ("entries", "origin")

    def __init__(self, origin: str, entries: list[OpEntry]) -> None:
        self.origin = origin
        self.entries = entries


class BatchPipeline:
    """``run`` it on the frames of one session (or ``feed`` them one by one, then
    ``finish``)."""

    def __init__(
        self,
        store: ReplicaStore,
        keys: Mapping[str, Ed25519PublicKey],
        max_pending: int = MAX_PENDING_ENTRIES,
    ) -> None:
        self.store = store
        self.keys = keys
        self.max_pending = max_pending
        self.received = 0  # entries verified
        self.written = 0  # entries handed to the store and written
        self.origin = ""  # origin of the last frame verified (for error messages)
        self._pending: list[OpEntry] = []  # verified, not written yet; all of one origin
        self._pending_origin = ""
        # The verifier's view of each origin's tip: what the store held when the origin's
        # first frame came, then the last entry verified.
        self._tips: dict[str, tuple[int, str]] = {}
        self._idle = threading.Event()  # the writing thread runs no Python now

    # --- one thread ---------------------------------------------------------------------

    def feed(self, body: bytes) -> int:
        """Verify one frame (raises ``BatchRejected``: nothing of that frame written, the
        frames before it are) and write what is pending once there is enough of it (raises
        what writing raised). Returns how many entries the frame brought."""
        try:
            verified = self._verify(body)
        except BatchRejected:
            self.flush()  # the frames before a refused one stay written
            raise
        self._take(verified)
        return len(verified.entries)

    def flush(self) -> None:
        """Write the verified entries not written yet (one transaction)."""
        pending, self._pending = self._pending, []
        if pending:
            try:
                self.store.apply_batch(
                    self._pending_origin, pending, self.store.prepare_batch(pending), self._idle
                )
            except Exception:
                self.origin = self._pending_origin  # the origin the error is about
                raise
            self.written += len(pending)

    finish = flush  # at the end of a session's frames

    # --- two threads ----------------------------------------------------------------------

    def run(self, next_frame: NextFrame) -> None:
        """Verify and write every frame ``next_frame`` gives until it gives None.

        A second thread reads and verifies, while this one writes. Whatever stops the
        session (a refused frame, a cut, a write that fails), the frames verified before it
        are written, then the error is raised here."""
        ready: queue.Queue[_Verified | BaseException | None] = queue.Queue(_AHEAD)
        stop = threading.Event()

        def verify_all() -> None:
            try:
                while not stop.is_set():
                    body = next_frame()
                    if body is None:
                        ready.put(None)
                        return
                    self._idle.wait()  # the writer is waiting or committing
                    ready.put(self._verify(body))
            except BaseException as exc:  # handed to the writing thread, raised there
                ready.put(exc)

        verifier = threading.Thread(target=verify_all, name="cms-sync-verify", daemon=True)
        verifier.start()
        try:
            while True:
                self._idle.set()
                item = ready.get()
                self._idle.clear()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    self.flush()  # what was verified before the error stays written
                    raise item
                self._take(item)
            self.flush()
        finally:
            stop.set()
            self._idle.set()  # never leave the verifier waiting
            # Unblock a verifier stuck on a full queue. One still reading (the writer
            # failed while the peer sends) stops at its next frame or when the session
            # closes the connection; it is not waited for longer.
            deadline = time.monotonic() + 1.0
            while verifier.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    ready.get(timeout=0.05)

    # --- both -----------------------------------------------------------------------------

    def _verify(self, body: bytes) -> _Verified:
        origin = str(read_header(body)["origin"])
        self.origin = origin
        tip = self._tips.get(origin)
        if tip is None:
            tip = self.store.chain_tip(origin)
        entries = decode_batch(body, self.keys, tip[0], tip[1])
        if entries:
            self._tips[origin] = (entries[-1].seq, entries[-1].hash)
        self.received += len(entries)
        return _Verified(origin, entries)

    def _take(self, verified: _Verified) -> None:
        if self._pending and verified.origin != self._pending_origin:
            self.flush()
        if not verified.entries:
            return
        self._pending_origin = verified.origin
        self._pending.extend(verified.entries)
        if len(self._pending) >= self.max_pending:
            self.flush()
