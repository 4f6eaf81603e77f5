"""Benchmark of sync on the real SQLCipher store (SYNC.md targets; figures, not tests).

Run: ``PYTHONPATH=src python bench/bench_sync_db.py [--quick]``

1. entries merged per second, batches decoded (checksum, signature, chain) then applied,
   through the receiving pipeline of a sync session (``sync.pipeline``);
2. a 10,000-entry catch-up between two real stores over loopback mutual TLS, the sending
   station in its own process as it is on the LAN;
3. commit-to-visible latency between two running SyncServices.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cms_desktop.domain.oplog import OpEntry
from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Patient
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.batch import encode_batch
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.discovery import PeerAddress, PeerDirectory
from cms_desktop.sync.pipeline import BatchPipeline
from cms_desktop.sync.pki import StationCredentials, create_site_ca, issue_station_certificate
from cms_desktop.sync.service import SyncService
from cms_desktop.sync.transport import SyncClient, SyncPeerServer

KEY = secrets.token_bytes(32)


def open_store(root: Path, name: str) -> Store:
    path = root / name
    path.mkdir()
    return Store.open(DataDir(path), KEY)


def fill(store: Store, count: int) -> None:
    """``count`` entries: mostly notes (insert-only), some patients created then edited."""
    done = 0
    while done < count:
        with store.write() as session:
            patients = []
            for i in range(min(500, count - done)):
                if i % 10 == 0:
                    patient = Patient(
                        birth_name=f"NOM{done + i}",
                        first_given_name="Camille",
                        birth_date=dt.date(1980, 1, 1),
                        sex="F",
                    )
                    session.add(patient)
                    patients.append(patient)
                else:
                    audit.append(session, store.station_id, "note", target_type="note")
            session.flush()
            for patient in patients[: len(patients) // 2]:
                patient.city = "Montreuil"
            session.flush()
        done += min(500, count - done) + len(patients) // 2


def entries_of(store: Store) -> list[OpEntry]:
    replica = DbReplicaStore(store)
    return replica.entries_since(store.station_id, 0, 10**9)


def bench_merge(root: Path, count: int) -> float:
    source = open_store(root, "merge-a")
    target = open_store(root, "merge-b")
    fill(source, count)
    chain = entries_of(source)
    signer = Ed25519PrivateKey.generate()
    frames = [encode_batch(chain[i : i + 1000], signer, "a") for i in range(0, len(chain), 1000)]
    keys = {"a": signer.public_key()}
    replica = DbReplicaStore(target)
    start = time.perf_counter()
    # The receiving path of a sync session (verify the next frame while one is written).
    with BatchPipeline(replica, keys) as pipeline:
        for frame in frames:
            pipeline.feed(frame)
        pipeline.finish()
    elapsed = time.perf_counter() - start
    source.close()
    target.close()
    return len(chain) / elapsed


def credentials(store: Store, ca: tuple[bytes, bytes], name: str) -> StationCredentials:
    cert, key = issue_station_certificate(ca[0], ca[1], store.station_id, name)
    with store.write() as session:
        identity.save_identity(session, store.station_id, name, cert, key, ca[0], ca[1])
    return StationCredentials(store.station_id, cert, key, ca[0])


def _serve(path: str, key: bytes, ports: Any, stop: Any) -> None:
    """The source workstation, in its own process as on the LAN (its own CPU and GIL)."""
    store = Store.open(DataDir(Path(path)), key)
    server = SyncPeerServer(
        DbReplicaStore(store), identity.require_credentials(store), host="127.0.0.1"
    ).start()
    ports.put(server.address[1])
    stop.wait()
    server.stop()
    store.close()


def bench_catch_up(root: Path, count: int) -> tuple[float, int]:
    ca = create_site_ca("Bench")
    source = open_store(root, "tls-a")
    target = open_store(root, "tls-b")
    fill(source, count)
    credentials(source, ca, "A")
    source.close()
    spawn = multiprocessing.get_context("spawn")
    ports, stop = spawn.Queue(), spawn.Event()
    server = spawn.Process(target=_serve, args=(str(root / "tls-a"), KEY, ports, stop))
    server.start()
    try:
        port = ports.get(timeout=60)
        client = SyncClient(DbReplicaStore(target), credentials(target, ca, "B"))
        start = time.perf_counter()
        report = client.sync_with("127.0.0.1", port)
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        server.join(30)
        target.close()
    return elapsed, report.received


def bench_latency(root: Path, writes: int) -> list[float]:
    ca = create_site_ca("Bench")
    a, b = open_store(root, "svc-a"), open_store(root, "svc-b")
    credentials(a, ca, "A")
    credentials(b, ca, "B")
    service_a = SyncService(a, host="127.0.0.1", port=0, discovery=False, interval_s=5).start()
    service_b = SyncService(b, host="127.0.0.1", port=0, discovery=False, interval_s=5).start()
    service_a.directory = PeerDirectory(
        a.station_id, [PeerAddress("127.0.0.1", service_b.address[1])]
    )
    service_b.directory = PeerDirectory(
        b.station_id, [PeerAddress("127.0.0.1", service_a.address[1])]
    )
    arrived = threading.Event()
    service_b.replica.add_listener(lambda outcome: arrived.set())
    latencies = []
    for _ in range(writes):
        arrived.clear()
        start = time.perf_counter()
        with a.write() as session:
            audit.append(session, a.station_id, "note", target_type="note")
        if arrived.wait(10):
            latencies.append(time.perf_counter() - start)
    service_a.stop()
    service_b.stop()
    a.close()
    b.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small volumes (smoke run)")
    args = parser.parse_args()
    merge_n, catch_n, writes = (2_000, 1_000, 5) if args.quick else (20_000, 10_000, 30)
    with tempfile.TemporaryDirectory(prefix="cms-bench-sync-") as tmp:
        root = Path(tmp)
        rate = bench_merge(root, merge_n)
        print(f"merge with verification (SQLCipher): {rate:,.0f} entries/s (target ≥ 20,000)")
        elapsed, received = bench_catch_up(root, catch_n)
        print(f"catch-up over loopback TLS: {received:,} entries in {elapsed:.2f} s (target ≤ 1 s)")
        latencies = sorted(bench_latency(root, writes))
        if latencies:
            p50 = statistics.median(latencies)
            p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            print(
                f"commit → visible on the other station: p50 {p50 * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms over {len(latencies)}/{writes} writes (target ≤ 2 s)"
            )
        else:
            print("commit → visible: no write arrived within 10 s")


if __name__ == "__main__":
    main()
