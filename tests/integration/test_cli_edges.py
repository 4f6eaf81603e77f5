"""Issue #18: the command line's edges give one French line and exit 1, never a traceback."""

from __future__ import annotations

import io
import socket
import sys

import pytest

from cms_desktop.cli import main
from tests.conftest import ADMIN_PASSWORD, Centre


def _serve(
    centre: Centre,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *options: str,
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    code = main(
        [
            "--data-dir",
            str(centre.data_dir.path),
            "sync",
            "serve",
            "--host",
            "127.0.0.1",
            "--no-discovery",
            *options,
            "--as",
            "admin",
            "--password-stdin",
        ]
    )
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"), [("--port", "99999"), ("--port", "-1"), ("--pair-port", "70000")]
)
def test_a_port_out_of_range_is_a_french_error(
    centre: Centre,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
) -> None:
    extra = ("--pair",) if option == "--pair-port" else ()
    code, err = _serve(centre, monkeypatch, capsys, option, value, *extra)
    assert code == 1
    assert err == (
        f"erreur : {option} {value} : un port est un nombre entre 1 et 65535 (0 : un port libre).\n"
    )


def test_a_port_in_use_is_a_french_error(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _serve(centre, monkeypatch, capsys, "--port", str(port))
    assert code == 1 and "Traceback" not in err
    assert err == (
        f"erreur : le port {port} est déjà utilisé sur ce poste (une autre session de "
        "cms-desktop ?) : fermez-la ou choisissez un autre port avec --port.\n"
    )
