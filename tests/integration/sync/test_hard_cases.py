"""The hard cases of #21, each with real station processes (``station_child``) on 127.0.0.1:
a station put back from a copy of its files, a removed station that certifies itself, a
hung peer, a clock a day ahead then set right, two processes on one data directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cms_desktop.services import sync_admin
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import OpLogRow, Patient
from cms_desktop.storage.origin import outside_seal_path, read_seal, seal_path
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.pki import issue_station_certificate
from cms_desktop.ui.sync.background import BackgroundSync
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.sync.test_many_processes import (
    CONVERGE_TIMEOUT_S,
    ROOT,
    Child,
    final_state,
    free_ports,
    pair_stations,
)

INTERVAL_S = 1.0


def wait_until(
    condition: Callable[[], Any], what: str, timeout_s: float = CONVERGE_TIMEOUT_S
) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s; last: {LAST_REPORTS}")
        time.sleep(0.2)  # polling pace only; the assertion is on the state reached


@contextmanager
def running(dirs: list[DataDir], ports: list[int]) -> Iterator[list[Child]]:
    children: list[Child] = []
    try:
        for i, data_dir in enumerate(dirs):
            peers = [p for j, p in enumerate(ports) if j != i]
            children.append(Child(data_dir, ports[i], peers, INTERVAL_S))
        yield children
    finally:
        for child in children:
            if child.proc.poll() is None:
                child.quit()


def city_is(child: Child, patient_id: str, value: str) -> bool:
    return bool(child.call("field", patient=patient_id, field="city")["value"] == value)


def holds(child: Child, note_id: str) -> bool:
    return bool(child.call("has_note", id=note_id)["found"])


LAST_REPORTS: list[Any] = []  # shown when convergence fails


def settled(children: list[Child], quiet_s: float = 3 * INTERVAL_S) -> Callable[[], Any]:
    """A condition for ``wait_until``: converged, and the same digest for ``quiet_s`` (a few
    passes). Converged alone is not enough before stopping the stations to compare their
    files: the heads just received are signed at each station's next session (session 9),
    so a pass may still add a row that a station stopped right after never sends."""
    seen: dict[str, float] = {}

    def check() -> list[dict[str, Any]] | None:
        reports = converged(children)
        if reports is None:
            seen.clear()
            return None
        digest = reports[0]["digest"]
        if digest not in seen:  # a new state: its quiet time starts now
            seen.clear()
            seen[digest] = time.monotonic()
        return reports if time.monotonic() - seen[digest] >= quiet_s else None

    return check


def converged(children: list[Child]) -> list[dict[str, Any]] | None:
    reports = [
        child.call("digest") | child.call("status") | child.call("held") for child in children
    ]
    LAST_REPORTS[:] = reports
    same = len({r["digest"] for r in reports}) == 1
    settled = all(r["held"] == 0 and r["waiting"] == 0 for r in reports)
    return reports if same and settled else None


BACKUP_FILES = ("centre.db", "keyslots.json", "centre.db-wal")  # README, « Sauvegarde »


def copy_files(source: Path, target: Path, names: tuple[str, ...]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
        elif (target / name).exists():  # e.g. no WAL in the copy: none after restoring
            (target / name).unlink()
    (target / "centre.db-shm").unlink(missing_ok=True)


def test_a_station_put_back_from_its_backup_keeps_syncing_and_gets_its_lost_entries(
    centre: Centre, tmp_path: Path
) -> None:
    """Backed up as the README says, written on, then put back: before #21 its next login
    numbered entries its peer already held under other contents, and every session then
    failed with « chaînage des opérations rompu » for good."""
    dirs, patients, key = pair_stations(centre, tmp_path, 2)
    ports = free_ports(2)
    backup = tmp_path / "backup"
    with running(dirs, ports) as (a, b):
        before = b.call("note", patient=patients[0], text="Avant la sauvegarde")["id"]
        wait_until(lambda: holds(a, before), "note written before the backup reached A")
    copy_files(dirs[1].path, backup, BACKUP_FILES)  # the application is closed
    with running(dirs, ports) as (a, b):
        lost = [b.call("note", patient=patients[1], text=f"Perdue {i}")["id"] for i in range(3)]
        wait_until(lambda: all(holds(a, n) for n in lost), "notes written after the backup")
    copy_files(backup, dirs[1].path, BACKUP_FILES)  # the disk was replaced: put back
    with running(dirs, ports) as (a, b):
        assert not holds(b, lost[0])  # the copy did not have them
        after = b.call("note", patient=patients[2], text="Après la restauration")["id"]
        wait_until(lambda: holds(a, after), "a note written after the restore reached A")
        # B gets back what it wrote after the backup, from A.
        wait_until(lambda: all(holds(b, n) for n in lost), "B's lost notes came back to it")
        reports = wait_until(settled([a, b]), "both stations converge", 60)
        assert [r["state"] for r in reports] == ["up_to_date", "up_to_date"], reports
    finals = [final_state(d, key, patients[0]) for d in dirs]
    assert finals[0].dump == finals[1].dump
    assert {before, after, *lost} <= finals[0].notes


def whole_directory_put_back(
    centre: Centre, tmp_path: Path, stations: int = 2
) -> tuple[list[DataDir], list[int], list[str], bytes, tuple[str, str]]:
    """Two stations (or more); B's whole data directory (seal included) copied after a
    first note reached the others, a second note written and sent, then the copy put back.
    Returns the directories, ports, patients, key and the two notes (before the copy, lost
    by it)."""
    dirs, patients, key = pair_stations(centre, tmp_path, stations)
    ports = free_ports(stations)
    backup = tmp_path / "backup"
    with running(dirs, ports) as children:
        b, others = children[1], children[:1] + children[2:]
        before = b.call("note", patient=patients[0], text="Avant la sauvegarde")["id"]
        wait_until(lambda: all(holds(o, before) for o in others), "note before the backup")
    shutil.copytree(dirs[1].path, backup)
    with running(dirs, ports) as children:
        b, others = children[1], children[:1] + children[2:]
        lost = b.call("note", patient=patients[1], text="Perdue")["id"]
        wait_until(lambda: all(holds(o, lost) for o in others), "note after the backup")
    shutil.rmtree(dirs[1].path)
    shutil.copytree(backup, dirs[1].path)
    return dirs, ports, patients, key, (before, lost)


def test_a_whole_directory_copied_back_on_the_same_pc_is_caught_at_open(
    centre: Centre, tmp_path: Path
) -> None:
    """The whole data directory copied back, its seal included: the seal kept outside it
    (``storage.origin.outside_seal_path``) is ahead, so the station writes under a new
    origin from its first write on, gets back from A what the copy lacked, and the two
    converge with nothing reported (before session 9 its login was numbered again and the
    split was only reported)."""
    dirs, ports, patients, key, (before, lost) = whole_directory_put_back(centre, tmp_path)
    with running(dirs, ports) as (a, b):
        after = b.call("note", patient=patients[2], text="Après la restauration")["id"]
        wait_until(lambda: holds(a, after), "a note written after the copy-back reached A")
        wait_until(lambda: holds(b, lost), "B's lost note came back to it")
        reports = wait_until(settled([a, b]), "both stations converge", 60)
        assert [r["state"] for r in reports] == ["up_to_date", "up_to_date"], reports
    finals = [final_state(d, key, patients[0]) for d in dirs]
    assert finals[0].dump == finals[1].dump
    assert {before, lost, after} <= finals[0].notes


@pytest.mark.parametrize("typed_notes", [0, 1, 3])
def test_a_directory_copied_onto_another_pc_moves_what_it_typed_to_a_new_origin(
    centre: Centre, tmp_path: Path, typed_notes: int
) -> None:
    """The whole directory copied back onto a new PC (no outside seal there), then written
    on before it meets a peer: its login and notes are numbered again under the origin A
    already holds further, with other contents. At its first session it finds where the
    two histories part, moves what it typed after that to a new origin and takes A's
    history of the old one (before this it was reported as « historique divergé », and
    what was typed there never reached the other stations). Its login alone, or with one
    note, or with three notes and an edit: A then holds more of that origin, about as
    much, or less than B."""
    dirs, ports, patients, key, (before, lost) = whole_directory_put_back(centre, tmp_path, 3)
    # The new PC: none of B's seals outside its data directory.
    station_b = read_seal(seal_path(dirs[1].path))["station_id"]  # type: ignore[index]
    outside_seal_path(str(station_b)).unlink()
    others = [0, 2]  # A and C, both holding what B wrote after the copy
    b = Child(dirs[1], ports[1], [ports[i] for i in others], INTERVAL_S)  # nobody to meet yet
    try:
        typed = [
            b.call("note", patient=patients[2], text=f"Tapée avant la synchronisation {i}")["id"]
            for i in range(typed_notes)
        ]
        city = "Saint-Denis" if typed_notes > 1 else None
        if city is not None:
            b.call("edit", patient=patients[0], field="city", value=city)
        with running([dirs[i] for i in others], [ports[i] for i in others]) as (a, c):
            wait_until(
                lambda: all(holds(s, n) for n in typed for s in (a, c)), "B's notes reached A, C"
            )
            wait_until(lambda: holds(b, lost), "the note the copy lacked came back to B")
            if city is not None:
                wait_until(lambda: city_is(c, patients[0], city), "B's edit reached C")
            reports = wait_until(settled([a, b, c]), "the stations converge", 90)
            assert [r["state"] for r in reports] == ["up_to_date"] * 3, reports
    finally:
        b.quit()
    finals = [final_state(d, key, patients[0]) for d in dirs]
    assert finals[0].dump == finals[1].dump == finals[2].dump
    assert {before, lost, *typed} <= finals[0].notes
    # B's old origin: now what A held of it (the copy's own entries after the fork moved).
    final_vector = reports[1]["vector"]
    assert final_vector[str(station_b)] == reports[0]["vector"][str(station_b)]
    assert any(o.startswith(f"{station_b}@") for o in final_vector), final_vector
    for data_dir in dirs:  # the audit chains and the witnessed heads hold everywhere
        checked = cli(data_dir, "check")
        assert checked.returncode == 0, checked.stderr
        assert "Journal d'audit intact." in checked.stdout, checked.stdout
        store = Store.open(data_dir, key)
        try:  # nothing left to report on the Synchronisation page
            assert DbReplicaStore(store).diverged() == {}
        finally:
            store.close()


def test_a_removed_station_that_certifies_itself_again_stays_out(
    centre: Centre, tmp_path: Path
) -> None:
    """Pairing hands every station the centre's CA key: before #21 a removed station made
    itself a certificate with a new serial (revocation was by serial) and was merged again."""
    dirs, patients, _ = pair_stations(centre, tmp_path, 2)
    ws_b, _ = Centre(dirs[1], "").login("dr.test")
    station_b = ws_b.store.station_id
    ws_b.close()
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        sync_admin.remove_station(ws_a, admin, station_b)
    finally:
        ws_a.close()
    ws_b, _ = Centre(dirs[1], "").login("dr.test")
    try:  # what the removed station can do with what it holds
        keys = identity.ca_keys(ws_b.store)
        assert keys is not None
        cert, key = issue_station_certificate(*keys, station_b, "Salle 1")
        with ws_b.store.write() as session:
            identity.save_identity(session, station_b, "Salle 1", cert, key, *keys)
    finally:
        ws_b.close()
    ports = free_ports(2)
    with running(dirs, ports) as (a, b):
        note = b.call("note", patient=patients[0], text="Après le retrait")["id"]
        wait_until(lambda: b.call("status")["state"] == "refused", "B is told it was removed")
        assert a.call("sync")["state"] not in {"unreachable", "failed"}  # removed ≠ injoignable
        assert not holds(a, note)


def serve(data_dir: DataDir, port: int) -> subprocess.Popen[str]:
    """``cms-desktop sync serve`` on ``data_dir``, as a PC left on at night runs it."""
    process = subprocess.Popen(
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
            "600",  # pushes on commit only (its own, or the application's beside it)
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(ADMIN_PASSWORD + "\n")
    process.stdin.close()
    line = process.stdout.readline()
    assert line.startswith("Synchronisation active"), (line, process.stderr.read())
    return process


def cli(data_dir: DataDir, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cms_desktop",
            "--data-dir",
            str(data_dir.path),
            *args,
            "--as",
            "admin",
            "--password-stdin",
        ],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )


def city_of(ws: Workspace, patient_id: str) -> str | None:
    with ws.store.read() as session:
        patient = session.get(Patient, patient_id)
        return None if patient is None else patient.city


def test_sync_serve_and_the_application_on_one_directory(centre: Centre, tmp_path: Path) -> None:
    """``sync serve`` left running, the application opened on the same data directory: an
    edit typed in the application after it showed a peer's value supersedes that value
    (before #21 its version was lower than its base: the application's clock had not seen
    the peer's, a little ahead), and reaches the peer through ``sync serve``."""
    dirs, patients, _ = pair_stations(centre, tmp_path, 2)
    port_a, port_b = free_ports(2)
    ws_b, _ = Centre(dirs[1], "").login("dr.test")
    identity.set_static_peers(ws_b.store, f"127.0.0.1:{port_a}")
    ws_b.close()
    a = Child(dirs[0], port_a, [port_b], INTERVAL_S)
    server = serve(dirs[1], port_b)
    ws_b, _ = Centre(dirs[1], "").login("dr.test")  # the application
    try:
        # The application does not start a second service: « sync serve » pushes for it.
        background = BackgroundSync(ws_b)
        assert background.start() is False
        assert background.error == (
            "Synchronisation : assurée par le service « sync serve » ouvert sur ce poste"
        )
        # A second « sync serve » is refused with a clear message; « sync now » runs.
        second = cli(dirs[1], "sync", "serve", "--no-discovery", "--port", "0")
        assert second.returncode == 1
        assert second.stderr.startswith("erreur : La synchronisation de ce poste est déjà")
        assert cli(dirs[1], "sync", "now").returncode == 0

        a.call("clock", offset_ms=120_000)  # A's clock 2 min ahead: tolerated, not held
        assert a.call("edit", patient=patients[0], field="city", value="Vue sur A") == {"ok": True}
        wait_until(lambda: city_of(ws_b, patients[0]) == "Vue sur A", "A's edit seen on B")
        with ws_b.store.write() as session:
            patient = session.get(Patient, patients[0])
            assert patient is not None
            seen = patient.version
            patient.city = "Corrigée sur B"
        with ws_b.store.read() as session:
            entry = session.scalars(
                select(OpLogRow)
                .where(OpLogRow.row_id == patients[0])
                .order_by(OpLogRow.hlc.desc())
                .limit(1)
            ).one()
        assert entry.base == seen and entry.hlc > seen  # written after what it saw
        wait_until(
            lambda: city_is(a, patients[0], "Corrigée sur B"),
            "the application's edit reached A through sync serve",
        )
    finally:
        ws_b.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=120) == 0
        a.quit()


