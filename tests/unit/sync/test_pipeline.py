"""The receiving pipeline: frames verified on one thread, written a few per transaction on
another; whatever stops a session, what was verified before it is written."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cms_desktop.domain.oplog import ChainError, OpEntry
from cms_desktop.sync.batch import BatchRejected, RejectReason, encode_batch
from cms_desktop.sync.memory_store import MemoryReplicaStore
from cms_desktop.sync.pipeline import BatchPipeline

from .factories import make_chain

SIGNER = Ed25519PrivateKey.generate()
KEYS = {"salle1": SIGNER.public_key()}


class Counting(MemoryReplicaStore):
    """Counts the write transactions (``apply_batch`` calls) and their sizes."""

    def __init__(self) -> None:
        super().__init__("ici", schema_version=1)
        self.writes: list[int] = []

    def apply_batch(self, origin: str, entries: Sequence[OpEntry], *args: object) -> None:
        self.writes.append(len(entries))
        super().apply_batch(origin, entries)


def frames(origin: str, count: int, size: int) -> list[bytes]:
    chain = make_chain(origin, count)
    return [encode_batch(chain[i : i + size], SIGNER, "salle1") for i in range(0, count, size)]


def source(items: Sequence[bytes | Exception]) -> Iterator[bytes | None]:
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item
    yield None


def run(store: Counting, items: Sequence[bytes | Exception], max_pending: int) -> BatchPipeline:
    pipeline = BatchPipeline(store, KEYS, max_pending=max_pending)
    pipeline.run(source(items).__next__)
    return pipeline


def test_consecutive_frames_of_one_origin_are_written_together() -> None:
    store = Counting()
    pipeline = run(store, frames("recep", 50, 10), max_pending=20)
    assert store.writes == [20, 20, 10]
    assert store.vector().seq("recep") == 50 and pipeline.written == 50


def test_another_origin_starts_another_transaction() -> None:
    store = Counting()
    run(store, frames("recep", 10, 5) + frames("salle2", 10, 5), max_pending=100)
    assert store.writes == [10, 10]
    assert store.vector().seq("recep") == 10 and store.vector().seq("salle2") == 10


def test_frames_verified_before_a_refused_one_are_written() -> None:
    good = frames("recep", 30, 10)
    forged = encode_batch(make_chain("recep", 40)[30:], Ed25519PrivateKey.generate(), "salle1")
    store = Counting()
    with pytest.raises(BatchRejected) as refused:
        run(store, [*good, forged], max_pending=1000)
    assert refused.value.reason is RejectReason.BAD_SIGNATURE
    assert store.vector().seq("recep") == 30


def test_frames_verified_before_a_cut_are_written_and_the_cut_goes_on() -> None:
    store = Counting()
    with pytest.raises(ConnectionError):
        run(store, [*frames("recep", 20, 10), ConnectionError("cut")], max_pending=1000)
    assert store.vector().seq("recep") == 20


def test_a_frame_that_does_not_follow_the_last_verified_one_is_refused() -> None:
    chain = make_chain("recep", 30)
    first = encode_batch(chain[:10], SIGNER, "salle1")
    gap = encode_batch(chain[20:], SIGNER, "salle1")  # entries 11..20 never sent
    store = Counting()
    with pytest.raises(BatchRejected) as refused:
        run(store, [first, gap], max_pending=1000)
    assert refused.value.reason is RejectReason.GAP
    assert store.vector().seq("recep") == 10


class FailingWrite(Counting):
    """A write that fails (a concurrent session's chain, a locked file)."""

    def apply_batch(self, origin: str, entries: Sequence[OpEntry], *args: object) -> None:
        raise ChainError("tip moved")


def test_after_a_failed_write_the_reading_thread_has_stopped_before_the_error_is_raised() -> None:
    """The caller sends ERROR on the connection next: no other thread may still read it."""
    more = threading.Event()
    reads: list[str] = []
    first = frames("recep", 10, 10)[0]

    def next_frame() -> bytes | None:
        reads.append("read")
        if len(reads) == 1:
            return first
        more.wait(5)  # the peer sends nothing more for a while: the read blocks
        return None

    pipeline = BatchPipeline(FailingWrite(), KEYS, max_pending=10)
    threading.Timer(1.5, more.set).start()  # what a cut connection would do
    with pytest.raises(ChainError):
        pipeline.run(next_frame)
    names = {thread.name for thread in threading.enumerate()}
    assert "cms-sync-verify" not in names
    assert pipeline.origin == "recep"


def test_a_refused_frame_is_reported_even_if_writing_the_frames_before_it_fails() -> None:
    good = frames("recep", 10, 10)
    forged = encode_batch(make_chain("salle2", 5), Ed25519PrivateKey.generate(), "salle1")
    pipeline = BatchPipeline(FailingWrite(), KEYS, max_pending=1000)
    with pytest.raises(BatchRejected) as refused:
        pipeline.run(source([*good, forged]).__next__)
    assert refused.value.reason is RejectReason.BAD_SIGNATURE
    assert pipeline.origin == "salle2"  # the refused frame's, for « historique divergé »


class Watching(Counting):
    """Notes whether Python's cyclic collector was on during each write."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.collector: list[bool] = []
        self.fail = fail

    def apply_batch(self, origin: str, entries: Sequence[OpEntry], *args: object) -> None:
        self.collector.append(gc.isenabled())
        if self.fail:
            raise OSError("disque plein")
        super().apply_batch(origin, entries, *args)


def test_the_collector_is_off_while_a_session_is_received_and_back_on_after() -> None:
    assert gc.isenabled()
    store = Watching()
    run(store, frames("recep", 30, 10), max_pending=10)
    assert store.collector == [False, False, False]
    assert gc.isenabled()
    failing = Watching(fail=True)
    with pytest.raises(OSError):
        run(failing, frames("recep", 30, 10), max_pending=10)
    assert failing.collector == [False] and gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        run(Watching(), frames("recep", 10, 10), max_pending=10)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_two_sessions_at_once_keep_the_collector_off_until_the_last_ends() -> None:
    inner_done = threading.Event()
    during: list[bool] = []

    class Nested(Counting):
        def apply_batch(self, origin: str, entries: Sequence[OpEntry], *args: object) -> None:
            if not inner_done.is_set():
                run(Counting(), frames("salle2", 10, 10), max_pending=10)  # another session
                inner_done.set()
                during.append(gc.isenabled())  # the other session ended, this one goes on
            super().apply_batch(origin, entries, *args)

    run(Nested(), frames("recep", 20, 10), max_pending=10)
    assert during == [False] and gc.isenabled()


def test_the_collector_is_back_on_while_the_session_waits_for_its_peer() -> None:
    # A slow link must not keep it off: only verifying and writing pause it.
    written = threading.Event()
    waiting_state: list[bool] = []

    class Signalling(Counting):
        def apply_batch(self, origin: str, entries: Sequence[OpEntry], *args: object) -> None:
            super().apply_batch(origin, entries, *args)
            written.set()

    first = frames("recep", 10, 10)[0]
    store = Signalling()
    pipeline = BatchPipeline(store, KEYS, max_pending=10)
    feed = iter([first])

    def next_frame() -> bytes | None:
        body = next(feed, None)
        if body is not None:
            return body
        # The peer is slow: the first transaction is written, the next frame not here yet.
        assert written.wait(10)
        deadline = time.monotonic() + 5
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        waiting_state.append(gc.isenabled())
        return None

    pipeline.run(next_frame)
    assert store.writes == [10]
    assert waiting_state == [True]
