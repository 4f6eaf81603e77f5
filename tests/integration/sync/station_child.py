"""Child process of the many-station tests: one workstation running its sync service.

It logs in as the doctor, sets its listen port and fixed peer list (no zeroconf), starts a
``SyncService`` and then takes one JSON command per line on stdin (write a signed note,
create or edit a patient, look a note up, report a digest of its replicated data) and answers one JSON line
on stdout. ``{"op": "quit"}``, end of input or SIGTERM stop it cleanly.

Usage: ``python -m tests.integration.sync.station_child DATA_DIR PORT PEERS INTERVAL``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cms_desktop.domain.hlc import wall_clock_ms
from cms_desktop.services import records
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, OpLogRow, Patient, SyncHeld
from cms_desktop.storage.store import Store
from cms_desktop.sync import identity
from cms_desktop.sync.service import SyncService
from cms_desktop.sync.tables import replicated_tables
from tests.conftest import FAST_KDF, STAFF_PASSWORD

LOGIN = "dr.test"


class Stop(Exception):
    """SIGTERM: leave the command loop and stop the service."""


def canonical_dump(store: Store) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every replicated table, rows sorted by id (the same view as ``Station.snapshot``)."""
    out: list[tuple[str, list[tuple[Any, ...]]]] = []
    with store.read() as session:
        conn = session.connection()
        for name, info in sorted(replicated_tables().items()):
            rows = conn.execute(select(info.table).order_by(info.table.c.id)).all()
            out.append((name, [tuple(row) for row in rows]))
    return out


def digest(ws: Workspace, service: SyncService) -> dict[str, Any]:
    dump = canonical_dump(ws.store)
    status = service.status()
    vector = service.replica.vector()
    return {
        "digest": hashlib.sha256(repr(dump).encode()).hexdigest(),
        "rows": {name: len(rows) for name, rows in dump},
        "vector": {origin: vector.seq(origin) for origin in vector},
        "state": str(status.state),
        "waiting": status.waiting,
        "held": status.held,
        "conflicts": status.conflicts,
    }


def new_patient(ws: Workspace, name: str) -> str:
    with ws.store.write() as session:
        patient = Patient(
            birth_name=name,
            first_given_name="Dominique",
            birth_date=dt.date(1980, 2, 3),
            sex="F",
        )
        session.add(patient)
    return patient.id


def edit_patient(ws: Workspace, patient_id: str, field: str, value: str) -> bool:
    with ws.store.write() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            return False
        setattr(patient, field, value)
    return True


def sign_note(ws: Workspace, actor: Actor, patient_id: str, text: str) -> str:
    draft = records.save_draft(
        ws, actor, patient_id, records.NoteContent(reason=text, conclusion="RAS")
    )
    return records.sign_draft(ws, actor, draft)


def handle(ws: Workspace, actor: Actor, service: SyncService, cmd: dict[str, Any]) -> Any:
    op = cmd["op"]
    if op == "note":
        return {"id": sign_note(ws, actor, cmd["patient"], cmd["text"])}
    if op == "patient":
        return {"id": new_patient(ws, cmd["name"])}
    if op == "edit":
        return {"ok": edit_patient(ws, cmd["patient"], cmd["field"], cmd["value"])}
    if op == "field":
        with ws.store.read() as session:
            patient = session.get(Patient, cmd["patient"])
            return {"value": None if patient is None else getattr(patient, cmd["field"])}
    if op == "has_note":
        with ws.store.read() as session:
            return {"found": session.get(Consultation, cmd["id"]) is not None}
    if op == "digest":
        return digest(ws, service)
    if op == "sync":
        return {"state": str(service.sync_now().state)}
    if op == "status":
        status = service.status()
        return {"state": str(status.state), "text": status.text, "advice": status.advice}
    if op == "held":  # diagnostics of a failed convergence: what waits, and why
        with ws.store.read() as session:
            rows = session.execute(
                select(
                    SyncHeld.origin, SyncHeld.seq, SyncHeld.reason, OpLogRow.entity, OpLogRow.base
                ).join(
                    OpLogRow, (OpLogRow.origin == SyncHeld.origin) & (OpLogRow.seq == SyncHeld.seq)
                )
            ).all()
        tables = {
            name: hashlib.sha256(repr(rows).encode()).hexdigest()[:12]
            for name, rows in canonical_dump(ws.store)
        }
        return {"held_rows": [list(row) for row in rows], "tables": tables}
    if op == "clock":  # this station's clock (HLC and HELLO) set off by offset_ms
        offset = int(cmd["offset_ms"])
        ws.store.replication.clock._now_ms = lambda: wall_clock_ms() + offset
        return {"ok": True}
    raise ValueError(op)


def main(data_dir: str, port: int, peers: str, interval: float) -> None:
    keyslots.DEFAULT_KDF = FAST_KDF  # as in the test process: cheap argon2
    ws, actor = login(DataDir(Path(data_dir)), LOGIN, STAFF_PASSWORD)
    identity.set_listen_port(ws.store, port)
    identity.set_static_peers(ws.store, peers)
    service = SyncService(ws.store, host="127.0.0.1", interval_s=interval, discovery=False)
    service.start()

    def on_term(*_: object) -> None:
        raise Stop

    signal.signal(signal.SIGTERM, on_term)
    try:
        print(json.dumps({"ready": service.address[1]}), flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            print(json.dumps(handle(ws, actor, service, cmd)), flush=True)
    except Stop:
        pass
    finally:
        service.stop()
        ws.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
