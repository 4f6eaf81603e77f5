"""Received batches, verified and written in two overlapping stages.

While one batch is being written (SQLCipher releases the GIL while it encrypts and writes
pages), the next one is read and verified against the tip the previous one will leave.
``apply_batch`` checks the links against the store again, so a wrong guess can only refuse
a batch, never apply one out of order. The transport feeds it the frames of a session; the
merge benchmark feeds it frames from memory, so both measure the same path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cms_desktop.sync.batch import decode_batch, read_header
from cms_desktop.sync.replica import ReplicaStore


class BatchPipeline:
    """Use as a context manager; ``feed`` each frame body, then ``finish``."""

    def __init__(self, store: ReplicaStore, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.store = store
        self.keys = keys
        self.received = 0  # entries verified and handed to the writer
        self.origin = ""  # origin of the last frame fed (for error messages)
        self._tips: dict[str, tuple[int, str]] = {}
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sync-apply")
        self._writing: Future[None] | None = None

    def feed(self, body: bytes) -> int:
        """Verify one frame (raises ``BatchRejected``) and queue it for writing once the
        previous one is written (raises what writing the previous one raised)."""
        self.origin = str(read_header(body)["origin"])
        last_seq, last_hash = self._tips.get(self.origin) or self.store.chain_tip(self.origin)
        entries = decode_batch(body, self.keys, last_seq, last_hash)
        if entries:
            self._tips[self.origin] = (entries[-1].seq, entries[-1].hash)
            self._wait()
            self._writing = self._writer.submit(self.store.apply_batch, self.origin, entries)
        self.received += len(entries)
        return len(entries)

    def finish(self) -> None:
        """Wait for the last batch to be written; raises what writing it raised."""
        self._wait()

    def keep_written(self) -> None:
        """After a rejected frame: let the good batch before it finish, errors ignored."""
        with contextlib.suppress(Exception):
            self._wait()

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def __enter__(self) -> BatchPipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.keep_written()
        self._writer.shutdown(wait=True)
