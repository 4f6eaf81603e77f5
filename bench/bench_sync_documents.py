"""Benchmark of document content over sync (SYNC.md target; figures, not tests).

Target: « a 20 MB document transferred at the speed of the link, resumed after a cut ».

Run: ``PYTHONPATH=src python bench/bench_sync_documents.py [--quick] [--size-mb N]``

1. baseline: raw throughput of the same volume over a mutual-TLS 1.3 loopback socket with
   the same station certificates, in chunks of the sync chunk size; streamed, and one
   request per chunk (the sync protocol asks for each chunk in turn);
2. sync: a document (patient, author, metadata row and content, as
   ``services.documents.import_document`` stores them) moved from station A to station B by
   ``SyncClient.sync_with`` with ``DbBlobStore`` on both sides; content read back on B and
   compared by SHA-256;
3. resume: the transfer of a second document is cut after about half its chunks, then
   resumed; chunks served before and after, and the time of the resumed part;
4. the transfer of a third document with station A serving from its own process, as two
   PCs on the LAN are (1 to 3 share one interpreter).

In 1 to 3 both stations run in this process (server thread + client), so CPU seconds are printed next
to wall times: on a shared machine the wall time mostly measures the wait for a core, while
MB per CPU-second compares the sync with the baseline whatever the load.

Both stores are encrypted SQLCipher files in a temporary directory; names are synthetic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench_sync_db import members, station_in_own_process

from cms_desktop.domain.documents import DocumentKind, detect_mime_type
from cms_desktop.domain.permissions import Role
from cms_desktop.storage import audit
from cms_desktop.storage import blobs as storage_blobs
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Document, Patient, User
from cms_desktop.storage.store import Store
from cms_desktop.sync import blobs as sync_blobs
from cms_desktop.sync import identity
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pki import (
    StationCredentials,
    client_context,
    create_site_ca,
    issue_station_certificate,
    server_context,
)
from cms_desktop.sync.transport import SyncClient, SyncPeerServer, no_delay

KEY = secrets.token_bytes(32)
CHUNK = storage_blobs.CHUNK_SIZE  # what DbBlobStore.read_chunk hands to the transport
MB = 1_000_000
assert CHUNK == sync_blobs.CHUNK_SIZE


# --- stations --------------------------------------------------------------------------


def open_store(root: Path, name: str) -> Store:
    path = root / name
    path.mkdir()
    return Store.open(DataDir(path), KEY)


def credentials(store: Store, ca: tuple[bytes, bytes], name: str) -> StationCredentials:
    cert, key = issue_station_certificate(ca[0], ca[1], store.station_id, name)
    with store.write() as session:
        identity.save_identity(session, store.station_id, name, cert, key, ca[0], ca[1])
    return StationCredentials(store.station_id, cert, key, ca[0])


def pdf_bytes(size: int, seed: int) -> bytes:
    head = b"%PDF-1.4\n"
    return head + random.Random(seed).randbytes(size - len(head))


def add_author(store: Store) -> str:
    with store.write() as session:
        # No usable password: the account only signs the document as its author.
        user = User(login="bench", full_name="BENCH", role=Role.DOCTOR.value, password_hash="-")
        session.add(user)
    return user.id


def import_document(store: Store, author_id: str, data: bytes) -> str:
    """What ``documents.import_document`` stores (without a logged-in workspace). A
    clinical document is stored sealed (#17), a few dozen bytes longer than its content;
    the transfer moves the stored bytes either way, so random bytes stand for both."""
    mime = detect_mime_type("bench.pdf", data)
    with store.write() as session:
        patient = Patient(
            birth_name="BENCH", first_given_name="Alex", birth_date=dt.date(1990, 5, 6), sex="M"
        )
        session.add(patient)
        session.flush()
        sha = storage_blobs.put_blob(session, data)
        doc = Document(
            patient_id=patient.id,
            sha256=sha,
            kind=DocumentKind.HOSPITAL_LETTER.value,
            title="Compte rendu BENCH",
            document_date=dt.date(2024, 3, 1),
            author_id=author_id,
            mime_type=mime,
            size=len(data),
            original_filename="bench.pdf",
        )
        session.add(doc)
        session.flush()
        audit.append(
            session,
            store.station_id,
            "document_imported",
            user_id=author_id,
            target_type="document",
            target_id=doc.id,
            details={"patient_id": patient.id, "sha256": sha, "kind": doc.kind},
        )
    return sha


def read_back(store: Store, sha: str) -> bytes | None:
    with store.read() as session:
        try:
            return storage_blobs.get_blob(session, sha)  # checks the hash itself too
        except storage_blobs.BlobError:
            return None


def arrived_intact(store: Store, sha: str, data: bytes) -> bool:
    """The content is on ``store`` and is byte for byte what was imported on the other."""
    got = read_back(store, sha)
    return got is not None and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def held(store: Store, sha: str) -> list[int]:
    with store.read() as session:
        return storage_blobs.held_chunks(session, sha)


# --- 1. baseline -----------------------------------------------------------------------


def baseline(
    creds_a: StationCredentials, creds_b: StationCredentials, size: int
) -> dict[str, tuple[float, float]]:
    """MB/s of ``size`` bytes A→B over mutual TLS 1.3 on loopback, ``CHUNK`` per send.

    ``stream``: A sends everything in a row; ``per_chunk``: B asks for each chunk in turn
    (a small request, then the chunk), as the sync protocol does."""
    payload = secrets.token_bytes(CHUNK)
    chunks = -(-size // CHUNK)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server_ctx, client_ctx = server_context(creds_a), client_context(creds_b)

    def serve() -> None:
        for mode in ("stream", "per_chunk"):
            conn, _ = listener.accept()
            no_delay(conn)  # as the sync transport does
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                recv_exact(tls, 1)  # go
                for _ in range(chunks):
                    if mode == "per_chunk":
                        recv_exact(tls, 32)
                    tls.sendall(payload)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    rates = {}
    for mode in ("stream", "per_chunk"):
        with (
            no_delay(socket.create_connection(("127.0.0.1", port))) as raw,
            client_ctx.wrap_socket(raw) as tls,
        ):
            assert tls.version() == "TLSv1.3"
            start, cpu = time.perf_counter(), time.process_time()
            tls.sendall(b"g")
            for _ in range(chunks):
                if mode == "per_chunk":
                    tls.sendall(b"r" * 32)
                recv_exact(tls, CHUNK)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            rates[mode] = (chunks * CHUNK / elapsed / MB, cpu)
    thread.join(10)
    listener.close()
    return rates


def recv_exact(sock: socket.socket, size: int) -> None:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise ConnectionError("closed")
        got += count


# --- 2 and 3. sync -----------------------------------------------------------------------


class CutAfter(DbBlobStore):
    """Serves ``limit`` chunks, then the connection drops (as a cable pulled out)."""

    def __init__(self, store: Store, limit: int | None) -> None:
        super().__init__(store)
        self.limit = limit
        self.served: list[int] = []

    def read_chunk(self, sha: str, index: int) -> bytes | None:
        if self.limit is not None and len(self.served) >= self.limit:
            raise OSError("cut")
        self.served.append(index)
        return super().read_chunk(sha, index)


@dataclass
class Stations:
    a: Store
    b: Store
    creds_a: StationCredentials
    creds_b: StationCredentials

    def pass_b(self, source: DbBlobStore) -> tuple[float, float, int, int]:
        """One sync session of B with A (A serves ``source``).

        Returns (wall seconds, CPU seconds of both stations, blobs fetched, blobs pending)."""
        server = SyncPeerServer(
            DbReplicaStore(self.a), self.creds_a, host="127.0.0.1", timeout_s=30, blobs=source
        ).start()
        client = SyncClient(
            DbReplicaStore(self.b), self.creds_b, timeout_s=30, blobs=DbBlobStore(self.b)
        )
        try:
            start, cpu = time.perf_counter(), time.process_time()
            report = client.sync_with("127.0.0.1", server.address[1])
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            return elapsed, cpu, report.blobs_fetched, report.blobs_pending
        finally:
            server.stop()


def bench_sync(st: Stations, author: str, size: int, base: float) -> None:
    data = pdf_bytes(size, seed=1)
    sha = import_document(st.a, author, data)
    elapsed, cpu, fetched, pending = st.pass_b(DbBlobStore(st.a))
    same = arrived_intact(st.b, sha, data)
    rate = size / elapsed / MB
    print(
        f"sync A→B (SyncClient.sync_with, DbBlobStore both sides): {size / MB:.1f} MB "
        f"in {elapsed:.2f} s = {rate:.1f} MB/s, {rate / base:.0%} of the streamed baseline; "
        f"CPU {cpu:.2f} s (both stations) = {size / cpu / MB:.0f} MB per CPU-second, "
        f"{cpu * 1000 / -(-size // CHUNK):.1f} ms per chunk; fetched {fetched}, pending {pending}"
    )
    print(f"  content read back on B: SHA-256 {'identical' if same else 'DIFFERENT'}")


def bench_resume(st: Stations, author: str, size: int) -> None:
    data = pdf_bytes(size, seed=2)
    sha = import_document(st.a, author, data)
    total = -(-size // CHUNK)
    cut = CutAfter(st.a, limit=total // 2)
    start = time.perf_counter()
    try:
        st.pass_b(cut)
        outcome = "not cut?"
    except SyncError as exc:
        outcome = type(exc).__name__
    first = time.perf_counter() - start
    kept = held(st.b, sha)
    visible = read_back(st.b, sha) is not None
    resumed = CutAfter(st.a, limit=None)
    elapsed, cpu, fetched, pending = st.pass_b(resumed)
    again = sorted(set(cut.served) & set(resumed.served))
    same = arrived_intact(st.b, sha, data)
    part = len(resumed.served) * CHUNK / MB
    print(
        f"resume after a cut: {total} chunks of {CHUNK // 1024} KiB; cut after "
        f"{len(cut.served)} served ({outcome}, {first:.2f} s), {len(kept)} held on B, "
        f"content visible on B before resume: {'yes (WRONG)' if visible else 'no'}"
    )
    print(
        f"  resumed at chunk {resumed.served[0] if resumed.served else '-'}: "
        f"{len(resumed.served)} chunks sent in {elapsed:.2f} s ({part / elapsed:.1f} MB/s, "
        f"CPU {cpu:.2f} s), "
        f"fetched {fetched}, pending {pending}; sent twice: {len(again)} "
        f"({'ok, ≤ 1 in flight' if len(again) <= 1 else 'TOO MANY'}); "
        f"total sent {len(cut.served) + len(resumed.served)}/{total}; "
        f"SHA-256 {'identical' if same else 'DIFFERENT'}"
    )


def bench_two_processes(root: Path, st: Stations, author: str, size: int, base: float) -> None:
    """The same transfer with A serving from another process (A's store is closed here)."""
    data = pdf_bytes(size, seed=3)
    sha = import_document(st.a, author, data)
    st.a.close()
    with station_in_own_process(root / "a", KEY) as port:
        client = SyncClient(DbReplicaStore(st.b), st.creds_b, timeout_s=30, blobs=DbBlobStore(st.b))
        start, cpu = time.perf_counter(), time.process_time()
        report = client.sync_with("127.0.0.1", port)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    same = arrived_intact(st.b, sha, data)
    rate = size / elapsed / MB
    print(
        f"sync A→B, A in its own process (as two PCs): {size / MB:.1f} MB in {elapsed:.2f} s "
        f"= {rate:.1f} MB/s, {rate / base:.0%} of the streamed baseline; receiving station "
        f"CPU {cpu:.2f} s ({cpu * 1000 / -(-size // CHUNK):.1f} ms per chunk); fetched "
        f"{report.blobs_fetched}, pending {report.blobs_pending}; "
        f"SHA-256 {'identical' if same else 'DIFFERENT'}"
    )
    print(
        f"  links: 100 Mbit/s ≈ 12.5 MB/s, 1 Gbit/s ≈ 117 MB/s of payload; "
        f"this is {rate / 117:.0%} of a gigabit link"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2 MB instead of 20 MB (smoke run)")
    parser.add_argument("--size-mb", type=float, default=None, help="document size in MB")
    args = parser.parse_args()
    size = int((args.size_mb or (2 if args.quick else 20)) * MB)
    with tempfile.TemporaryDirectory(prefix="cms-bench-docs-") as tmp:
        root = Path(tmp)
        ca = create_site_ca("Bench")
        a, b = open_store(root, "a"), open_store(root, "b")
        st = Stations(a, b, credentials(a, ca, "A"), credentials(b, ca, "B"))
        members((a, st.creds_a), (b, st.creds_b))
        try:
            rates = baseline(st.creds_a, st.creds_b, size)
            (stream, stream_cpu), (ping, ping_cpu) = rates["stream"], rates["per_chunk"]
            print(
                f"baseline, mutual TLS 1.3 loopback, {size / MB:.1f} MB in "
                f"{CHUNK // 1024} KiB chunks: streamed {stream:.0f} MB/s "
                f"({size / stream_cpu / MB:.0f} MB per CPU-second), one request per chunk "
                f"{ping:.0f} MB/s ({size / ping_cpu / MB:.0f} MB per CPU-second)"
            )
            author = add_author(a)
            bench_sync(st, author, size, stream)
            bench_resume(st, author, size)
            bench_two_processes(root, st, author, size, stream)  # closes A
        finally:
            a.close()
            b.close()


if __name__ == "__main__":
    main()
