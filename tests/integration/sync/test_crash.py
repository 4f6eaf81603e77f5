"""SYNC.md invariant 6: after a kill -9 anywhere, data and version vector agree.

A child process applies a station's entries and is killed with SIGKILL, either by itself at
a named failpoint (``CMS_FAILPOINT``) or by the test while it applies batches; the station is then
reopened and checked, and the next pass completes the transfer.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cms_desktop.storage.models import AuditEntry, OpLogRow, Patient
from cms_desktop.sync.failpoints import ENV_VAR
from tests.integration.sync.stations import KEY, Station, make_stations

ROOT = Path(__file__).resolve().parents[3]


def prepare(tmp_path: Path, count: int) -> tuple[Station, Station, Path]:
    a, b = make_stations(tmp_path, 2)
    for i in range(count):
        if i % 3 == 0:
            a.new_patient(f"P{i}")
        else:
            a.write_note(f"note {i}")
    entries = a.replica.entries_since(a.station_id, 0, 10 * count)
    path = tmp_path / "entries.json"
    path.write_text(json.dumps([e.to_dict() for e in entries]))
    b.close()
    return a, b, path


def child(b: Station, path: Path, batch: int, failpoint: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    env.pop(ENV_VAR, None)
    if failpoint:
        env[ENV_VAR] = failpoint
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.sync.crash_child",
            str(b.data_dir.path),
            KEY.hex(),
            str(path),
            str(batch),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_consistent(b: Station, origin: str) -> int:
    """Vector = op-log, and every applied entry's row is there (and nothing else)."""
    assert b.vector_matches_log()
    with b.store.read() as session:
        held = int(
            session.scalar(
                select(func.count()).select_from(OpLogRow).where(OpLogRow.origin == origin)
            )
            or 0
        )
        notes = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        patients = int(session.scalar(select(func.count()).select_from(Patient)) or 0)
        logged = dict(
            (entity, count)
            for entity, count in session.execute(
                select(OpLogRow.entity, func.count())
                .where(OpLogRow.origin == origin)
                .group_by(OpLogRow.entity)
            )
        )
    assert notes == logged.get("audit_log", 0)
    assert patients == logged.get("patients", 0)
    return held


@pytest.mark.parametrize(
    "failpoint", ["sync.apply.before_vector", "sync.apply.before_commit", "sync.apply.after_commit"]
)
def test_killed_at_a_failpoint_leaves_data_and_vector_in_agreement(
    tmp_path: Path, failpoint: str
) -> None:
    a, b, path = prepare(tmp_path, 30)
    proc = child(b, path, 10, failpoint)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    b.open()
    try:
        held = assert_consistent(b, a.station_id)
        # before the commit: nothing of the batch; after it: the whole batch.
        assert held == (10 if failpoint == "sync.apply.after_commit" else 0)
        b.close()
        proc = child(b, path, 10, None)  # the next pass completes the transfer
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
        b.open()
        assert assert_consistent(b, a.station_id) == 30
        assert b.replica.vector() == a.replica.vector()
    finally:
        a.close()
        b.close()


def test_killed_while_applying_never_tears_a_batch(tmp_path: Path) -> None:
    a, b, path = prepare(tmp_path, 400)
    rng = random.Random(3)
    try:
        for _ in range(4):
            proc = child(b, path, 20, None)
            assert proc.stdout is not None
            for _ in range(rng.randint(1, 4)):  # let a few batches commit, then pull the plug
                proc.stdout.readline()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            b.open()
            assert assert_consistent(b, a.station_id) % 20 == 0
            b.close()
        proc = child(b, path, 20, None)
        assert proc.wait(timeout=120) == 0
        b.open()
        assert assert_consistent(b, a.station_id) == 400
    finally:
        a.close()
        b.close()
