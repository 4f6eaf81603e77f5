"""A disabling on station A: station B learns the new database key by sync and rekeys its
own file at its next open; both keep syncing (the transport uses its own TLS keys)."""

from __future__ import annotations

from sqlalchemy import select

from cms_desktop.services import users
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import opens_with
from cms_desktop.storage.models import AuditEntry, Patient
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.sync.stations import sync_over_tls
from tests.integration.sync.test_pairing_and_service import add_patient, joined  # noqa: F401


def _sync(centre: Centre, joiner_dir: DataDir) -> None:
    ws_a, _ = centre.login("admin", ADMIN_PASSWORD)
    ws_b, _ = Centre(joiner_dir, "").login("accueil")
    try:
        sync_over_tls(ws_a.store, ws_b.store)
    finally:
        ws_a.close()
        ws_b.close()


def test_station_b_rekeys_at_its_next_open_after_sync_and_both_keep_syncing(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    station_b = Centre(joiner_dir, "")
    old_key = keyslots.unwrap(keyslots.load(joiner_dir.key_slots), "dr.test", STAFF_PASSWORD)
    old_b_slots = keyslots.load(joiner_dir.key_slots)  # the doctor's copy of B's file
    ws_a, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws_a, admin) if u.login == "dr.test")
        users.set_active(ws_a, admin, doctor.id, False)
    finally:
        ws_a.close()
    assert opens_with(joiner_dir.database, old_key)  # B has heard nothing yet
    _sync(centre, joiner_dir)  # B's file receives the generation (B opened under old key)
    b_slots = keyslots.load(joiner_dir.key_slots)
    assert "dr.test" not in b_slots.slots and len(b_slots.generations) == 1
    ws_b, _ = station_b.login("accueil")  # the next open rekeys B's file
    try:
        with ws_b.store.read() as session:
            rekeyed = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "database_rekeyed")
            ).all()
        # Once on each station (A's own came by sync): each file rekeyed at its next open.
        assert len(rekeyed) == 2 and ws_b.store.station_id in {e.station_id for e in rekeyed}
    finally:
        ws_b.close()
    for database in (centre.data_dir.database, joiner_dir.database):
        assert not opens_with(database, old_key)
    assert keyslots.unwrap(old_b_slots, "dr.test", STAFF_PASSWORD) == old_key  # all it opens
    # Both keep syncing, both ways, under their new keys.
    ws_a, _ = centre.login("direction")
    try:
        pid_a = add_patient(ws_a, "APRESROTATIONA")
    finally:
        ws_a.close()
    ws_b, _ = station_b.login("accueil")
    try:
        pid_b = add_patient(ws_b, "APRESROTATIONB")
    finally:
        ws_b.close()
    _sync(centre, joiner_dir)
    for station, login, password in (
        (centre, "admin", ADMIN_PASSWORD),
        (station_b, "direction", STAFF_PASSWORD),
    ):
        ws, _ = station.login(login, password)
        try:
            with ws.store.read() as session:
                assert session.get(Patient, pid_a) is not None
                assert session.get(Patient, pid_b) is not None
        finally:
            ws.close()
