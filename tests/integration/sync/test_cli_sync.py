"""Two stations as separate processes through the CLI: serve with a pairing code, pair, sync."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Chef-Secret-42"


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cms_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )


def as_admin(
    data_dir: str, *args: str, stdin: str = PASSWORD + "\n"
) -> subprocess.CompletedProcess[str]:
    """``cms-desktop --data-dir DIR ARGS --as admin --password-stdin``."""
    return cli("--data-dir", data_dir, *args, "--as", "admin", "--password-stdin", stdin=stdin)


def test_pair_then_sync_between_two_processes(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    done = cli(
        "--data-dir",
        a,
        "init",
        "--centre-name",
        "CMS CLI",
        "--admin",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cms_desktop",
            "--data-dir",
            a,
            "sync",
            "serve",
            "--as",
            "admin",
            "--password-stdin",
            "--pair",
            "--no-discovery",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--interval",
            "60",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        assert serve.stdin is not None and serve.stdout is not None
        serve.stdin.write(PASSWORD + "\n")
        serve.stdin.flush()
        pairing = None
        while pairing is None:
            line = serve.stdout.readline()
            assert line, serve.stderr.read() if serve.stderr else ""
            pairing = re.search(r"Code d'appairage : (\S+) \(port (\d+)", line)
        code, port = pairing.group(1), pairing.group(2)
        joined = cli(
            "--data-dir",
            b,
            "sync",
            "pair",
            "--code",
            code,
            "--peer",
            f"127.0.0.1:{port}",
            "--name",
            "Salle 2",
        )
        assert joined.returncode == 0, joined.stderr
        assert "Poste appairé" in joined.stdout
        # Same password on the new station; a user added there reaches A with the next pass.
        added = as_admin(
            b,
            "user",
            "add",
            "nouveau",
            "--name",
            "Nouveau",
            "--role",
            "reception",
            stdin=f"{PASSWORD}\nAccueil-Bis-Secret-42\n",
        )
        assert added.returncode == 0, added.stderr
        now = as_admin(b, "sync", "now")
        assert now.returncode == 0, now.stderr
        assert "à jour" in now.stdout
        # The one-shot status does not count the record of its own login as waiting.
        status_b = as_admin(b, "sync", "status")
        assert status_b.returncode == 0, status_b.stderr
        assert status_b.stdout.startswith("Synchronisation : à jour (dernier échange ")
        peers = as_admin(b, "sync", "peers")
        assert "joignable" in peers.stdout and "Salle 2" in peers.stdout
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    listed = as_admin(a, "user", "list")
    assert "nouveau" in listed.stdout
    # B has been away since: the record of the « user list » login on A waits for it (the
    # « sync status » login itself is not counted). Whether A's push back to B's short-lived
    # « sync now » listener came before or after it closed decides which of the two A says.
    status = as_admin(a, "sync", "status")
    assert status.returncode == 0
    assert re.fullmatch(
        r"Synchronisation : (1 modification en attente|poste injoignable depuis le "
        r"\d\d/\d\d/\d{4} \d\d:\d\d)\n",
        status.stdout,
    ), status.stdout


def test_pair_with_a_bad_peer_address_is_a_one_line_error(tmp_path: Path) -> None:
    done = cli(
        "--data-dir",
        str(tmp_path / "z"),
        "sync",
        "pair",
        "--code",
        "AAAA-BBBB",
        "--peer",
        "pas une adresse",
    )
    assert done.returncode == 1
    assert done.stderr.startswith("erreur : Adresse du poste invalide")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "z").exists() or not any((tmp_path / "z").iterdir())
