"""The automation switch the bench and the bundle smoke test (scripts/smoke-bundle) rely on:
with CMS_BENCH_EXIT_ON_LOGIN set, a real start of the application says once its login
window is on screen, then quits with 0; without that window it says so and exits 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cms_desktop.app import BENCH_ENV, LOGIN_SHOWN
from cms_desktop.services import setup
from cms_desktop.storage.datadir import DataDir
from tests.conftest import FAST_KDF

SRC = Path(__file__).resolve().parents[2] / "src"


def test_a_start_reports_the_login_window_then_quits(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "centre")
    setup.initialise_centre(
        data_dir,
        setup.CentreDraft("CMS d'essai"),
        "admin",
        "Admin",
        "Essai-Cms-2026!",
        kdf=FAST_KDF,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "QT_QPA_PLATFORM": "offscreen",
        BENCH_ENV: "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cms_desktop", "--data-dir", str(data_dir.path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == LOGIN_SHOWN
