"""Stations over real mutual TLS 1.3 on 127.0.0.1, with in-memory op logs."""

from __future__ import annotations

import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from cms_desktop.sync.errors import PeerRejected, RemoteError, SyncError
from cms_desktop.sync.memory_store import HoldReason, MemoryReplicaStore
from cms_desktop.sync.pki import (
    RevocationList,
    StationCredentials,
    create_revocation_list,
    pairing_client_context,
    revoke,
)
from cms_desktop.sync.transport import (
    MessageType,
    SyncClient,
    SyncPeerServer,
    SyncReport,
    recv_frame,
)
from tests.unit.sync.factories import credentials, site

NOW_MS = 1_700_000_000_000


@dataclass
class Station:
    creds: StationCredentials
    store: MemoryReplicaStore
    server: SyncPeerServer
    outcomes: queue.Queue[SyncReport | SyncError] = field(default_factory=queue.Queue)

    @property
    def port(self) -> int:
        return self.server.address[1]

    def client(self, revocation: RevocationList | None = None) -> SyncClient:
        return SyncClient(self.store, self.creds, revocation=lambda: revocation, timeout_s=10)

    def sync_with(self, other: Station) -> SyncReport:
        return self.client().sync_with(
            "127.0.0.1", other.port, expected_peer=other.creds.station_id
        )

    def next_outcome(self) -> SyncReport | SyncError:
        return self.outcomes.get(timeout=10)


StationFactory = Callable[..., Station]


@pytest.fixture
def make_station() -> Iterator[StationFactory]:
    started: list[Station] = []

    def build(
        station_id: str,
        schema: int = 1,
        now_ms: int = NOW_MS,
        creds: StationCredentials | None = None,
        revocation: RevocationList | None = None,
    ) -> Station:
        creds = creds or credentials(station_id)
        store = MemoryReplicaStore(station_id, schema, now_ms=lambda: now_ms)
        outcomes: queue.Queue[SyncReport | SyncError] = queue.Queue()
        server = SyncPeerServer(
            store,
            creds,
            host="127.0.0.1",
            revocation=lambda: revocation,
            on_session=outcomes.put,
            timeout_s=10,
        ).start()
        station = Station(creds, store, server, outcomes)
        started.append(station)
        return station

    yield build
    for station in started:
        station.server.stop()


def write(station: Station, count: int, entity: str = "patient") -> None:
    for n in range(count):
        station.store.record(
            entity, f"{station.creds.station_id}-{n}", {"nom_usage": f"Nom{n}", "n": n}
        )


def test_two_stations_exchange_both_ways(make_station: StationFactory) -> None:
    a, b = make_station("recep"), make_station("salle1")
    write(a, 1500)
    write(b, 20)
    report = a.sync_with(b)
    assert (report.peer_id, report.sent, report.received) == ("salle1", 1500, 20)
    server_report = b.next_outcome()
    assert isinstance(server_report, SyncReport)
    assert (server_report.peer_id, server_report.received) == ("recep", 1500)
    assert a.store.vector() == b.store.vector()
    assert a.store.rows() == b.store.rows()
    assert len(a.store.rows()) == 1520
    # Syncing again moves nothing.
    again = b.sync_with(a)
    assert (again.sent, again.received) == (0, 0)


def test_three_stations_converge_through_a_relay(make_station: StationFactory) -> None:
    a, b, c = make_station("recep"), make_station("salle1"), make_station("salle2")
    write(a, 30)
    write(c, 5)
    b.sync_with(a)  # B now holds A's entries
    report = c.sync_with(b)  # C gets A's entries from B, never having met A
    assert report.received == 30
    assert c.store.vector().seq("recep") == 30
    a.sync_with(b)  # C's entries reach A through B
    assert a.store.vector() == b.store.vector() == c.store.vector()
    assert a.store.rows() == b.store.rows() == c.store.rows()


def test_peer_from_another_centre_is_refused_before_any_data(make_station: StationFactory) -> None:
    a = make_station("recep")
    write(a, 10)
    intruder = make_station("salle1", creds=credentials("salle1", site_name="Autre centre"))
    write(intruder, 10)
    with pytest.raises(PeerRejected):
        intruder.sync_with(a)
    assert isinstance(a.next_outcome(), SyncError)
    assert a.store.vector().seq("salle1") == 0
    assert intruder.store.vector().seq("recep") == 0