DAY_MS = 24 * 3_600_000


def test_a_clock_a_day_ahead_once_set_right_no_longer_holds_its_station_back(
    centre: Centre, tmp_path: Path
) -> None:
    """Before #21 the station's clock restarted from the highest stamp of its op-log, a day
    ahead: everything typed there after its clock was set right waited a day on the others,
    which kept telling people to set a clock that was right."""
    dirs, patients, _ = pair_stations(centre, tmp_path, 3)
    ports = free_ports(3)
    with running(dirs, ports) as (accueil, salle1, _salle2):
        salle1.call("clock", offset_ms=DAY_MS)
        ahead = salle1.call("note", patient=patients[0], text="Horloge en avance")["id"]
        status = wait_until(
            lambda: (s := accueil.call("status"))["state"] == "clock_ahead" and s,
            "the others hold what the station a day ahead wrote",
        )
        assert status["text"] == (
            "Synchronisation : horloge en avance sur le poste « Salle 1 », ses modifications "
            "attendent (réglez sa date et son heure)"
        )
        assert not holds(accueil, ahead)
    # Its clock is set right; the application is started again on it.
    with running(dirs, ports) as (accueil, salle1, salle2):
        after = salle1.call("note", patient=patients[1], text="Horloge réglée")["id"]
        for child in (accueil, salle2):
            wait_until(lambda c=child: holds(c, after) and holds(c, ahead), "nothing waits")
        reports = wait_until(lambda: converged([accueil, salle1, salle2]), "all converge", 60)
        assert {r["state"] for r in reports} == {"up_to_date"}, reports


