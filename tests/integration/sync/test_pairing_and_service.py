"""Joining a centre copies it (same passwords, own station id), then the service keeps it in sync."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cms_desktop import __version__
from cms_desktop.services import sync_conflicts
from cms_desktop.services.sync_conflicts import ConflictChoice
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import AuditEntry, Patient, SyncStation, User
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.discovery import PeerAddress, PeerDirectory
from cms_desktop.sync.errors import SyncError
from cms_desktop.sync.pairing import PairingCode, PairingError
from cms_desktop.sync.pairing_net import PairingServer, join_centre
from cms_desktop.sync.service import SyncService, SyncState, peer_rows
from tests.conftest import STAFF_PASSWORD, Centre


def add_patient(ws: Workspace, name: str) -> str:
    import datetime as dt

    with ws.store.write() as session:
        patient = Patient(
            birth_name=name, first_given_name="Alex", birth_date=dt.date(1990, 5, 6), sex="M"
        )
        session.add(patient)
    return patient.id


@pytest.fixture
def joined(centre: Centre, tmp_path: Path) -> Iterator[tuple[Centre, DataDir, str]]:
    ws, _ = centre.login("dr.test")
    try:
        add_patient(ws, "AVANT")
        identity.ensure_site(ws.store, "Accueil")
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            joiner_dir = DataDir(tmp_path / "poste2")
            result = join_centre(
                joiner_dir, "127.0.0.1", server.address[1], code.display, "Salle 2"
            )
        finally:
            server.stop()
        with ws.store.read() as session:
            assert session.get(SyncStation, result.station_id) is not None
    finally:
        ws.close()
    yield centre, joiner_dir, result.station_id


def test_joining_copies_the_centre_and_its_passwords(joined: tuple[Centre, DataDir, str]) -> None:
    centre, joiner_dir, station_id = joined
    ws_a, _ = centre.login("accueil")
    ws_b, _ = Centre(joiner_dir, "").login("accueil", STAFF_PASSWORD)  # same password
    try:
        assert ws_b.store.station_id == station_id != ws_a.store.station_id
        assert ws_b.centre_id == ws_a.centre_id
        with ws_a.store.read() as a, ws_b.store.read() as b:
            for model in (Patient, User):
                ids_a = set(a.scalars(select(model.id)))
                assert ids_a and ids_a == set(b.scalars(select(model.id)))
        creds = identity.load_credentials(ws_b.store)
        assert creds is not None and creds.station_id == station_id
        assert [p.port for p in identity.static_peers(ws_b.store)]
    finally:
        ws_a.close()
        ws_b.close()


def test_a_code_works_once_and_a_wrong_code_is_refused(centre: Centre, tmp_path: Path) -> None:
    ws, _ = centre.login("admin", "Chef-Secret-42")
    try:
        identity.ensure_site(ws.store)
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            with pytest.raises(PairingError):
                join_centre(
                    DataDir(tmp_path / "x"), "127.0.0.1", server.address[1], "AAAA-AAAA", "X"
                )
            assert not DataDir(tmp_path / "x").initialised  # left empty, ready for a retry
        finally:
            server.stop()
    finally:
        ws.close()


def test_a_name_already_given_to_a_station_is_refused_and_the_code_still_works(
    centre: Centre, tmp_path: Path
) -> None:
    ws, _ = centre.login("admin", "Chef-Secret-42")
    try:
        identity.ensure_site(ws.store, "Accueil")
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            target = DataDir(tmp_path / "poste2")
            port = server.address[1]
            with pytest.raises(PairingError, match="s'appelle déjà « accueil »"):
                join_centre(target, "127.0.0.1", port, code.display, " accueil ")
            assert not target.initialised
            joined = join_centre(target, "127.0.0.1", port, code.display, "Salle 2")
            assert joined.entries > 0
        finally:
            server.stop()
    finally:
        ws.close()


def _hold_port(port: int, timeout_s: float = 10.0) -> socket.socket:
    """Listen on ``port`` (waiting while another test holds it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return socket.create_server(("0.0.0.0", port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_pairing_code_listens_on_another_port_when_the_usual_one_is_taken(
    centre: Centre,
) -> None:
    """The usual port (47311) lets the person type only the address; taken by another
    program, the code still shows, with its port next to the address."""
    from cms_desktop.services.sync_admin import PAIRING_PORT, PairingHandle, open_pairing_server

    ws, _ = centre.login("admin", "Chef-Secret-42")
    try:
        identity.ensure_site(ws.store, "Accueil")
        with _hold_port(PAIRING_PORT):
            server = open_pairing_server(ws, None)
            try:
                assert server.address[1] not in (0, PAIRING_PORT)
                handle = PairingHandle("code", server.address[1], server, ("192.168.1.10",))
                assert handle.address_text == f"192.168.1.10:{server.address[1]}"
            finally:
                server.stop()
            with pytest.raises(OSError):  # a port asked for explicitly is that port or none
                open_pairing_server(ws, None, PAIRING_PORT)
    finally:
        ws.close()


# Two station ids whose short codes (the « AZ20 » of « DA-2026-AZ20-0012 ») are the same,
# found by a birthday search over version-7-shaped ids.
REMOVED_STATION = "01900000-0000-7000-8000-00000000046b"
SAME_CODE = "01900000-0000-7000-8000-000000000999"


def test_a_joiner_whose_station_code_is_taken_draws_another_id_with_the_same_code(
    centre: Centre, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A removed station's references stay in the records: a new station whose id gives
    the same short code would hand out the same references, so the centre refuses that id
    (before the one-time code is tried) and the joiner asks again with a fresh one."""
    from cms_desktop.domain.record_access import station_code
    from cms_desktop.storage.models import new_id
    from cms_desktop.sync import pairing_net
    from cms_desktop.sync.pki import issue_station_certificate

    assert station_code(REMOVED_STATION) == station_code(SAME_CODE)
    ws, _ = centre.login("admin", "Chef-Secret-42")
    try:
        identity.ensure_site(ws.store, "Accueil")
        ca = identity.ca_keys(ws.store)
        assert ca is not None
        cert, _key = issue_station_certificate(*ca, REMOVED_STATION, "Ancien poste")
        with ws.store.write() as session:
            identity.register_station(session, REMOVED_STATION, "Ancien poste", cert)
            identity.revoke_station(session, REMOVED_STATION)
        code = PairingCode()
        server = PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start()
        try:
            target = DataDir(tmp_path / "poste2")
            port = server.address[1]
            monkeypatch.setattr(pairing_net, "new_id", lambda: SAME_CODE)  # every draw collides
            with pytest.raises(PairingError, match="refusé l'identifiant de ce poste"):
                join_centre(target, "127.0.0.1", port, code.display, "Salle 2")
            assert not target.initialised
            draws = iter([SAME_CODE])
            monkeypatch.setattr(pairing_net, "new_id", lambda: next(draws, None) or new_id())
            joined = join_centre(target, "127.0.0.1", port, code.display, "Salle 2")
        finally:
            server.stop()
        assert joined.station_id != SAME_CODE
        codes = [station_code(station.id) for station in identity.stations(ws.store)]
        assert len(codes) == len(set(codes)) == 3  # Accueil, the removed one, Salle 2
    finally:
        ws.close()


def test_service_pushes_a_note_and_settles_a_conflict_everywhere(
    joined: tuple[Centre, DataDir, str],
) -> None:
    centre, joiner_dir, station_b = joined
    ws_a, doctor = centre.login("dr.test")
    ws_b, doctor_b = Centre(joiner_dir, "").login("dr.test")
    services: list[SyncService] = []
    try:
        changed = threading.Event()
        service_a = SyncService(
            ws_a.store, host="127.0.0.1", port=0, discovery=False, interval_s=60
        )
        service_b = SyncService(
            ws_b.store, host="127.0.0.1", port=0, discovery=False, interval_s=60
        )
        services = [service_a.start(), service_b.start()]
        service_a.replica.add_listener(lambda outcome: changed.set())
        from cms_desktop.sync.discovery import PeerAddress

        service_b.directory = type(service_b.directory)(
            station_b, [PeerAddress("127.0.0.1", service_a.address[1])]
        )
        # A note written on the cut-off station B reaches A on the next pass (push on commit).
        with ws_b.store.write() as session:
            from cms_desktop.storage import audit

            note = audit.append(session, station_b, "note", target_type="note").id
        assert changed.wait(10)
        with ws_a.store.read() as session:
            assert session.get(AuditEntry, note) is not None
        # Concurrent identity edits: both values survive, then a person settles it.
        with ws_a.store.read() as session:
            pid = session.scalars(select(Patient.id)).first()
        assert pid is not None
        service_b.sync_now()
        for ws, phone in ((ws_a, "0611111111"), (ws_b, "0622222222")):
            with ws.store.write() as session:
                row = session.get(Patient, pid)
                assert row is not None
                row.phone_mobile = phone
        service_b.sync_now()
        service_b.sync_now()
        views_a = sync_conflicts.list_conflicts(ws_a, doctor)
        views_b = sync_conflicts.list_conflicts(ws_b, doctor_b)
        assert [v.id for v in views_a] == [v.id for v in views_b] and len(views_a) == 1
        assert {views_a[0].shown_value, views_a[0].kept_value} == {"0611111111", "0622222222"}
        assert service_a.status().state is SyncState.CONFLICTS
        kept = views_a[0].kept_value
        sync_conflicts.resolve_conflict(ws_a, doctor, views_a[0].id, ConflictChoice.KEPT)
        service_b.sync_now()
        for ws in (ws_a, ws_b):
            with ws.store.read() as session:
                row = session.get(Patient, pid)
                assert row is not None and row.phone_mobile == kept
            assert sync_conflicts.count_open_conflicts(ws) == 0
        assert service_b.status().state is SyncState.UP_TO_DATE
    finally:
        for service in services:
            service.stop()
        ws_a.close()
        ws_b.close()


def test_a_removed_station_is_refused(joined: tuple[Centre, DataDir, str]) -> None:
    centre, joiner_dir, station_b = joined
    ws_a, _ = centre.login("admin", "Chef-Secret-42")
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    service_a = SyncService(ws_a.store, host="127.0.0.1", port=0, discovery=False, interval_s=60)
    service_a.start()
    try:
        with ws_a.store.write() as session:
            identity.revoke_station(session, station_b)
        from cms_desktop.sync.transport import SyncClient

        client = SyncClient(
            service_a.replica.__class__(ws_b.store),
            identity.require_credentials(ws_b.store),
            timeout_s=10,
        )
        with pytest.raises(SyncError):
            client.sync_with("127.0.0.1", service_a.address[1])
    finally:
        service_a.stop()
        ws_a.close()
        ws_b.close()


@dataclass
class Running:
    """The centre's station A and the joined station B, each with its service started
    (long intervals: only a push or an explicit pass moves anything during a test)."""

    ws_a: Workspace
    ws_b: Workspace
    a: SyncService
    b: SyncService

    def b_lists(self, *addresses: PeerAddress) -> None:
        """B's fixed list (multicast off): the only addresses B knows."""
        self.b.directory = PeerDirectory(self.ws_b.store.station_id, list(addresses))

    def a_address(self) -> PeerAddress:
        return PeerAddress("127.0.0.1", self.a.address[1])

    def note_on(self, ws: Workspace) -> str:
        with ws.store.write() as session:
            return audit.append(session, ws.store.station_id, "note", target_type="note").id


@pytest.fixture
def running(joined: tuple[Centre, DataDir, str]) -> Iterator[Running]:
    centre, joiner_dir, _station_b = joined
    ws_a, _ = centre.login("dr.test")
    ws_b, _ = Centre(joiner_dir, "").login("dr.test")
    a = SyncService(ws_a.store, host="127.0.0.1", port=0, discovery=False, interval_s=600)
    b = SyncService(ws_b.store, host="127.0.0.1", port=0, discovery=False, interval_s=600)
    a.start()
    b.start()
    try:
        yield Running(ws_a, ws_b, a, b)
    finally:
        b.stop()
        a.stop()
        ws_a.close()
        ws_b.close()


def test_a_station_of_the_fixed_list_that_stops_answering_shows_once_as_unreachable(
    running: Running,
) -> None:
    """The fixed list names an address, not a station: once the station there has
    answered, its silence is that station's, shown on its row (not a second anonymous one)."""
    address = running.a_address()
    running.b_lists(address)
    assert running.b.sync_now().state is not SyncState.UNREACHABLE
    running.a.stop()
    assert running.b.sync_now().state is SyncState.UNREACHABLE
    rows = [row for row in peer_rows(running.ws_b.store) if row["port"] == address.port]
    assert len(rows) == 1
    assert rows[0]["station_id"] == running.ws_a.store.station_id
    assert rows[0]["unreachable_since"] is not None
    assert rows[0]["last_contact"] is not None


def test_a_station_just_paired_says_it_has_not_reached_the_others_yet(
    joined: tuple[Centre, DataDir, str],
) -> None:
    _centre, joiner_dir, _station_b = joined
    ws_b, _ = Centre(joiner_dir, "").login("dr.test")
    try:
        service = SyncService(ws_b.store, host="127.0.0.1", port=0, discovery=False)
        status = service.status()  # not started: nobody contacted yet
        assert status.state is SyncState.NOT_YET
        assert status.text == "Synchronisation : pas encore de contact avec les autres postes"
    finally:
        ws_b.close()


def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """``condition`` became true within ``timeout_s`` (what a served session teaches a
    station is noted when the server's side ends, a moment after the client's pass)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_station_that_contacted_us_is_pushed_to_without_multicast(running: Running) -> None:
    """Multicast blocked, and only the new station lists the other in its fixed list: once
    it has made contact, the other knows where it listens and pushes its changes to it at
    once, instead of waiting for its next pass (both are 10 minutes away here)."""
    assert running.a.directory.peers() == []  # A knows no address of B
    running.b_lists(running.a_address())
    running.b.sync_now()
    assert eventually(lambda: running.a.directory.peers() != [])
    note = running.note_on(running.ws_a)

    def arrived() -> bool:
        with running.ws_b.store.read() as session:
            return session.get(AuditEntry, note) is not None

    assert eventually(arrived)
    station_b = running.ws_b.store.station_id
    row = next(r for r in peer_rows(running.ws_a.store) if r["station_id"] == station_b)
    assert (row["host"], row["port"]) == ("127.0.0.1", running.b.address[1])


def test_each_side_of_a_session_records_the_other_s_version_and_schema(
    running: Running,
) -> None:
    """#20: what the Synchronisation page shows of each station comes from its HELLO,
    on the client's side and on the server's."""
    running.b_lists(running.a_address())
    running.b.sync_now()
    station_a, station_b = running.ws_a.store.station_id, running.ws_b.store.station_id
    schema = running.ws_a.store.replication.schema_version

    def told(store: Store, peer: str) -> bool:
        row = next((r for r in peer_rows(store) if r["station_id"] == peer), None)
        return row is not None and (row["app_version"], row["schema"]) == (__version__, schema)

    assert told(running.ws_b.store, station_a)
    assert eventually(lambda: told(running.ws_a.store, station_b))


@pytest.fixture
def b_two_hours_ahead(running: Running) -> Running:
    """B's PC clock is two hours ahead (a PC whose date was never set): its HLC, and so the
    wall clock its HELLO tells, on every thread it runs sessions on."""
    from cms_desktop.domain.hlc import wall_clock_ms

    clock = running.ws_b.store.replication.clock
    clock._now_ms = lambda: wall_clock_ms() + 2 * 3_600_000  # as tests/integration/sync/stations.py
    return running


def test_two_stations_whose_clocks_differ_by_hours_are_both_told(
    b_two_hours_ahead: Running,
) -> None:
    """The HELLO of every session carries each station's wall clock: both status bars say
    to check the clocks (with two stations, which one is wrong cannot be told)."""
    running = b_two_hours_ahead
    running.b_lists(running.a_address())
    status_b = running.b.sync_now()
    assert status_b.state is SyncState.OWN_CLOCK
    assert "diffèrent de 2 h 00" in status_b.text or "diffèrent de 1 h 59" in status_b.text
    assert eventually(lambda: running.a.status().state is SyncState.OWN_CLOCK)
    status_a = running.a.status()
    assert status_a.state is SyncState.OWN_CLOCK
    assert status_a.own_clock_off_ms is not None and status_a.own_clock_off_ms < 0  # A is behind B


def test_a_hung_station_does_not_hold_back_the_push_to_the_others(running: Running) -> None:
    """A PC that accepts the connection and then says nothing (hung, or half switched off)
    comes first in the list: the change still reaches the working station at once."""
    hung = socket.create_server(("127.0.0.1", 0))  # accepts, never answers the handshake
    try:
        running.b_lists(PeerAddress("127.0.0.1", hung.getsockname()[1]), running.a_address())
        arrived = threading.Event()
        running.a.replica.add_listener(lambda outcome: arrived.set())
        note = running.note_on(running.ws_b)
        assert arrived.wait(10)  # the hung peer's session times out only after 15 s
        with running.ws_a.store.read() as session:
            assert session.get(AuditEntry, note) is not None
        # Logging out cuts the session still waiting on the hung PC (its timeout is 15 s).
        stopper = threading.Thread(target=running.b.stop)
        stopper.start()
        stopper.join(8)
        assert not stopper.is_alive()
        # The session cut by the logout is not the hung PC's failure: nothing is recorded
        # (it would show « échange en échec » or « injoignable » at the next login).
        port = hung.getsockname()[1]
        cut = [row for row in peer_rows(running.ws_b.store) if row["port"] == port]
        assert all(not row["last_error"] and not row["unreachable_since"] for row in cut)
    finally:
        hung.close()


def test_a_removed_station_says_so_instead_of_unreachable(running: Running) -> None:
    running.b_lists(running.a_address())
    assert running.b.sync_now().state is not SyncState.REFUSED
    with running.ws_a.store.write() as session:  # the administrator removes B, on A
        identity.revoke_station(session, running.ws_b.store.station_id)
    status = running.b.sync_now()
    assert status.state is SyncState.REFUSED
    assert status.text == (
        "Synchronisation : refusée par les autres postes, ce poste a été retiré du centre "
        "(l'administrateur peut l'appairer de nouveau)"
    )
