"""Builds a small centre with the code of an earlier version, for the upgrade tests.

    .venv/bin/python tools/make_upgrade_fixture.py COMMIT REVISION

Extracts COMMIT (``git archive``, nothing changes in this checkout) to a temporary folder
and runs *that* version's demo in a fresh process: a demo centre with 25 synthetic patients,
their clinical records, and the agenda of three days around the day it is made (the demo
fills eight weeks; the cap keeps the fixture near 1 MB). The result goes to
``tests/fixtures/upgrade/centre-REVISION/`` with ``manifest.json``: the commit, the schema
revision the old code left, and the row counts it saw, which the test compares after the
upgrade. Synthetic data only (Faker); the demo accounts' password is the demo one.

Fixtures so far: ``centre-0009`` from d82e82c (main just before migration 0010).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("patients", "consultations", "appointments", "users", "op_log", "audit_log")

# Runs inside the old version (its src/ first on sys.path).
BUILD = """
import json, sys
from datetime import timedelta
from pathlib import Path
from sqlalchemy import text
from cms_desktop.services import demo, demo_agenda
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir

def capped(days=0, **kwargs):
    return timedelta(days=max(-1, min(days, 1)), **kwargs)

demo_agenda.timedelta = capped
data_dir = DataDir(Path(sys.argv[1]))
demo.create_demo_centre(data_dir, patients=25)
ws, _actor = login(data_dir, "admin", demo.DEMO_PASSWORD)
with ws.store.read() as session:
    counts = {
        t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
        for t in sys.argv[2].split(",")
    }
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
raw = ws.store.engine.raw_connection()  # the driver's own: VACUUM runs outside a transaction
try:
    raw.driver_connection.commit()
    raw.driver_connection.execute("VACUUM")  # free pages out: the fixture is committed
finally:
    raw.close()
ws.close()
print(json.dumps({"revision": revision, "counts": counts}))
"""


def main() -> int:
    commit, revision = sys.argv[1], sys.argv[2]
    target = ROOT / "tests" / "fixtures" / "upgrade" / f"centre-{revision}"
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        centre = Path(tmp) / "centre"
        done = subprocess.run(
            [sys.executable, "-c", BUILD, str(centre), ",".join(TABLES)],
            env={"PYTHONPATH": str(old / "src"), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(done.stderr)
        made = json.loads(done.stdout.strip().splitlines()[-1])
        if not made["revision"].startswith(revision):
            raise SystemExit(f"{commit} left revision {made['revision']}, not {revision}")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in ("centre.db", "keyslots.json"):
            shutil.copy2(centre / name, target / name)
        if (centre / "centre.db-wal").exists():
            raise SystemExit("the old version left a WAL file: checkpoint it first")
        manifest = {"commit": commit, **made}
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = sum(f.stat().st_size for f in target.iterdir()) // 1024
    print(f"{target.relative_to(ROOT)}: {size} kB, {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
