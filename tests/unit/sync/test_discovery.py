from __future__ import annotations

import socket
import threading

import pytest
from zeroconf import ServiceInfo, Zeroconf

from cms_desktop.sync.discovery import (
    DEFAULT_PORT,
    SERVICE_TYPE,
    PeerAddress,
    PeerDirectory,
    PeerListError,
    PeerSource,
    SyncDiscovery,
    build_service_info,
    parse_peer_list,
    parse_service_info,
    site_fingerprint,
)

SITE = site_fingerprint(b"-----BEGIN CERTIFICATE----- synthetic")


def test_service_info_round_trips_to_a_peer() -> None:
    info = build_service_info("salle2", 47310, ["192.168.1.22"], SITE, schema_version=3)
    assert info.type == SERVICE_TYPE and info.name.startswith("cms-salle2.")
    assert parse_service_info(info, SITE) == PeerAddress(
        "192.168.1.22", 47310, "salle2", PeerSource.MDNS
    )


def test_service_of_another_centre_or_incomplete_is_ignored() -> None:
    info = build_service_info("salle2", 47310, ["192.168.1.22"], SITE, schema_version=3)
    assert parse_service_info(info, "autre") is None
    bare = ServiceInfo(
        SERVICE_TYPE, "cms-x." + SERVICE_TYPE, port=1, properties={"site": SITE, "v": "1"}
    )
    assert parse_service_info(bare, SITE) is None


def test_fixed_peer_list_parsing() -> None:
    text = "192.168.1.10:5000, poste-recep\n# commentaire\n[fe80::1]:6000\n\n[::1]"
    assert parse_peer_list(text) == [
        PeerAddress("192.168.1.10", 5000),
        PeerAddress("poste-recep", DEFAULT_PORT),
        PeerAddress("fe80::1", 6000),
        PeerAddress("::1", DEFAULT_PORT),
    ]


@pytest.mark.parametrize("bad", ["hote:abc", "hote:0", "hote:70000", ":5000"])
def test_bad_fixed_peer_is_refused_in_french(bad: str) -> None:
    with pytest.raises(PeerListError, match="Adresse de poste invalide"):
        parse_peer_list(bad)


def test_directory_merges_found_and_fixed_peers_without_self_or_duplicates() -> None:
    static = [PeerAddress("10.0.0.2", 47310), PeerAddress("10.0.0.3", 47310)]
    directory = PeerDirectory("salle1", static)
    directory.found(PeerAddress("10.0.0.2", 47310, "salle2", PeerSource.MDNS))
    directory.found(PeerAddress("10.0.0.9", 47310, "salle1", PeerSource.MDNS))  # ourselves
    assert directory.peers() == [
        PeerAddress("10.0.0.2", 47310, "salle2", PeerSource.MDNS),
        PeerAddress("10.0.0.3", 47310),
    ]
    directory.lost("salle2")
    assert directory.peers() == static


def test_two_stations_find_each_other_over_multicast() -> None:
    site = SITE
    try:
        zc_a, zc_b = Zeroconf(interfaces=["127.0.0.1"]), Zeroconf(interfaces=["127.0.0.1"])
    except OSError as exc:
        pytest.skip(f"multicast not allowed on this machine: {exc}")
    zc_a.close()
    zc_b.close()
    dir_a = PeerDirectory("salle1")
    a = SyncDiscovery(
        dir_a,
        build_service_info("salle1", 5001, ["127.0.0.1"], site, 1),
        site,
        lambda: Zeroconf(interfaces=["127.0.0.1"]),
    )
    b = SyncDiscovery(
        PeerDirectory("salle2"),
        build_service_info("salle2", 5002, ["127.0.0.1"], site, 1),
        site,
        lambda: Zeroconf(interfaces=["127.0.0.1"]),
    )
    try:
        a.start()
        b.start()
    except OSError as exc:
        pytest.skip(f"multicast not allowed on this machine: {exc}")
    try:
        found = threading.Event()

        def wait() -> None:
            while not any(p.station_id == "salle2" for p in dir_a.peers()):
                dir_a.changed.clear()
                if not dir_a.changed.wait(10):
                    return
            found.set()

        waiter = threading.Thread(target=wait)
        waiter.start()
        waiter.join(12)
        if not found.is_set():
            pytest.skip("multicast announcements not delivered on this machine's loopback")
        peer = next(p for p in dir_a.peers() if p.station_id == "salle2")
        assert (peer.host, peer.port) == ("127.0.0.1", 5002)
    finally:
        b.stop()
        a.stop()


def test_socket_module_is_usable_for_local_addresses() -> None:
    from cms_desktop.sync.discovery import local_addresses

    for address in local_addresses():
        socket.inet_aton(address)
