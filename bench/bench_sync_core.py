"""Benchmark of the network-independent sync core (targets from SYNC.md, not tests).

Run: ``PYTHONPATH=src python bench/bench_sync_core.py``
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from multiprocessing.connection import Connection

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cms_desktop.domain.hlc import HlcTimestamp
from cms_desktop.domain.oplog import GENESIS_HASH, OpEntry, OpKind, seal
from cms_desktop.sync.batch import decode_batch, encode_batch
from cms_desktop.sync.memory_store import MemoryReplicaStore
from cms_desktop.sync.pki import StationCredentials, create_site_ca, issue_station_certificate
from cms_desktop.sync.transport import SyncClient, SyncPeerServer

BATCHES, BATCH_SIZE = 10, 1000
CATCH_UP = 10_000


def synthetic_chain(origin: str, count: int) -> list[OpEntry]:
    entries, prev = [], GENESIS_HASH
    base_ms = time.time_ns() // 1_000_000 - 60_000
    for seq in range(1, count + 1):
        entry = seal(
            OpEntry(
                origin=origin,
                seq=seq,
                hlc=HlcTimestamp(base_ms + seq // 100, seq % 100, origin).encode(),
                schema=1,
                entity="patient",
                row_id=str(uuid.uuid4()),
                op=OpKind.UPDATE,
                values={"nom_usage": f"Nom{seq}", "prenom": "Camille", "ville": "Montreuil"},
                base=None,
                prev_hash=prev,
            )
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def bench_decode() -> float:
    signer = Ed25519PrivateKey.generate()
    chain = synthetic_chain("recep", BATCHES * BATCH_SIZE)
    frames = [
        encode_batch(chain[i : i + BATCH_SIZE], signer, "salle1")
        for i in range(0, len(chain), BATCH_SIZE)
    ]
    keys = {"salle1": signer.public_key()}
    start = time.perf_counter()
    last_seq, last_hash = 0, GENESIS_HASH
    for frame in frames:
        entries = decode_batch(frame, keys, last_seq, last_hash)
        last_seq, last_hash = entries[-1].seq, entries[-1].hash
    elapsed = time.perf_counter() - start
    assert last_seq == len(chain)
    return len(chain) / elapsed


def _credentials(ca_cert: bytes, ca_key: bytes, station: str) -> StationCredentials:
    cert, key = issue_station_certificate(ca_cert, ca_key, station, station)
    return StationCredentials(station, cert, key, ca_cert)


def _serve(creds: StationCredentials, pipe: Connection) -> None:
    """The source station, in its own process as on a real LAN (no shared GIL)."""
    source = MemoryReplicaStore(creds.station_id)
    source.apply_batch("salle2", synthetic_chain("salle2", CATCH_UP))
    with SyncPeerServer(source, creds, host="127.0.0.1") as server:
        pipe.send(server.address[1])
        pipe.recv()  # wait until the client is done


def bench_catch_up(separate_process: bool) -> float:
    ca_cert, ca_key = create_site_ca("CMS banc d'essai")
    source_creds = _credentials(ca_cert, ca_key, "recep")
    target = MemoryReplicaStore("salle1")
    client = SyncClient(target, _credentials(ca_cert, ca_key, "salle1"))
    if separate_process:
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_serve, args=(source_creds, child))
        process.start()
        port = parent.recv()
        start = time.perf_counter()
        report = client.sync_with("127.0.0.1", port)
        elapsed = time.perf_counter() - start
        parent.send("done")
        process.join()
    else:
        source = MemoryReplicaStore("recep")
        source.apply_batch("salle2", synthetic_chain("salle2", CATCH_UP))
        with SyncPeerServer(source, source_creds, host="127.0.0.1") as server:
            start = time.perf_counter()
            report = client.sync_with("127.0.0.1", server.address[1])
            elapsed = time.perf_counter() - start
    assert report.received == CATCH_UP and target.vector().seq("salle2") == CATCH_UP
    return elapsed


def main() -> None:
    rate = bench_decode()
    print(f"decode+verify: {rate:,.0f} entries/s ({BATCHES} x {BATCH_SIZE}; target >= 20,000)")
    for separate, label in ((True, "two processes"), (False, "one process, shared GIL")):
        elapsed = bench_catch_up(separate)
        print(
            f"catch-up of {CATCH_UP:,} entries over loopback TLS 1.3 ({label}):"
            f" {elapsed:.3f} s (target <= 1 s)"
        )


if __name__ == "__main__":
    main()
