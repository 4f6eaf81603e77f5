"""Document content by hash, in resumable chunks, visible only once verified (invariant 10)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from cms_desktop.sync.blobs import BlobStore, MemoryBlobStore, fetch_missing


def source_of(store: MemoryBlobStore, cut_after: int | None = None, corrupt: bool = False):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def read(sha: str, index: int) -> tuple[bytes, int] | None:
        calls["n"] += 1
        if cut_after is not None and calls["n"] > cut_after:
            raise OSError("link down")
        chunk = store.read_chunk(sha, index)
        if chunk is None:
            return None
        if corrupt and index == 0:
            chunk = b"X" + chunk[1:]
        return chunk, store.total_chunks(sha)

    return read


def test_memory_store_is_a_blob_store() -> None:
    assert isinstance(MemoryBlobStore(), BlobStore)


@settings(max_examples=30, deadline=None)
@given(data=st.binary(min_size=0, max_size=5000), cut=st.integers(1, 6))
def test_a_cut_transfer_resumes_and_completes(data: bytes, cut: int) -> None:
    remote, local = MemoryBlobStore(chunk_size=512), MemoryBlobStore(chunk_size=512)
    sha = remote.put(data)
    local.want(sha)
    first = fetch_missing(local, source_of(remote, cut_after=cut))
    if sha not in first.completed:
        assert local.content(sha) is None  # nothing visible while incomplete
        resumed_from = local.next_index(sha)
        calls_needed = remote.total_chunks(sha) - resumed_from
        report = fetch_missing(local, source_of(remote, cut_after=calls_needed))
        assert report.completed == [sha]
    assert local.content(sha) == data
    assert local.missing() == []


def test_content_not_matching_its_hash_is_never_shown() -> None:
    remote, local = MemoryBlobStore(chunk_size=4), MemoryBlobStore(chunk_size=4)
    sha = remote.put(b"ordonnance-123")
    local.want(sha)
    report = fetch_missing(local, source_of(remote, corrupt=True))
    assert report.incomplete == [sha]
    assert local.content(sha) is None
    assert local.missing() == [sha]
    assert fetch_missing(local, source_of(remote)).completed == [sha]
    assert local.content(sha) == b"ordonnance-123"
    assert hashlib.sha256(local.content(sha) or b"").hexdigest() == sha
