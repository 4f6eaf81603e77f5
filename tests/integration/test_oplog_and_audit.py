"""Every replicated change is logged in its own transaction; the audit chain shows tampering."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.domain.oplog import GENESIS_HASH, OpKind, verify_chain
from cms_desktop.services import audit_trail
from cms_desktop.storage.models import AuditEntry, OpLogRow, Patient
from cms_desktop.storage.oplog_capture import ForbiddenWrite, entry_from_row
from tests.conftest import ADMIN_PASSWORD, Centre


def test_each_change_writes_a_chained_op_log_entry(centre: Centre) -> None:
    ws, _ = centre.login("accueil")
    with ws.store.write() as session:
        patient = Patient(
            birth_name="MARTIN", first_given_name="Léa", birth_date=date(2001, 2, 3), sex="F"
        )
        session.add(patient)
    with ws.store.write() as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        first_version = row.version
        row.used_name = "DURAND"
    with ws.store.read() as session:
        rows = session.scalars(
            select(OpLogRow).where(OpLogRow.origin == ws.store.station_id).order_by(OpLogRow.seq)
        ).all()
        entries = [entry_from_row(r) for r in rows]
        current = session.get(Patient, patient.id)
    ws.close()
    verify_chain(entries, 0, GENESIS_HASH)
    mine = [e for e in entries if e.row_id == patient.id]
    assert [e.op for e in mine] == [OpKind.INSERT, OpKind.UPDATE]
    assert mine[0].values["birth_name"] == "MARTIN"
    assert mine[1].values["used_name"] == "DURAND"
    assert "birth_name" not in mine[1].values
    assert mine[1].base == first_version
    assert current is not None and current.version == mine[1].hlc > first_version


def test_rolled_back_change_leaves_no_log_entry(centre: Centre) -> None:
    ws, _ = centre.login("accueil")
    with ws.store.read() as session:
        before = len(session.scalars(select(OpLogRow)).all())
    with pytest.raises(RuntimeError), ws.store.write() as session:
        session.add(
            Patient(birth_name="X", first_given_name="Y", birth_date=date(2000, 1, 1), sex="M")
        )
        session.flush()
        raise RuntimeError("boom")
    with ws.store.read() as session:
        assert len(session.scalars(select(OpLogRow)).all()) == before
        assert session.scalars(select(Patient)).first() is None
    ws.close()


def test_physical_delete_and_audit_update_are_refused(centre: Centre) -> None:
    ws, _ = centre.login("accueil")
    with ws.store.write() as session:
        patient = Patient(
            birth_name="X", first_given_name="Y", birth_date=date(2000, 1, 1), sex="M"
        )
        session.add(patient)
    with pytest.raises(ForbiddenWrite), ws.store.write() as session:
        session.delete(session.get(Patient, patient.id))
    with pytest.raises(ForbiddenWrite), ws.store.write() as session:
        entry = session.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.details = "{}x"
    with ws.store.write() as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        row.deleted = True
    with ws.store.read() as session:
        last = session.scalars(select(OpLogRow).order_by(OpLogRow.seq.desc())).first()
        assert last is not None and last.op == OpKind.TOMBSTONE and last.row_id == patient.id
    ws.close()


def _raw(centre: Centre, key: bytes) -> sqlcipher.Connection:
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def test_audit_verify_passes_then_names_an_edited_entry(centre: Centre) -> None:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    assert audit_trail.verify(ws).ok
    with ws.store.read() as session:
        victim = session.scalars(select(AuditEntry).order_by(AuditEntry.seq).offset(2)).first()
        assert victim is not None
        victim_id, victim_seq = victim.id, victim.seq
    key = ws.key
    ws.close()
    conn = _raw(centre, key)
    # The trigger refuses the edit from the application's own SQL …
    with pytest.raises(sqlcipher.DatabaseError):
        conn.execute("UPDATE audit_log SET user_login = 'someone' WHERE id = ?", (victim_id,))
    # … someone who drops it still gets caught by the hash chain.
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET details = ? WHERE id = ?", (json.dumps({"x": 1}), victim_id))
    conn.commit()
    conn.close()
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    report = audit_trail.verify(ws)
    ws.close()
    assert not report.ok
    assert f"n° {victim_seq} " in report.message and victim_id in report.message


def test_audit_verify_catches_a_removed_entry(centre: Centre) -> None:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    with ws.store.read() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None
        last_id = last.id
    key = ws.key
    ws.close()
    conn = _raw(centre, key)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE id = ?", (last_id,))
    conn.commit()
    conn.close()
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    report = audit_trail.verify(ws)
    ws.close()
    assert not report.ok and "manquante" in report.message
