"""Received batches: verified, prepared and written one after the other.

Each frame is checked against the tip the previous one left (``decode_batch``), the store
prepares what it can of its writing without the database (``prepare_batch``: statement
parameters), then writes it (``apply_batch``, which checks the links against the store
again). The transport feeds it the frames of a session; the merge benchmark feeds it frames
from memory, so both measure the same path.

Why on the calling thread: sessions 4 and 5 verified frame n+1 on this thread while a
second thread wrote frame n. Measured, that was 5–15 % *slower* than doing both in turn:
SQLCipher gives the GIL back during every row it writes, and each time the writing thread
then waited for the verifying one to give it back (docs/DECISIONS.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cms_desktop.sync.batch import decode_batch, read_header
from cms_desktop.sync.replica import ReplicaStore


class BatchPipeline:
    """``feed`` it the frame bodies of one session, in order."""

    def __init__(self, store: ReplicaStore, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.store = store
        self.keys = keys
        self.received = 0  # entries verified and written
        self.origin = ""  # origin of the last frame fed (for error messages)

    def feed(self, body: bytes) -> int:
        """Verify one frame (raises ``BatchRejected``, nothing written) and write it
        (raises what writing raised; the frames before it stay written)."""
        self.origin = str(read_header(body)["origin"])
        last_seq, last_hash = self.store.chain_tip(self.origin)
        entries = decode_batch(body, self.keys, last_seq, last_hash)
        if entries:
            self.store.apply_batch(self.origin, entries, self.store.prepare_batch(entries))
        self.received += len(entries)
        return len(entries)
