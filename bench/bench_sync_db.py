"""Benchmark of sync on the real SQLCipher store (SYNC.md targets; figures, not tests).

Run: ``PYTHONPATH=src python bench/bench_sync_db.py [--quick]``

1. entries merged per second, batches decoded (checksum, signature, chain) then applied,
   through the receiving pipeline of a sync session (``sync.pipeline``): the median of
   five merges, each about a second, and the five figures;
2. a 10,000-entry catch-up between two real stores over loopback mutual TLS, the sending
   station in its own process as it is on the LAN;
3. commit-to-visible latency between two running SyncServices.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import multiprocessing
import random
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert

from cms_desktop.domain import signed_acts
from cms_desktop.domain.oplog import OpEntry
from cms_desktop.storage import audit, clinical_crypto
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import AuditEntry, Consultation, Patient, User, new_id
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.batch import encode_batch, read_header
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.discovery import PeerAddress, PeerDirectory
from cms_desktop.sync.merge import INSERT_OP_LOG
from cms_desktop.sync.pipeline import BatchPipeline
from cms_desktop.sync.pki import StationCredentials, create_site_ca, issue_station_certificate
from cms_desktop.sync.service import SyncService
from cms_desktop.sync.transport import SyncClient, SyncPeerServer

KEY = secrets.token_bytes(32)


def open_store(root: Path, name: str) -> Store:
    path = root / name
    path.mkdir()
    return Store.open(DataDir(path), KEY)


CLINICAL_KEY = clinical_crypto.new_clinical_key(1, str(uuid.uuid4()))
SIGNING_KEY_ID = str(uuid.uuid4())
NOTE_TEXT = {
    "reason": "Toux fébrile depuis trois jours",
    "examination": "Auscultation : crépitants base droite. Pas de signe de gravité.",
    "diagnosis": "Pneumopathie communautaire",
    "treatment": "Amoxicilline 1 g x 3 pendant 7 jours, contrôle à 48 h",
    "conclusion": "Revoir si fièvre persistante",
}


def _sealed_note(session: Any, patient: Patient, author_id: str, sealed: bool = True) -> None:
    """A consultation as a clinician writes it now: five text fields and the measurements
    sealed under the clinical key (``cms-ck1:`` ciphertext in the op-log entry), and its
    author's signature (random bytes of a signature's size: the merge does not verify it);
    with ``sealed`` False, the same note in clear and unsigned, as an earlier version wrote
    it (the baseline)."""
    now = dt.datetime.now(dt.UTC)
    note = Consultation(
        id=new_id(), patient_id=patient.id, author_id=author_id, seen_at=now, signed_at=now
    )
    if not sealed:
        for name, text in NOTE_TEXT.items():
            setattr(note, name, text)
        note.weight_kg, note.systolic = 71.5, 128
        session.add(note)
        return
    for name, text in NOTE_TEXT.items():
        sealed_text = clinical_crypto.encrypt_field(
            CLINICAL_KEY, "consultations", note.id, name, text
        )
        setattr(note, name, sealed_text)
    note.vitals = clinical_crypto.encrypt_json(
        CLINICAL_KEY, "consultations", note.id, "vitals", {"weight_kg": 71.5, "systolic": 128}
    )
    note.signing_key_id = SIGNING_KEY_ID
    note.signature = f"{signed_acts.FORMAT}:{base64.b64encode(secrets.token_bytes(64)).decode()}"
    session.add(note)


def fill(store: Store, count: int, clinical: str = "") -> None:
    """``count`` entries: mostly notes (insert-only), some patients created then edited.
    ``clinical``: the notes are consultations, "sealed" (#17) or "clear", not audit rows;
    "mix": two entries in ten are sealed consultations, the rest as without."""
    done = 0
    author_id = ""
    if clinical:
        with store.write() as session:
            author = User(
                login=f"dr.{uuid.uuid4().hex[:8]}",
                full_name="Dr Banc",
                role="doctor",
                password_hash="x",
            )
            session.add(author)
            session.flush()
            author_id = author.id
        done = 1
    while done < count:
        with store.write() as session:
            patients: list[Patient] = []
            for i in range(min(500, count - done)):
                # "mix": two entries in ten are sealed consultations, as in a centre's op-log
                # (the demo centre's: about one in ten notes, plus the synthesis).
                wanted = i % 10 in (3, 7) if clinical == "mix" else i % 10 != 0
                if clinical and wanted and patients:
                    _sealed_note(session, patients[-1], author_id, clinical != "clear")
                    continue
                if i % 10 == 0:
                    patient = Patient(
                        id=new_id(),
                        birth_name=f"NOM{done + i}",
                        first_given_name="Camille",
                        birth_date=dt.date(1980, 1, 1),
                        sex="F",
                    )
                    session.add(patient)
                    patients.append(patient)
                    if clinical:
                        session.flush()  # before its notes (no ORM relationship orders them)
                else:
                    audit.append(session, store.station_id, "note", target_type="note")
            session.flush()
            for patient in patients[: len(patients) // 2]:
                patient.city = "Montreuil"
            session.flush()
        done += min(500, count - done) + len(patients) // 2


def _past_id(rng: random.Random, ms: int) -> str:
    """A UUIDv7 (what ``new_id`` makes) stamped ``ms``: a row created back then."""
    return str(
        uuid.UUID(
            int=(ms << 80)
            | (7 << 76)
            | (rng.getrandbits(12) << 64)
            | (2 << 62)
            | rng.getrandbits(62)
        )
    )


def add_history(store: Store, count: int, seed: int = 7) -> None:
    """``count`` op-log entries of an earlier station, with their rows, as bulk inserts.

    A station in service holds months of changes: what a merge costs depends on the size
    of the indexes it inserts into. Same mix as ``fill`` (9 audit rows for 1 patient),
    rows created over the 90 days before now. A builder, not an application write: no
    capture, no chain checks (nothing reads this origin's chain).
    """
    rng = random.Random(seed)
    origin = str(uuid.UUID(int=rng.getrandbits(128)))
    now_ms = time.time_ns() // 1_000_000
    start_ms = now_ms - 90 * 86_400_000
    step = (now_ms - start_ms - 3_600_000) // max(count, 1)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
    op_rows: list[tuple[Any, ...]] = []
    audit_rows: list[dict[str, Any]] = []
    patient_rows: list[dict[str, Any]] = []
    for seq in range(1, count + 1):
        ms = start_ms + seq * step
        row_id = _past_id(rng, ms)
        digest = f"{rng.getrandbits(256):064x}"
        if seq % 10 == 0:
            entity = "patients"
            values = {"id": row_id, "birth_name": f"HIST{seq}", "first_given_name": "Camille"}
            patient_rows.append(
                {
                    "id": row_id,
                    "version": f"{ms:015d}.000000.{origin}",
                    "birth_name": f"HIST{seq}",
                    "first_given_name": "Camille",
                    "birth_date": dt.date(1950 + seq % 60, 1 + seq % 12, 1 + seq % 28),
                    "sex": "F",
                }
            )
        else:
            entity = "audit_log"
            values = {"id": row_id, "action": "record_open", "seq": seq}
            audit_rows.append(
                {
                    "id": row_id,
                    "version": f"{ms:015d}.000000.{origin}",
                    "station_id": origin,
                    "seq": seq,
                    "at": at,
                    "action": "record_open",
                    "target_type": "patient",
                    "target_id": _past_id(rng, ms - 86_400_000),
                    "prev_hash": digest,
                    "hash": digest,
                }
            )
        op_rows.append(
            (
                origin,
                seq,
                f"{ms:015d}.000000.{origin}",
                1,
                entity,
                row_id,
                "insert",
                json.dumps(values),
                None,
                digest,
                digest,
                True,
                None,  # redacted_by
            )
        )
        if len(op_rows) == 20_000 or seq == count:
            with store.write() as session:
                conn = session.connection()
                conn.exec_driver_sql(INSERT_OP_LOG, op_rows)
                if audit_rows:
                    conn.execute(insert(AuditEntry.__table__), audit_rows)
                if patient_rows:
                    conn.execute(insert(Patient.__table__), patient_rows)
            op_rows, audit_rows, patient_rows = [], [], []


def entries_of(store: Store) -> list[OpEntry]:
    replica = DbReplicaStore(store)
    return replica.entries_since(store.station_id, 0, 10**9)


def source_frames(root: Path, name: str, count: int, clinical: str) -> tuple[list[bytes], Any]:
    """A new source station's ``count`` entries as signed 1,000-entry frames, and the
    public key that verifies them; the station is closed (its files are not used again)."""
    source = open_store(root, name)
    fill(source, count, clinical)
    chain = entries_of(source)
    source.close()
    signer = Ed25519PrivateKey.generate()
    origin = chain[0].origin
    frames = [encode_batch(chain[i : i + 1000], signer, origin) for i in range(0, len(chain), 1000)]
    return frames, signer.public_key()


def bench_merge(
    root: Path, count: int, history: int, name: str, rounds: int, clinical: str = ""
) -> list[float]:
    """Entries/s of ``rounds`` merges of ``count`` entries into a new station each.

    Without ``history``, the same source's frames go into a new station each round (the
    source is filled once, which saves time: filling a new one each round gave the same
    figures, session 13). With ``history``, all rounds go into one station holding that
    many entries beforehand (it grows by ``count`` a round, a few percent), each from a
    new source station."""
    target: Store | None = None
    rates = []
    made: tuple[list[bytes], Any] | None = None
    for round_no in range(rounds):
        if target is None or not history:
            if target is not None:
                target.close()
            target = open_store(root, f"{name}-b{round_no}")
            add_history(target, history)
        if made is None or history:
            made = source_frames(root, f"{name}-a{round_no}", count, clinical)
        frames, public_key = made
        origin = str(read_header(frames[0])["origin"])
        entries = sum(int(read_header(frame)["count"]) for frame in frames)
        replica = DbReplicaStore(target)
        start = time.perf_counter()
        # The receiving path of a sync session: verify, prepare, write each frame.
        pipeline = BatchPipeline(replica, {origin: public_key})
        pipeline.run(iter([*frames, None]).__next__)
        rates.append(entries / (time.perf_counter() - start))
    assert target is not None
    target.close()
    return rates


def merge_line(label: str, rates: list[float]) -> str:
    spread = f" (runs: {', '.join(f'{r:,.0f}' for r in rates)})" if len(rates) > 1 else ""
    return (
        f"merge with verification, {label}: median {statistics.median(rates):,.0f} entries/s"
        f"{spread} (target ≥ 20,000)"
    )


def credentials(store: Store, ca: tuple[bytes, bytes], name: str) -> StationCredentials:
    cert, key = issue_station_certificate(ca[0], ca[1], store.station_id, name)
    with store.write() as session:
        identity.save_identity(session, store.station_id, name, cert, key, ca[0], ca[1])
    return StationCredentials(store.station_id, cert, key, ca[0])


def members(*stations: tuple[Store, StationCredentials]) -> None:
    """Each station lists the others as members of the centre, as pairing does: a CA
    signature alone admits nobody (sync/pki.py, Membership)."""
    for store, _ in stations:
        with store.write() as session:
            for _, other in stations:
                identity.register_station(
                    session, other.station_id, other.station_id, other.cert_pem
                )


def serve_station(path: str, key: bytes, ports: Any, stop: Any) -> None:
    """A source workstation in its own process, as on the LAN (its own CPU and GIL): it
    serves its op-log and its documents' content until ``stop``; its port goes to ``ports``.
    Started by ``station_in_own_process`` (also used by ``bench_sync_documents``)."""
    store = Store.open(DataDir(Path(path)), key)
    server = SyncPeerServer(
        DbReplicaStore(store),
        identity.require_credentials(store),
        host="127.0.0.1",
        timeout_s=30,
        blobs=DbBlobStore(store),
    ).start()
    ports.put(server.address[1])
    stop.wait()
    server.stop()
    store.close()


@contextlib.contextmanager
def station_in_own_process(path: Path, key: bytes) -> Iterator[int]:
    """``serve_station`` in a spawned process for the block; yields its sync port."""
    spawn = multiprocessing.get_context("spawn")
    ports, stop = spawn.Queue(), spawn.Event()
    server = spawn.Process(target=serve_station, args=(str(path), key, ports, stop))
    server.start()
    try:
        yield ports.get(timeout=60)
    finally:
        stop.set()
        server.join(30)


def bench_catch_up(root: Path, count: int) -> tuple[float, int]:
    ca = create_site_ca("Bench")
    source = open_store(root, "tls-a")
    target = open_store(root, "tls-b")
    fill(source, count)
    creds_a, creds_b = credentials(source, ca, "A"), credentials(target, ca, "B")
    members((source, creds_a), (target, creds_b))
    source.close()
    try:
        with station_in_own_process(root / "tls-a", KEY) as port:
            client = SyncClient(DbReplicaStore(target), creds_b)
            start = time.perf_counter()
            report = client.sync_with("127.0.0.1", port)
            elapsed = time.perf_counter() - start
    finally:
        target.close()
    return elapsed, report.received


def bench_latency(root: Path, writes: int) -> list[float]:
    ca = create_site_ca("Bench")
    a, b = open_store(root, "svc-a"), open_store(root, "svc-b")
    members((a, credentials(a, ca, "A")), (b, credentials(b, ca, "B")))
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


def calibration_s() -> float:
    """How fast this machine runs Python, to compare figures taken on different days."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small volumes (smoke run)")
    args = parser.parse_args()
    merge_n, catch_n, writes = (2_000, 1_000, 5) if args.quick else (20_000, 10_000, 30)
    history = 20_000 if args.quick else 300_000
    rounds = 1 if args.quick else 5  # one merge is about a second: the median of five
    with tempfile.TemporaryDirectory(prefix="cms-bench-sync-") as tmp:
        root = Path(tmp)
        print(f"CPU calibration: {calibration_s():.2f} s for 10M Python loop iterations")
        print(merge_line("empty station", bench_merge(root, merge_n, 0, "empty", rounds)))
        rates = bench_merge(root, merge_n, history, "history", rounds)
        print(merge_line(f"station already holding {history:,} entries", rates))
        clear = bench_merge(root, merge_n, 0, "clear", rounds, clinical="clear")
        print(merge_line("empty station, consultations in clear (baseline)", clear))
        sealed = bench_merge(root, merge_n, 0, "sealed", rounds, clinical="sealed")
        print(merge_line("empty station, consultations sealed (#17)", sealed))
        ratio = statistics.median(sealed) / statistics.median(clear)
        print(f"sealed / clear consultations: {ratio:.2f}")
        mix = bench_merge(root, merge_n, 0, "mix", rounds, clinical="mix")
        print(merge_line("empty station, the mix with 2 in 10 sealed consultations", mix))
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