def test_client_without_certificate_is_refused_by_the_handshake(
    make_station: StationFactory,
) -> None:
    a = make_station("recep")
    write(a, 3)
    context = pairing_client_context()  # TLS 1.3 but no client certificate
    with (
        socket.create_connection(("127.0.0.1", a.port), timeout=10) as raw,
        pytest.raises((ssl.SSLError, ConnectionError)),
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(b"\x00\x00\x00\x02\x01{}")
        recv_frame(tls)  # the server aborts instead of answering
    outcome = a.next_outcome()
    assert isinstance(outcome, PeerRejected)


def test_revoked_station_is_refused(make_station: StationFactory) -> None:
    ca_cert, ca_key = site()
    bad = credentials("salle9")
    crl = RevocationList.load(
        revoke(ca_cert, ca_key, create_revocation_list(ca_cert, ca_key), bad.cert_pem), ca_cert
    )
    a = make_station("recep", revocation=crl)
    write(a, 4)
    revoked = make_station("salle9", creds=bad)
    with pytest.raises(RemoteError, match="révoqué") as caught:
        revoked.sync_with(a)
    assert caught.value.code == "peer_rejected"
    assert revoked.store.vector().seq("recep") == 0
    # And a client that knows the revocation refuses to talk to that station as a server.
    with pytest.raises(PeerRejected, match="révoqué"):
        a.client(revocation=crl).sync_with("127.0.0.1", revoked.port)


def test_store_claiming_another_identity_than_its_certificate_is_refused(
    make_station: StationFactory,
) -> None:
    a = make_station("recep")
    liar = make_station(
        "salle1", creds=credentials("salle2")
    )  # store says salle1, cert says salle2
    with pytest.raises(RemoteError, match="identité"):
        liar.sync_with(a)
    with pytest.raises(PeerRejected):
        a.client().sync_with("127.0.0.1", liar.port, expected_peer="salle1")


def test_newer_schema_peer_gets_a_clear_message_and_entries_are_held(
    make_station: StationFactory,
) -> None:
    old, new = make_station("recep", schema=1), make_station("salle1", schema=2)
    write(new, 5)
    report = old.sync_with(new)
    assert report.received == 5
    assert report.schema_notice is not None and "Mettez à jour ce poste" in report.schema_notice
    server_report = new.next_outcome()
    assert isinstance(server_report, SyncReport)
    assert (
        server_report.schema_notice is not None
        and "Mettez à jour le poste recep" in server_report.schema_notice
    )
    assert {held.reason for held in old.store.held} == {HoldReason.SCHEMA, HoldReason.ORDER}
    assert old.store.rows() == {}
    old.store.upgrade(2)
    assert old.store.retry_held() == 5
    assert old.store.rows() == new.store.rows()


def test_entries_from_a_clock_far_ahead_are_held(make_station: StationFactory) -> None:
    fast = make_station("salle3", now_ms=NOW_MS + 2 * 3_600_000)
    normal = make_station("recep")
    write(fast, 3)
    normal.sync_with(fast)
    assert normal.store.vector().seq("salle3") == 3
    assert [held.reason for held in normal.store.held] == [HoldReason.CLOCK] + [
        HoldReason.ORDER
    ] * 2
    assert normal.store.rows() == {}


def test_unreachable_peer_gives_a_french_error(make_station: StationFactory) -> None:
    a = make_station("recep")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(SyncError, match="injoignable"):
        a.client().sync_with("127.0.0.1", free_port)


def test_message_types_are_stable_codes() -> None:
    assert [kind.value for kind in MessageType] == [1, 2, 3, 4, 5, 6, 7]


def test_concurrent_sessions_relaying_the_same_origin_do_not_conflict(
    make_station: StationFactory,
) -> None:
    origin, a, b, c = (make_station(name) for name in ("salle5", "recep", "salle1", "salle2"))
    write(origin, 2500)
    a.sync_with(origin)
    c.sync_with(origin)
    errors: list[BaseException] = []

    def run(station: Station) -> None:
        try:
            station.sync_with(b)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(station,)) for station in (a, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert all(isinstance(b.next_outcome(), SyncReport) for _ in threads)
    assert b.store.vector() == origin.store.vector().merge(a.store.vector()).merge(c.store.vector())
    assert b.store.entries_since("salle5", 0, 3000) == origin.store.entries_since("salle5", 0, 3000)
