"""Two real stations in Linux network namespaces made by the test, over real mutual TLS.

Station A serves with a pairing code in one namespace; station B, in another, joins through
a veth link (with ``tc netem`` delay), syncs, is cut off, both sides write, the link heals
and both converge. Skipped with a message where namespaces cannot be created.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Chef-Secret-42"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def _netns_allowed() -> str | None:
    if shutil.which("ip") is None:
        return "la commande « ip » (iproute2) est absente"
    probe = f"cmsprobe{uuid.uuid4().hex[:6]}"
    made = _run("ip", "netns", "add", probe)
    if made.returncode != 0:
        return "création d'espaces réseau refusée (CAP_NET_ADMIN requis)"
    _run("ip", "netns", "del", probe)
    return None


REASON = _netns_allowed()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"espaces réseau Linux : {REASON}")


@pytest.fixture
def link() -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:6]
    ns_a, ns_b = f"cmsa{tag}", f"cmsb{tag}"
    veth_a, veth_b = f"va{tag}", f"vb{tag}"
    steps = [
        ("ip", "netns", "add", ns_a),
        ("ip", "netns", "add", ns_b),
        ("ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b),
        ("ip", "link", "set", veth_a, "netns", ns_a),
        ("ip", "link", "set", veth_b, "netns", ns_b),
        ("ip", "-n", ns_a, "addr", "add", "10.231.0.1/24", "dev", veth_a),
        ("ip", "-n", ns_b, "addr", "add", "10.231.0.2/24", "dev", veth_b),
        ("ip", "-n", ns_a, "link", "set", veth_a, "up"),
        ("ip", "-n", ns_b, "link", "set", veth_b, "up"),
        ("ip", "-n", ns_a, "link", "set", "lo", "up"),
        ("ip", "-n", ns_b, "link", "set", "lo", "up"),
    ]
    try:
        for step in steps:
            done = _run(*step)
            if done.returncode != 0:
                pytest.skip(
                    f"espaces réseau Linux : {' '.join(step)} refusé ({done.stderr.strip()})"
                )
        # A little latency, as on a real LAN (skipped if netem is not available).
        _run(
            "ip",
            "netns",
            "exec",
            ns_a,
            "tc",
            "qdisc",
            "add",
            "dev",
            veth_a,
            "root",
            "netem",
            "delay",
            "5ms",
        )
        yield ns_a, ns_b
    finally:
        _run("ip", "netns", "del", ns_a)
        _run("ip", "netns", "del", ns_b)


def _cli(ns: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "cms_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def _as_admin(ns: str, data: str, *args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    return _cli(
        ns,
        "--data-dir",
        data,
        *args,
        "--as",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n" + extra,
    )


def test_two_stations_in_namespaces_converge_after_a_cut(
    link: tuple[str, str], tmp_path: Path
) -> None:
    ns_a, ns_b = link
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    init = _cli(
        ns_a,
        "--data-dir",
        a,
        "init",
        "--centre-name",
        "CMS Réseau",
        "--admin",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert init.returncode == 0, init.stderr
    serve = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            ns_a,
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
            "10.231.0.1",
            "--port",
            "47310",
            "--interval",
            "1",
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
        found = None
        while found is None:
            line = serve.stdout.readline()
            assert line, serve.stderr.read() if serve.stderr else ""
            found = re.search(r"Code d'appairage : (\S+) \(port (\d+)", line)
        joined = _cli(
            ns_b,
            "--data-dir",
            b,
            "sync",
            "pair",
            "--code",
            found.group(1),
            "--peer",
            f"10.231.0.1:{found.group(2)}",
            "--name",
            "Salle 3",
        )
        assert joined.returncode == 0, joined.stderr
        # Cut the link; both sides keep working.
        assert _run("ip", "-n", ns_b, "link", "set", f"vb{ns_b[4:]}", "down").returncode == 0
        cut = _as_admin(ns_b, b, "sync", "now")
        assert cut.returncode == 0 and "injoignable" in cut.stdout
        added_b = _as_admin(
            ns_b,
            b,
            "user",
            "add",
            "salle3",
            "--name",
            "Salle Trois",
            "--role",
            "nurse",
            extra="Infirmier-Secret-42\n",
        )
        assert added_b.returncode == 0, added_b.stderr
        # Heal: B pushes its change and gets A's.
        assert _run("ip", "-n", ns_b, "link", "set", f"vb{ns_b[4:]}", "up").returncode == 0
        healed = _as_admin(ns_b, b, "sync", "now")
        assert healed.returncode == 0, healed.stderr
        assert "à jour" in healed.stdout, healed.stdout
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    listed = _as_admin(ns_a, a, "user", "list")
    assert "salle3" in listed.stdout, listed.stdout + listed.stderr