@contextmanager
def switched_off_peer() -> Iterator[int]:
    """A port on 127.0.0.1 that never answers a connection, as a PC switched off (no ARP
    answer): a listener with a full backlog that never accepts drops every further SYN."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue (its length is backlog + 1)
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_hung_and_a_switched_off_peer_do_not_slow_the_others(
    centre: Centre, tmp_path: Path
) -> None:
    """Before #21 a pass waited for every peer before the next push: with one station
    stopped, commit → visible between the two others was 15 s at p95 (the client timeout)."""
    dirs, patients, _ = pair_stations(centre, tmp_path, 3)
    ports = free_ports(3)
    with switched_off_peer() as off:
        peers = [[ports[1], ports[2], off], [ports[0], ports[2], off], [ports[0], ports[1]]]
        children = [Child(d, ports[i], peers[i], 5.0) for i, d in enumerate(dirs)]
        a, b, c = children
        try:
            wait_until(lambda: converged(children), "the three stations converge first")
            c.proc.send_signal(signal.SIGSTOP)  # hung: accepts connections, answers nothing
            delays = []
            for i in range(12):
                start = time.monotonic()
                note = a.call("note", patient=patients[i % 3], text=f"Mesure {i}")["id"]
                wait_until(lambda n=note: holds(b, n), "a note reached B", 60)
                delays.append(time.monotonic() - start)
            delays.sort()
            p95 = delays[int(0.95 * (len(delays) - 1))]
            print(f"commit → visible with a peer hung and one off: p95 {p95:.3f} s {delays}")
            # The target is 2 s (measured 0.27 s here, polling included); the bound leaves room
            # for a busy CI machine and still tells the old behaviour, a hung peer's 15 s.
            assert p95 < 10.0, delays
        finally:
            c.proc.send_signal(signal.SIGCONT)
            for child in children:
                child.quit()
