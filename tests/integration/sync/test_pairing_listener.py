"""Issue #18: the pairing listener serves several connections at once and drops idle ones
quickly: a connection that says nothing no longer holds up a legitimate pairing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync import identity, pairing_net
from cms_desktop.sync.pairing import PairingCode
from cms_desktop.sync.pairing_net import PairingServer, join_centre
from tests.conftest import Centre


@pytest.fixture
def server(centre: Centre) -> Iterator[PairingServer]:
    ws, _ = centre.login("dr.test")
    identity.ensure_site(ws.store, "Accueil")
    listening = PairingServer(ws.store, ws.data_dir, ws.key, PairingCode(), host="127.0.0.1")
    listening.start()
    try:
        yield listening
    finally:
        listening.stop()
        ws.close()


def _still_open(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True  # nothing to read and not closed
    finally:
        conn.setblocking(True)


def test_idle_connections_do_not_hold_up_a_legitimate_pairing(
    server: PairingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Idle connections are kept a whole minute here: if the listener still served one
    # connection at a time, the join below would wait for them and find them closed.
    monkeypatch.setattr(pairing_net, "IDLE_TIMEOUT_S", 60.0)
    idle = [socket.create_connection(server.address) for _ in range(3)]
    try:
        result = join_centre(
            DataDir(tmp_path / "poste2"),
            "127.0.0.1",
            server.address[1],
            server.code.display,
            "Salle 2",
        )
        assert result.entries > 0
        assert all(_still_open(conn) for conn in idle)
    finally:
        for conn in idle:
            conn.close()


def test_an_idle_connection_is_dropped_quickly(
    server: PairingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pairing_net.IDLE_TIMEOUT_S <= 5  # the real setting: seconds, not a minute
    monkeypatch.setattr(pairing_net, "IDLE_TIMEOUT_S", 0.3)
    with socket.create_connection(server.address) as idle:
        idle.settimeout(30)  # a bound for the test only: the server closes it long before
        assert idle.recv(1) == b""  # closed by the server, having said nothing
    assert server.code.usable
