"""Time from process start to the login window shown and interactive (target ≤ 1.5 s).

Spawns ``python -m cms_desktop --data-dir X`` offscreen with ``CMS_BENCH_EXIT_ON_LOGIN=1``;
the app prints a line once the login window is shown and its event loop runs, then quits.
The parent measures spawn → that line. Median of 5 runs (after one warm-up run, which also
writes the bytecode caches an installed app has).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MARKER = "login-window-shown"
RUNS = 5
TARGET_S = 1.5


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    env["QT_QPA_PLATFORM"] = env.get("BENCH_QPA", "offscreen")
    env["CMS_BENCH_EXIT_ON_LOGIN"] = "1"
    # An installed app starts from compiled bytecode (pip byte-compiles at install time,
    # the PyInstaller bundle ships it): let the warm-up run write the caches that a
    # PYTHONDONTWRITEBYTECODE environment (CI, this sandbox) would otherwise forbid, or
    # every measured run compiles each changed module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _make_centre(data_dir: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cms_desktop",
            "--data-dir",
            str(data_dir),
            "init",
            "--centre-name",
            "Centre de mesure",
            "--admin",
            "admin",
            "--password-stdin",
        ],
        input="Mesure-Cms-2026!\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )


def _one_run(data_dir: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cms_desktop", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == MARKER:
            elapsed = time.perf_counter() - start
            break
    else:
        proc.wait()
        raise RuntimeError(f"the login window was never shown (exit code {proc.returncode})")
    proc.wait(timeout=30)
    return elapsed


def main() -> int:
    env = _env()
    with tempfile.TemporaryDirectory(prefix="cms-bench-") as tmp:
        data_dir = Path(tmp) / "centre"
        _make_centre(data_dir, env)
        _one_run(data_dir, env)  # warm-up: file cache, .pyc
        times = [_one_run(data_dir, env) for _ in range(RUNS)]
    median = statistics.median(times)
    runs = ", ".join(f"{t:.2f}" for t in times)
    verdict = "OK" if median <= TARGET_S else "TROP LENT"
    print(
        f"startup to login window: median {median:.2f} s over {RUNS} runs ({runs}) "
        f"— target ≤ {TARGET_S} s: {verdict}"
    )
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
