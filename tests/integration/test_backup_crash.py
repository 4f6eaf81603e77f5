"""kill -9 during a backup or a restore: the live data and the earlier backups are intact.

The command runs in a child process (the real CLI) killed by SIGKILL, either by itself at a
named failpoint (``CMS_FAILPOINT``) or by the test once the copy is under way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cms_desktop.services import audit_trail, backup_restore, backups
from cms_desktop.storage.datadir import DataDir
from cms_desktop.sync.failpoints import ENV_VAR
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.backup_helpers import (
    add_patient_with_note,
    assert_no_clear_patient_data,
    bulk_patients,
    table_counts,
)

ROOT = Path(__file__).resolve().parents[2]


def cli(data_dir: Path, args: list[str], failpoint: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop(ENV_VAR, None)
    if failpoint:
        env[ENV_VAR] = failpoint
    child = subprocess.Popen(
        [sys.executable, "-m", "cms_desktop", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(ADMIN_PASSWORD + "\n")
    child.stdin.close()
    return child


def backup_cli(centre: Centre, usb: Path, failpoint: str | None = None) -> subprocess.Popen[str]:
    return cli(
        centre.data_dir.path,
        ["backup", "now", "--to", str(usb), "--as", "admin", "--password-stdin"],
        failpoint,
    )


def snapshot_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def assert_live_intact(centre: Centre, counts: dict[str, int]) -> None:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        assert ws.store.integrity_check() == []
        assert audit_trail.verify(ws).ok
        now = table_counts(ws)
        for table in ("patients", "consultations", "users"):
            assert now[table] == counts[table]
    finally:
        ws.close()


def live_counts(centre: Centre) -> dict[str, int]:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        return table_counts(ws)
    finally:
        ws.close()


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("point", ["backup.copied", "backup.writing"])
def test_kill_during_backup(centre: Centre, usb: Path, point: str) -> None:
    add_patient_with_note(centre)
    assert backup_cli(centre, usb).wait(60) == 0
    earlier = snapshot_of(usb)
    counts = live_counts(centre)

    child = backup_cli(centre, usb, point)
    assert child.wait(60) == -signal.SIGKILL

    assert snapshot_of(usb) == earlier  # nothing new under a backup's name, nothing changed
    for leftover in [*usb.iterdir(), *(centre.data_dir.path / ".backup-work").glob("*")]:
        assert_no_clear_patient_data(leftover)
    assert_live_intact(centre, counts)
    # The next backup works and clears what the killed one left.
    assert backup_cli(centre, usb).wait(60) == 0
    after = snapshot_of(usb)  # the same day: rotation keeps the newest only
    assert len(after) == 1 and set(after) != set(earlier)
    assert not [p for p in usb.iterdir() if p.name.startswith(".")]
    assert not (centre.data_dir.path / ".backup-work").exists()


def test_kill_while_the_copy_is_being_made(centre: Centre, usb: Path) -> None:
    add_patient_with_note(centre)
    bulk_patients(centre, 30_000)
    counts = live_counts(centre)
    child = backup_cli(centre, usb)
    work = centre.data_dir.path / ".backup-work"
    # Killed as soon as the encrypted copy has started.
    while child.poll() is None and not (work / "centre.db").exists():
        pass
    child.send_signal(signal.SIGKILL)
    assert child.wait(60) == -signal.SIGKILL  # it was still running
    assert_live_intact(centre, counts)
    assert [p for p in usb.iterdir() if not p.name.startswith(".")] == []
    for leftover in [*usb.iterdir(), *work.glob("*")]:
        assert_no_clear_patient_data(leftover)


def _restore_in_place(centre: Centre, file: Path, failpoint: str) -> subprocess.Popen[str]:
    return cli(
        centre.data_dir.path,
        ["backup", "restore", str(file), "--in-place", "--as", "admin", "--password-stdin"],
        failpoint,
    )


def test_kill_during_restore_before_the_swap_leaves_live_data(centre: Centre, usb: Path) -> None:
    assert backup_cli(centre, usb).wait(60) == 0
    file = next(usb.iterdir())
    add_patient_with_note(centre)  # only in the live data
    counts = live_counts(centre)
    before = centre.data_dir.database.read_bytes()

    assert _restore_in_place(centre, file, "restore.unpacked").wait(60) == -signal.SIGKILL
    assert centre.data_dir.database.read_bytes() == before
    assert_live_intact(centre, counts)
    parent = centre.data_dir.path.parent
    assert [p.name for p in parent.iterdir() if "avant-restauration" in p.name] == []
    # The unpacked copy left behind is encrypted, and the next restore removes it.
    leftovers = list(parent.glob(".centre.restauration-*/centre.db"))
    assert leftovers
    assert_no_clear_patient_data(leftovers[0])
    assert not backup_restore.finish_interrupted(centre.data_dir)
    assert not list(parent.glob(".centre.restauration-*"))


def test_kill_between_the_two_renames_is_completed(centre: Centre, usb: Path) -> None:
    assert backup_cli(centre, usb).wait(60) == 0
    file = next(usb.iterdir())
    add_patient_with_note(centre)
    before = centre.data_dir.database.read_bytes()

    assert _restore_in_place(centre, file, "restore.swapping").wait(60) == -signal.SIGKILL
    parent = centre.data_dir.path.parent
    aside = next(p for p in parent.iterdir() if "avant-restauration" in p.name)
    assert (aside / "centre.db").read_bytes() == before  # the live data, set aside whole
    assert backup_restore.finish_interrupted(centre.data_dir)
    assert (centre.data_dir.path / "restored.json").exists()
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        assert table_counts(ws)["patients"] == 0
        assert audit_trail.verify(ws).ok
    finally:
        ws.close()
    assert backups.default_target(DataDir(aside)) != centre.data_dir.path
