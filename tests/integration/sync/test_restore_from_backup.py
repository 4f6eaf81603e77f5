"""Issues #19 and #21: a station restored with ``backup restore`` from an old backup file
takes a new op-log origin, gets back from its peers everything they hold, and never numbers
again an entry its peers already have."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cms_desktop.services import backup_restore, backups
from cms_desktop.storage import origin
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import OpLogRow
from cms_desktop.storage.store import Store
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.sync.test_hard_cases import converged, holds, running, wait_until
from tests.integration.sync.test_many_processes import final_state, free_ports, pair_stations


def op_log(data_dir: DataDir, key: bytes) -> dict[tuple[str, int], str]:
    store = Store.open(data_dir, key)
    try:
        with store.read() as session:
            rows = session.execute(select(OpLogRow.origin, OpLogRow.seq, OpLogRow.hash)).all()
            return {(origin, seq): digest for origin, seq, digest in rows}
    finally:
        store.close()


def test_a_station_restored_from_an_old_backup_converges_back_without_reusing_a_number(
    centre: Centre, tmp_path: Path
) -> None:
    dirs, patients, key = pair_stations(centre, tmp_path, 3)
    ports = free_ports(3)
    with running(dirs, ports) as (a, b, c):
        before = b.call("note", patient=patients[0], text="Avant la sauvegarde")["id"]
        wait_until(lambda: holds(a, before) and holds(c, before), "the first note everywhere")
    usb = tmp_path / "usb"
    usb.mkdir()
    ws, admin = Centre(dirs[1], "").login("admin", ADMIN_PASSWORD)
    try:
        made = backups.create_backup(ws, admin, targets=[str(usb)])
    finally:
        ws.close()
    (archive,) = made.written
    with running(dirs, ports) as (a, b, c):
        lost = [b.call("note", patient=patients[1], text=f"Perdue {i}")["id"] for i in range(3)]
        others = [
            a.call("note", patient=patients[2], text="Écrite à l'accueil")["id"],
            c.call("note", patient=patients[2], text="Écrite en salle 2")["id"],
        ]
        wait_until(
            lambda: all(holds(x, n) for x in (a, c) for n in lost) and holds(a, others[1]),
            "what B, A and C wrote after the backup reached the others",
        )
    numbered_before = op_log(dirs[1], key)
    backup_restore.restore(Path(archive), dirs[1], "admin", ADMIN_PASSWORD, in_place=True)
    # Marked restored even if a seal is later copied beside it: the next open renews.
    assert origin.read_seal(origin.seal_path(dirs[1].path)) == {"restored": True}
    restored = final_state(dirs[1], key, patients[0])
    assert before in restored.notes and not set(lost) & restored.notes  # the backup's state
    with running(dirs, ports) as (a, b, c):
        after = b.call("note", patient=patients[0], text="Après la restauration")["id"]
        wait_until(lambda: holds(a, after) and holds(c, after), "B's new note reached A and C")
        wait_until(lambda: all(holds(b, n) for n in [*lost, *others]), "B got back what it lacked")
        reports = wait_until(lambda: converged([a, b, c]), "the three stations converge", 90)
        assert {r["state"] for r in reports} == {"up_to_date"}, reports
    finals = [final_state(d, key, patients[0]) for d in dirs]
    assert finals[0].dump == finals[1].dump == finals[2].dump
    assert {before, after, *lost, *others} <= finals[1].notes
    # No (origin, seq) was given twice: every entry B numbered before the restore is held
    # by B again with the same hash, and B's new entries are under a new origin.
    numbered_after = op_log(dirs[1], key)
    for number, digest in numbered_before.items():
        assert numbered_after[number] == digest, number
    new_origins = {o for o, _ in numbered_after} - {o for o, _ in numbered_before}
    assert new_origins and all(o.startswith(f"{o.split('@')[0]}@") for o in new_origins)
