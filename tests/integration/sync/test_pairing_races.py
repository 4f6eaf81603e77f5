"""Pairing when two codes are shown at once, and with a code already spent (#21)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import new_id
from cms_desktop.sync import identity
from cms_desktop.sync.pairing import PairingCode, PairingError, PairingJoiner
from cms_desktop.sync.pairing_net import (
    _MESSAGE,
    PairingServer,
    _recv,
    _send,
    join_centre,
)
from cms_desktop.sync.pki import pairing_client_context
from tests.conftest import Centre
from tests.integration.sync.test_pairing_and_service import eventually


@pytest.fixture
def sponsor(centre: Centre) -> Iterator[Workspace]:
    ws, _ = centre.login("dr.test")
    identity.ensure_site(ws.store, "Accueil")
    try:
        yield ws
    finally:
        ws.close()


def open_code(ws: Workspace) -> tuple[PairingServer, PairingCode]:
    code = PairingCode()
    return PairingServer(ws.store, ws.data_dir, ws.key, code, host="127.0.0.1").start(), code


def test_two_codes_shown_at_once_cannot_give_one_name_to_two_stations(
    sponsor: Workspace, tmp_path: Path
) -> None:
    first, code1 = open_code(sponsor)
    second, code2 = open_code(sponsor)
    try:
        # A first joiner has sent its JOIN for « Salle 3 » and not yet proved its code.
        raw = socket.create_connection(first.address, timeout=30)
        with pairing_client_context().wrap_socket(raw) as tls:
            joiner = PairingJoiner(code1.display, new_id(), "Salle 3")
            _send(tls, _MESSAGE, joiner.join())
            kind, _ = _recv(tls)  # the challenge: the name is reserved from here on
            assert kind == _MESSAGE
            with pytest.raises(PairingError) as refused:
                join_centre(
                    DataDir(tmp_path / "b"),
                    "127.0.0.1",
                    second.address[1],
                    code2.display,
                    "Salle 3",
                )
            assert str(refused.value) == (
                "Un poste du centre s'appelle déjà « Salle 3 » : donnez un autre nom à ce poste."
            )
        # The first joiner gave up: once the sponsor has seen it go (its side of that
        # connection ends a moment after the joiner's), the name is free again and the
        # second code, not spent by the refusal, still works.
        joined: list[str] = []
        attempts = iter(range(1000))

        def second_joins() -> bool:
            try:
                result = join_centre(
                    DataDir(tmp_path / f"c{next(attempts)}"),
                    "127.0.0.1",
                    second.address[1],
                    code2.display,
                    "Salle 3",
                )
            except PairingError as exc:
                assert "s'appelle déjà" in str(exc), exc
                return False
            joined.append(result.station_id)
            return True

        assert eventually(second_joins)
        assert joined[0]
    finally:
        first.stop()
        second.stop()


def test_a_spent_code_says_so(sponsor: Workspace, tmp_path: Path) -> None:
    server, code = open_code(sponsor)
    try:
        join_centre(
            DataDir(tmp_path / "b"), "127.0.0.1", server.address[1], code.display, "Salle 3"
        )
        with pytest.raises(PairingError) as late:
            join_centre(
                DataDir(tmp_path / "c"), "127.0.0.1", server.address[1], code.display, "Salle 4"
            )
        assert str(late.value) == (
            "Code d'appairage déjà utilisé par un autre poste : affichez un nouveau code."
        )
        assert not DataDir(tmp_path / "c").initialised  # nothing installed
    finally:
        server.stop()


def test_a_refused_join_is_answered_with_an_error_frame(sponsor: Workspace) -> None:
    """The error travels as a frame the joiner reads (not a cut connection)."""
    server, code = open_code(sponsor)
    try:
        raw = socket.create_connection(server.address, timeout=30)
        with pairing_client_context().wrap_socket(raw) as tls:
            joiner = PairingJoiner(code.display, new_id(), "Accueil")  # the sponsor's name
            _send(tls, _MESSAGE, joiner.join())
            with pytest.raises(PairingError, match="s'appelle déjà « Accueil »"):
                _recv(tls)
        assert code.usable  # a refused name does not spend the code
    finally:
        server.stop()
