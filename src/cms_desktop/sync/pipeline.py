"""Received batches: verified, then written a few frames per transaction.

Each frame is checked against the tip the previous one left (``decode_batch``); consecutive
frames of one origin are gathered up to ``MAX_PENDING_ENTRIES``, the store prepares what it
can of their writing without the database (``prepare_batch``: statement parameters; on the
verifying thread since session 13), then writes them in one transaction (``apply_batch``,
which checks the links against the store again). The transport runs it on the frames of a
session; the merge benchmark runs it on frames from memory, so both measure the same path.

Two threads, taking turns (``run``). Sessions 4 and 5 verified frame n+1 on a second thread
while the first wrote frame n, and it was 5–15 % *slower* than doing both in turn: SQLCipher
gives the GIL back around every row it writes, and each time the writing thread then waited
for the verifying one to hand it back. Here the verifying thread reads and verifies only
while the writing thread runs no Python: while it waits for a verified frame, and while its
transaction COMMITs (``apply_batch``'s ``committing`` event), which writes every page of the
transaction encrypted with the GIL released (about a sixth of a receiving station's time,
py-spy, session 10), and while it reads new insert-only rows out of the op-log (one long
statement, ``Merger._from_op_log``). Verification (another sixth) thus overlaps them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cms_desktop.domain.oplog import OpEntry
from cms_desktop.sync.batch import decode_batch, read_header
from cms_desktop.sync.replica import ReplicaStore

# Entries written per transaction: consecutive frames of one origin are written together.
# Fewer commits write fewer pages twice (the right edge of each index); 4,000 entries hold
# the write lock about 0.2 s, which a save on the same station waits at most (its busy
# timeout is seconds).
MAX_PENDING_ENTRIES = 4000
# Transactions verified ahead of the writer at most. With the one being written and the one
# being gathered, the entries of 16 frames (1 MiB each on the wire) are held at most.
_AHEAD = 2

log = logging.getLogger(__name__)

_gc_lock = threading.Lock()
_gc_pausers = 0  # sessions running now
_gc_resume = False  # whether the collector was on when the first of them started


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a frame is verified or a transaction
    written (not while a session waits for its peer: a slow link must not keep it off).

    Decoding a batch makes hundreds of thousands of small objects, which set off the
    collector again and again; each of its passes walks every live object of the process
    (the whole window's, in the application): 8 % of a merge's time (py-spy, session 13).
    A merge makes almost no cyclic garbage (220 objects for 20,000 entries, measured):
    reference counting frees the rest as before, and the collector, back on afterwards,
    takes those few. Both threads of a session, and sessions running at once, share the
    pause; the last one out ends it, unless the collector was off before."""
    global _gc_pausers, _gc_resume
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_resume:
                gc.enable()


NextFrame = Callable[[], bytes | None]
"""The next frame body of the session, or None at its end; raises on a cut or an error."""


class _Batch:
    """Verified entries of one origin, to be written in one transaction, and what the store
    prepared of their writing (``ReplicaStore.prepare_batch``)."""

    __slots__ = ("before_failure", "entries", "origin", "prepared")

    def __init__(
        self, origin: str, entries: list[OpEntry], prepared: object, before_failure: bool
    ) -> None:
        self.origin = origin
        self.entries = entries
        self.prepared = prepared
        # The last entries verified before what stopped the session (a refused frame…).
        self.before_failure = before_failure


class _Failed:
    """What stopped the verifying thread, and the origin of the frame it was on."""

    __slots__ = ("error", "origin")

    def __init__(self, error: BaseException, origin: str) -> None:
        self.error = error
        self.origin = origin


