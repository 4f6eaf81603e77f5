"""Sync between real stations: ``cms-desktop sync serve`` processes over loopback TLS.

Run: ``PYTHONPATH=src python bench/bench_sync_stations.py [--quick]``

Two stations of one centre (made with ``setup`` and a pairing code, as an installer does)
each run ``sync serve`` in its own process, as two PCs do; figures, not tests:

1. catch-up: station B was off while A recorded 10,000 changes; B's ``sync serve`` starts,
   a person logs in on B (another process: B's service sees the login's record within
   0.25 s) and the pass it triggers fetches A's changes. Timed from that login's commit to
   the status line B prints when the session ends (read from its output as it comes), so
   the process start and the password check are left out; the merged entries/s follow;
2. the same with 50,000 changes (a station off for a week): the merge rate, where the
   fixed costs of a session weigh less; then 50,000 more of which two in ten are signed
   consultations sealed under the clinical key (#17);
3. a 20 MB document written on A while both run: A's own encrypted write, and from its
   commit to its content complete on B (B asks A for each 256 KiB chunk), in MB/s.

The CPU calibration line is ``bench_sync_db``'s (10M Python loop iterations).
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_sync_db import calibration_s, fill
from bench_sync_documents import add_author, arrived_intact, import_document, pdf_bytes

from cms_desktop.services import setup
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync import identity
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.pairing import PairingCode
from cms_desktop.sync.pairing_net import PairingServer, join_centre

PASSWORD = "Chef-Secret-42"
ROOT = Path(__file__).resolve().parents[1]


def make_centre(root: Path) -> tuple[DataDir, DataDir]:
    a, b = DataDir(root / "a"), DataDir(root / "b")
    setup.initialise_centre(
        a, setup.CentreDraft(name="CMS Bench", finess="610000000"), "admin", "Admin", PASSWORD
    )
    ws, _ = login(a, "admin", PASSWORD)
    try:
        identity.ensure_site(ws.store, "A")
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            join_centre(b, "127.0.0.1", server.address[1], code.display, "B")
        finally:
            server.stop()
    finally:
        ws.close()
    return a, b


def free_port() -> int:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


class Serve:
    """One ``sync serve`` process; its output lines come with their arrival time."""

    def __init__(self, data_dir: DataDir, port: int, interval: float = 600) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cms_desktop",
                "--data-dir",
                str(data_dir.path),
                "sync",
                "serve",
                "--as",
                "admin",
                "--password-stdin",
                "--no-discovery",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--interval",
                str(interval),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(PASSWORD + "\n")
        self.proc.stdin.close()
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.strip()))

    def next_line(self, timeout: float = 120) -> tuple[float, str]:
        return self.lines.get(timeout=timeout)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


@contextmanager
def serving(data_dir: DataDir, port: int) -> Iterator[Serve]:
    serve = Serve(data_dir, port)
    try:
        yield serve
    finally:
        serve.stop()


def set_peer(data_dir: DataDir, port: int) -> None:
    ws, _ = login(data_dir, "admin", PASSWORD)
    try:
        identity.set_static_peers(ws.store, f"127.0.0.1:{port}")
    finally:
        ws.close()


def bench_catch_up(a: DataDir, b: DataDir, count: int, clinical: str = "") -> tuple[float, int]:
    ws, _ = login(a, "admin", PASSWORD)
    try:
        fill(ws.store, count, clinical)
        total = DbReplicaStore(ws.store).vector()
    finally:
        ws.close()
    ws, _ = login(b, "admin", PASSWORD)
    try:
        before = DbReplicaStore(ws.store).vector()  # what an earlier round brought
    finally:
        ws.close()
    port_a, port_b = free_port(), free_port()
    set_peer(b, port_a)
    with serving(a, port_a) as serve_a:
        assert serve_a.next_line()[1].startswith("Synchronisation active")
        with serving(b, port_b) as serve_b:
            _, line = serve_b.next_line()
            assert line.startswith("Synchronisation active"), line
            # A person logs in on B: the login's record is a change B's service sees
            # (within 0.25 s, another process wrote it) and its pass fetches A's changes.
            ws, _ = login(b, "admin", PASSWORD)
            start = time.perf_counter()
            ws.close()
            end, line = serve_b.next_line()  # the status after that session
    ws, _ = login(b, "admin", PASSWORD)
    try:
        held = DbReplicaStore(ws.store).vector()
    finally:
        ws.close()
    received = sum(min(held.seq(o), total.seq(o)) - min(before.seq(o), total.seq(o)) for o in total)
    assert all(held.seq(o) >= total.seq(o) for o in total), (line, dict(held), dict(total))
    return end - start, received


def bench_document(a: DataDir, b: DataDir, size: int) -> tuple[float, float, float]:
    """MB/s of: A's own encrypted write of the document (the ceiling of any transfer, each
    byte being written encrypted once more on B), commit on A → complete on B, and the
    transfer alone (from the end of A's write). B is watched through its cheap « complete »
    flag; the content is read back and compared once, untimed."""
    data = pdf_bytes(size, 7)
    port_a, port_b = free_port(), free_port()
    set_peer(a, port_b)
    set_peer(b, port_a)
    with serving(a, port_a) as serve_a, serving(b, port_b) as serve_b:
        for serve in (serve_a, serve_b):
            assert serve.next_line()[1].startswith("Synchronisation active")
        ws_a, _ = login(a, "admin", PASSWORD)
        ws_b, _ = login(b, "admin", PASSWORD)
        try:
            author = add_author(ws_a.store)
            start = time.perf_counter()
            sha = import_document(ws_a.store, author, data)  # sync serve on A pushes it
            written = time.perf_counter()
            on_b = DbBlobStore(ws_b.store)
            while on_b.total_chunks(sha) is None:
                if time.perf_counter() - start > 300:
                    raise SystemExit("the document did not arrive within 5 minutes")
                time.sleep(0.005)
            done = time.perf_counter()
            assert arrived_intact(ws_b.store, sha, data)
        finally:
            ws_a.close()
            ws_b.close()
    return (
        size / (written - start) / 1e6,
        size / (done - start) / 1e6,
        size / (done - written) / 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small volumes (smoke run)")
    parser.add_argument(
        "--only",
        choices=("catch-up", "document"),
        help="run one part (to compare two builds alternately)",
    )
    args = parser.parse_args()
    count, bulk, size = (1_000, 5_000, 2_000_000) if args.quick else (10_000, 50_000, 20_000_000)
    with tempfile.TemporaryDirectory(prefix="cms-bench-stations-") as tmp:
        print(f"CPU calibration: {calibration_s():.2f} s for 10M Python loop iterations")
        a, b = make_centre(Path(tmp))
        if args.only != "document":
            bench_catch_ups(a, b, count, bulk)
        if args.only != "catch-up":
            bench_documents(a, b, size)


def bench_catch_ups(a: DataDir, b: DataDir, count: int, bulk: int) -> None:
    elapsed, received = bench_catch_up(a, b, count)
    print(
        f"catch-up between two sync serve processes over loopback TLS: {received:,} "
        f"entries in {elapsed:.2f} s (target ≤ 1 s for 10,000), "
        f"{received / elapsed:,.0f} entries/s"
    )
    # The merge rate itself, where the fixed costs of a session (noticing the login,
    # the TLS handshake, the status written at the end) weigh less: a week off.
    elapsed, received = bench_catch_up(a, b, bulk)
    print(
        f"catch-up of {received:,} entries: {elapsed:.2f} s, "
        f"{received / elapsed:,.0f} merged entries/s (target ≥ 20,000)"
    )
    # #17: the same week with clinical fields encrypted, two changes in ten being signed
    # consultations sealed under the clinical key (bench_sync_db's "mix").
    elapsed, received = bench_catch_up(a, b, bulk, clinical="mix")
    print(
        f"catch-up of {received:,} entries, 2 in 10 sealed consultations: {elapsed:.2f} s, "
        f"{received / elapsed:,.0f} merged entries/s (target ≥ 20,000)"
    )


def bench_documents(a: DataDir, b: DataDir, size: int) -> None:
    local, overall, transfer = bench_document(a, b, size)
    print(
        f"{size / 1e6:.0f} MB document: A's own encrypted write {local:.1f} MB/s; "
        f"commit on A → complete on B {overall:.1f} MB/s; "
        f"the transfer after A's write {transfer:.1f} MB/s "
        "(a 100 Mbit/s LAN carries 12.5 MB/s, 1 Gbit/s 125 MB/s)"
    )


if __name__ == "__main__":
    main()
