"""Two and then seven stations as separate processes converge after edits, cuts and kills.

One centre is initialised, the others join it with one-time codes; each station then runs
its sync service in its own process (``station_child``) on 127.0.0.1 with a fixed peer
list. Random edits go to random stations; a cut splits the centre in two groups that keep
working and syncing among themselves (the cut-off group listens on other ports, so the rest
cannot reach it: a note written there reaches its group, not the centre); stations are killed with SIGKILL and restarted; after the cut heals every
station must hold exactly the same replicated rows, every note written anywhere included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import select

from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, Patient, SyncConflict
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.pairing import PairingCode
from cms_desktop.sync.pairing_net import PairingServer, join_centre
from cms_desktop.sync.service import SyncService, SyncState
from tests.conftest import Centre
from tests.integration.sync.station_child import canonical_dump

ROOT = Path(__file__).resolve().parents[3]
REPLY_TIMEOUT_S = 90.0  # a child answers in well under a second; the margin is for a busy CI
CONVERGE_TIMEOUT_S = 180.0
PHONES = ("0611111111", "0622222222")


# Listening ports below Linux's ephemeral range (32768–60999): a station killed and started
# again listens on the same port, and a port of that range can meanwhile be given to any
# outgoing connection (the other stations', another test's), which made the restart fail
# with « Address already in use » once in a CI run (session 13).
_LISTEN_PORTS = range(20_000, 32_000)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now, outside the ephemeral range (held together while
    chosen, so that they are distinct)."""
    rng = random.SystemRandom()
    socks: list[socket.socket] = []
    try:
        while len(socks) < count:
            try:
                socks.append(socket.create_server(("127.0.0.1", rng.choice(_LISTEN_PORTS))))
            except OSError:
                continue  # taken: another one
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Child:
    """One ``station_child`` process: JSON commands in, JSON answers out."""

    def __init__(self, data_dir: DataDir, port: int, peers: list[int], interval: float) -> None:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        self.log: IO[str] = (data_dir.path.parent / f"{data_dir.path.name}.log").open("a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.sync.station_child",
                str(data_dir.path),
                str(port),
                ",".join(f"127.0.0.1:{p}" for p in peers),
                str(interval),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            ready = self._answer()
            assert ready == {"ready": port}, ready
        except BaseException:
            self.proc.kill()  # never leave a half-started station behind
            self.proc.wait(timeout=REPLY_TIMEOUT_S)
            self.log.close()
            raise

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the process is gone

    def _answer(self) -> Any:
        try:
            line = self._lines.get(timeout=REPLY_TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(f"station process silent for {REPLY_TIMEOUT_S} s") from None
        assert line, f"station process died (code {self.proc.poll()}), see {self.log.name}"
        return json.loads(line)

    def call(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write('{"op": "quit"}\n')
        self.proc.stdin.flush()
        assert self.proc.wait(timeout=REPLY_TIMEOUT_S) == 0, f"see {self.log.name}"
        self.log.close()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=REPLY_TIMEOUT_S) == -signal.SIGKILL
        self.log.close()


@dataclass
class Node:
    data_dir: DataDir
    port: int  # where the others reach it when the network is up
    cut_port: int  # where it listens while cut off (known only to its own group)
    child: Child | None = None


@dataclass
class World:
    """The running stations and everything the test wrote, to check at the end."""

    nodes: list[Node]
    interval: float
    rng: random.Random
    patients: list[str]
    notes: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    cities: int = 0

    def start(self, i: int, group: list[int] | None = None) -> None:
        """Start station i on the open network, or cut off with ``group`` as only peers."""
        node = self.nodes[i]
        if group is None:
            port = node.port
            peers = [n.port for j, n in enumerate(self.nodes) if j != i]
        else:
            port = node.cut_port
            peers = [self.nodes[j].cut_port for j in group if j != i]
        node.child = Child(node.data_dir, port, peers, self.interval)

    def child(self, i: int) -> Child:
        child = self.nodes[i].child
        assert child is not None
        return child

    def stop(self, i: int) -> None:
        self.child(i).quit()
        self.nodes[i].child = None

    def kill(self, i: int) -> None:
        self.child(i).kill9()
        self.nodes[i].child = None

    def note(self, i: int) -> str:
        patient = self.rng.choice(self.patients)
        note_id: str = self.child(i).call("note", patient=patient, text=f"Note {len(self.notes)}")[
            "id"
        ]
        self.notes.add(note_id)
        return note_id

    def random_edit(self, among: list[int]) -> None:
        i = self.rng.choice(among)
        kind = self.rng.choice(("note", "patient", "edit"))
        if kind == "note":
            self.note(i)
        elif kind == "patient":
            self.created.add(
                self.child(i).call("patient", name=f"NOUVEAU{len(self.created)}")["id"]
            )
        else:
            self.cities += 1
            answer = self.child(i).call(
                "edit",
                patient=self.rng.choice(self.patients),
                field="city",
                value=f"Ville {self.cities}",
            )
            assert answer == {"ok": True}

    def wait_for_note(self, note_id: str, among: list[int]) -> None:
        """Poll until every station of ``among`` holds the note."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while not all(self.child(i).call("has_note", id=note_id)["found"] for i in among):
            if time.monotonic() > deadline:
                raise AssertionError(f"note not relayed within {among} in {CONVERGE_TIMEOUT_S} s")
            time.sleep(0.5)  # polling pace only

    def wait_converged(self) -> list[dict[str, Any]]:
        """Poll every station until all hold the same data with nothing held or waiting."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while True:
            reports = [self.child(i).call("digest") for i in range(len(self.nodes))]
            same = len({r["digest"] for r in reports}) == 1
            settled = all(r["held"] == 0 and r["waiting"] == 0 for r in reports)
            if same and settled:
                return reports
            if time.monotonic() > deadline:
                raise AssertionError(f"no convergence in {CONVERGE_TIMEOUT_S} s: {reports}")
            time.sleep(0.5)  # polling pace only; the assertion is on the final state


def pair_stations(
    centre: Centre, tmp_path: Path, count: int
) -> tuple[list[DataDir], list[str], bytes]:
    """The centre (with three patients) and ``count - 1`` stations joined with one-time codes."""
    ws, _ = centre.login("dr.test")
    try:
        patients = []
        with ws.store.write() as session:
            for i in range(3):
                patient = Patient(
                    birth_name=f"PATIENT{i}",
                    first_given_name="Claude",
                    birth_date=dt.date(1960 + i, 4, 5),
                    sex="M",
                )
                session.add(patient)
                session.flush()
                patients.append(patient.id)
        identity.ensure_site(ws.store, "Accueil")
        dirs = [centre.data_dir]
        for i in range(1, count):
            code = PairingCode()
            server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
            try:
                joiner = DataDir(tmp_path / f"salle{i}")
                join_centre(joiner, "127.0.0.1", server.address[1], code.display, f"Salle {i}")
            finally:
                server.stop()
            dirs.append(joiner)
        return dirs, patients, ws.key
    finally:
        ws.close()


@dataclass(frozen=True)
class Final:
    dump: list[tuple[str, list[tuple[Any, ...]]]]
    notes: frozenset[str]
    patients: frozenset[str]
    phone: str
    kept_phones: frozenset[str]


def final_state(data_dir: DataDir, key: bytes, patient_id: str) -> Final:
    """What a stopped station holds, read without writing anything."""
    store = Store.open(data_dir, key)
    try:
        with store.read() as session:
            phone = session.scalar(select(Patient.phone_mobile).where(Patient.id == patient_id))
            kept = session.scalars(
                select(SyncConflict.kept_value).where(
                    SyncConflict.row_id == patient_id, SyncConflict.field == "phone_mobile"
                )
            )
            return Final(
                canonical_dump(store),
                frozenset(session.scalars(select(Consultation.id))),
                frozenset(session.scalars(select(Patient.id))),
                str(phone),
                frozenset(json.loads(value) for value in kept),
            )
    finally:
        store.close()


def run_scenario(centre: Centre, tmp_path: Path, count: int, interval: float) -> None:
    dirs, patients, key = pair_stations(centre, tmp_path, count)
    ports = free_ports(2 * count)
    world = World(
        [Node(d, ports[i], ports[count + i]) for i, d in enumerate(dirs)],
        interval,
        random.Random(count),
        patients,
    )
    everyone = list(range(count))
    cut_off = everyone[(count + 1) // 2 :]  # the consulting rooms at the far end
    centre_side = everyone[: (count + 1) // 2]
    try:
        for i in everyone:
            world.start(i)
        for _ in range(count + 2):
            world.random_edit(everyone)

        # The cut: the far group keeps working and syncing among itself, unreachable.
        for i in cut_off:
            world.stop(i)
            world.start(i, group=cut_off)
        a, b = world.rng.choice(centre_side), world.rng.choice(cut_off)
        world.child(a).call("edit", patient=patients[0], field="phone_mobile", value=PHONES[0])
        world.child(b).call("edit", patient=patients[0], field="phone_mobile", value=PHONES[1])
        cut_note = world.note(b)
        for _ in range(count):
            world.random_edit(world.rng.choice((centre_side, cut_off)))
        # kill -9 a cut-off station just after a committed write, then it comes back.
        victim = world.rng.choice(cut_off)
        world.note(victim)
        world.kill(victim)
        world.start(victim, group=cut_off)
        world.random_edit([victim])
        # Within the cut-off group the note travels; across the cut it cannot.
        world.wait_for_note(cut_note, cut_off)
        assert not any(world.child(i).call("has_note", id=cut_note)["found"] for i in centre_side)

        # The cut heals; a station is killed while it pushes fresh writes to the others.
        for i in cut_off:
            world.stop(i)
            world.start(i)
        victim = world.rng.choice(everyone)
        for _ in range(3):
            world.note(victim)
        world.kill(victim)
        world.start(victim)
        for _ in range(count):
            world.random_edit(everyone)

        reports = world.wait_converged()
    finally:
        for i in everyone:
            if world.nodes[i].child is not None:
                world.kill(i)
    assert all(r["state"] in {"up_to_date", "conflicts"} for r in reports), reports

    finals = [final_state(d, key, patients[0]) for d in dirs]
    for i, final in enumerate(finals):
        assert final.dump == finals[0].dump, f"station {i} differs from the centre"
        assert world.notes <= final.notes and cut_note in final.notes
        assert world.created | set(patients) <= final.patients
        # The phones typed on each side of the cut: one is shown, the other kept as a conflict.
        assert final.phone in PHONES
        assert final.kept_phones == set(PHONES) - {final.phone}


@pytest.mark.parametrize(("count", "interval"), [(2, 1.0), (7, 2.0)])
def test_stations_as_processes_converge_after_edits_cuts_and_kills(
    centre: Centre, tmp_path: Path, count: int, interval: float
) -> None:
    run_scenario(centre, tmp_path, count, interval)


def test_an_address_dropped_from_the_peer_list_is_not_unreachable_forever(
    centre: Centre, tmp_path: Path
) -> None:
    dirs, _, _ = pair_stations(centre, tmp_path, 2)
    ws_a, _ = centre.login("dr.test")
    ws_b, _ = Centre(dirs[1], "").login("dr.test")
    try:
        service_a = SyncService(ws_a.store, host="127.0.0.1", port=0, discovery=False)
        service_a.start()
        try:
            # A typo in the fixed list: nobody answers there.
            identity.set_static_peers(ws_b.store, f"127.0.0.1:{free_ports(1)[0]}")
            first = SyncService(ws_b.store, host="127.0.0.1", port=0, discovery=False)
            first.start()
            try:
                assert first.sync_now().state is SyncState.UNREACHABLE
            finally:
                first.stop()
            # Fixed: the list now names the reachable station only.
            identity.set_static_peers(ws_b.store, f"127.0.0.1:{service_a.address[1]}")
            fixed = SyncService(ws_b.store, host="127.0.0.1", port=0, discovery=False)
            fixed.start()
            try:
                assert fixed.sync_now().state is SyncState.UP_TO_DATE
            finally:
                fixed.stop()
        finally:
            service_a.stop()
    finally:
        ws_a.close()
        ws_b.close()
