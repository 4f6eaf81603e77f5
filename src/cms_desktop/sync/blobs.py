"""Document content moves by SHA-256 in resumable chunks; it appears only once verified.

Metadata rows replicate as insert-only entries; the content is fetched afterwards through a
``BlobStore`` (the storage layer's encrypted file store implements it). A transfer cut in
the middle resumes at the first missing chunk; content whose hash does not match is dropped
and fetched again, never shown.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cms_desktop.sync.errors import ContentRejected

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024


@runtime_checkable
class BlobStore(Protocol):
    def missing(self) -> list[str]:
        """Hashes referenced by metadata here whose verified content is not held yet."""
        ...

    def read_chunk(self, sha: str, index: int) -> bytes | None:
        """Chunk ``index`` of a complete, verified content, or None if not held."""
        ...

    def write_chunk(self, sha: str, index: int, data: bytes, total: int) -> bool:
        """Store a chunk; when all ``total`` chunks are in, verify and publish.

        Returns True once the content is complete and verified. May raise
        ``ContentRejected`` for a refused chunk or a whole that fails its hash check."""
        ...

    def write_chunks(self, sha: str, chunks: list[tuple[int, bytes]], total: int) -> bool:
        """``write_chunk`` for several chunks at once (one transaction on a real store)."""
        ...

    def next_index(self, sha: str) -> int:
        """First chunk still missing (0 if nothing held): where a transfer resumes."""
        ...

    def total_chunks(self, sha: str) -> int | None:
        """How many chunks a held, complete content has; None if not held."""
        ...


ChunkSource = Callable[[str, int], tuple[bytes, int] | None]
"""(sha, index) → (chunk, total chunks) from a peer, or None if the peer lacks it."""


class MemoryBlobStore:
    """In-memory BlobStore for tests and as the reference behaviour."""

    def __init__(self, chunk_size: int = CHUNK_SIZE) -> None:
        self.chunk_size = chunk_size
        self._complete: dict[str, bytes] = {}
        self._partial: dict[str, dict[int, bytes]] = {}
        self._wanted: set[str] = set()
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._complete[sha] = data
        return sha

    def want(self, sha: str) -> None:
        """Metadata naming ``sha`` arrived: its content should be fetched."""
        with self._lock:
            if sha not in self._complete:
                self._wanted.add(sha)

    def content(self, sha: str) -> bytes | None:
        with self._lock:
            return self._complete.get(sha)

    def total_chunks(self, sha: str) -> int | None:
        with self._lock:
            data = self._complete.get(sha)
        return None if data is None else max(1, -(-len(data) // self.chunk_size))

    def missing(self) -> list[str]:
        with self._lock:
            return sorted(self._wanted - set(self._complete))

    def read_chunk(self, sha: str, index: int) -> bytes | None:
        with self._lock:
            data = self._complete.get(sha)
        if data is None or index >= max(1, -(-len(data) // self.chunk_size)):
            return None
        return data[index * self.chunk_size : (index + 1) * self.chunk_size]

    def next_index(self, sha: str) -> int:
        with self._lock:
            parts = self._partial.get(sha, {})
        index = 0
        while index in parts:
            index += 1
        return index

    def write_chunk(self, sha: str, index: int, data: bytes, total: int) -> bool:
        with self._lock:
            parts = self._partial.setdefault(sha, {})
            parts[index] = data
            if len(parts) < total:
                return False
            content = b"".join(parts[i] for i in range(total))
            del self._partial[sha]
            if hashlib.sha256(content).hexdigest() != sha:
                log.warning("sync: document content %s… failed its hash check", sha[:12])
                return False
            self._complete[sha] = content
            self._wanted.discard(sha)
            return True

    def write_chunks(self, sha: str, chunks: list[tuple[int, bytes]], total: int) -> bool:
        done = False
        for index, data in chunks:
            done = self.write_chunk(sha, index, data, total)
            if done:
                break
        return done


@dataclass(frozen=True)
class FetchReport:
    completed: list[str]
    incomplete: list[str]


def fetch_missing(local: BlobStore, source: ChunkSource) -> FetchReport:
    """Fetch every missing content from ``source``, resuming where earlier attempts stopped.

    A source that fails (raises OSError) leaves what was received in place for next time.
    """
    completed: list[str] = []
    incomplete: list[str] = []
    for sha in local.missing():
        index = local.next_index(sha)
        try:
            while True:
                got = source(sha, index)
                if got is None:
                    incomplete.append(sha)
                    break
                data, total = got
                if local.write_chunk(sha, index, data, total):
                    completed.append(sha)
                    break
                index += 1
                if index >= total:  # all chunks in but the hash check failed: start over
                    incomplete.append(sha)
                    break
        except (OSError, ContentRejected):
            incomplete.append(sha)
    return FetchReport(completed, incomplete)