class BatchPipeline:
    """``run`` it on the frames of one session."""

    def __init__(
        self,
        store: ReplicaStore,
        keys: Mapping[str, Ed25519PublicKey],
        max_pending: int = MAX_PENDING_ENTRIES,
    ) -> None:
        self.store = store
        self.keys = keys
        self.max_pending = max_pending
        self.written = 0  # entries handed to the store and written
        # The origin an error is about (a refused frame's, or the one whose write failed);
        # set on the writing thread only.
        self.origin = ""
        # Verifying thread only: entries verified, not handed over yet (all of one origin).
        self._pending: list[OpEntry] = []
        self._pending_origin = ""
        # The verifier's view of each origin's tip: what the store held when the origin's
        # first frame came, then the last entry verified.
        self._tips: dict[str, tuple[int, str]] = {}
        self._idle = threading.Event()  # the writing thread runs no Python now

    def run(self, next_frame: NextFrame) -> None:
        """Verify and write every frame ``next_frame`` gives until it gives None.

        A second thread reads, verifies, gathers and prepares, while this one writes.
        Whatever stops the session (a refused frame, a cut, a write that fails), the frames
        verified before it are written, then the error is raised here, once the second
        thread has stopped reading (two threads must never use one TLS connection at once:
        the caller sends ERROR on it next). After a failed write, that thread stops at the
        end of the frame it is reading; a peer that sends nothing more holds it until the
        connection times out or is cut (``SyncClient.abort_all``)."""
        ready: queue.Queue[_Batch | _Failed | None] = queue.Queue(_AHEAD)
        stop = threading.Event()

        def verify_all() -> None:
            origin = ""
            try:
                while not stop.is_set():
                    body = next_frame()
                    if body is None:
                        self._hand_over(ready)
                        ready.put(None)
                        return
                    self._idle.wait()  # the writer is waiting or committing
                    if stop.is_set():
                        return
                    origin = str(read_header(body)["origin"])
                    with collector_paused():
                        entries = self._verify(origin, body)
                        self._gather(origin, entries, ready)
            except BaseException as exc:  # handed to the writing thread, raised there
                with contextlib.suppress(Exception):
                    self._hand_over(ready, before_failure=True)  # written before it is raised
                ready.put(_Failed(exc, origin))

        verifier = threading.Thread(target=verify_all, name="cms-sync-verify", daemon=True)
        verifier.start()
        try:
            while True:
                self._idle.set()
                item = ready.get()
                self._idle.clear()
                if item is None:
                    break
                if isinstance(item, _Failed):
                    self.origin = item.origin
                    raise item.error
                with collector_paused():
                    self._write(item)
        finally:
            stop.set()
            self._idle.set()  # never leave the verifier waiting
            while verifier.is_alive():  # unblock it if it waits on a full queue
                with contextlib.suppress(queue.Empty):
                    ready.get(timeout=0.05)

    def _write(self, batch: _Batch) -> None:
        """Writing thread: one transaction. The entries verified before a failure are
        written if they can be: the failure that follows is the error raised, even if this
        write fails too (a refused frame must still be reported as refused)."""
        self.origin = batch.origin  # the origin an error would be about
        try:
            self.store.apply_batch(batch.origin, batch.entries, batch.prepared, self._idle)
        except Exception as exc:
            if not batch.before_failure:
                raise
            log.warning("sync: frames before a refused one not written (%s)", type(exc).__name__)
            return
        self.written += len(batch.entries)

    def _verify(self, origin: str, body: bytes) -> list[OpEntry]:
        """Verifying thread: check a frame against the tip the previous one left."""
        tip = self._tips.get(origin)
        if tip is None:
            tip = self.store.chain_tip(origin)
        entries = decode_batch(body, self.keys, tip[0], tip[1])
        if entries:
            self._tips[origin] = (entries[-1].seq, entries[-1].hash)
        return entries

    def _gather(
        self, origin: str, entries: list[OpEntry], ready: queue.Queue[_Batch | _Failed | None]
    ) -> None:
        """Verifying thread: consecutive frames of one origin make one transaction, of
        ``max_pending`` entries at most."""
        if self._pending and origin != self._pending_origin:
            self._hand_over(ready)
        if not entries:
            return
        self._pending_origin = origin
        self._pending.extend(entries)
        if len(self._pending) >= self.max_pending:
            self._hand_over(ready)

    def _hand_over(
        self, ready: queue.Queue[_Batch | _Failed | None], before_failure: bool = False
    ) -> None:
        """Verifying thread: prepare the gathered entries and queue them for writing. The
        preparing (statement parameters, no database) thus runs while the writer commits."""
        pending, self._pending = self._pending, []
        if pending:
            prepared = self.store.prepare_batch(pending)
            ready.put(_Batch(self._pending_origin, pending, prepared, before_failure))
