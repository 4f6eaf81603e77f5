"""An audit chain rewritten on one station, hashes recomputed, is caught once that station
has synced with a peer: the peer signed the heads it held (#17, item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.services import audit_trail
from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import AuditEntry, AuditHead
from cms_desktop.sync import audit_heads
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.sync.test_account_key_slots import sync_b_with_a
from tests.integration.sync.test_pairing_and_service import joined  # noqa: F401


@pytest.fixture(autouse=True)
def _sign_at_every_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # In the field a head is signed at most every 15 minutes; the test's exchanges follow
    # each other within seconds.
    monkeypatch.setattr(audit_heads, "SIGN_INTERVAL", timedelta(0))


def _rewrite_with_recomputed_hashes(centre: Centre) -> AuditEntry:
    """What an insider with the database key and the code does: change one entry of this
    station's chain, then recompute its hash and every later link, so the chain is whole."""
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        key = ws.key
        with ws.store.read() as session:
            origin = ws.store.station_id
            chain = session.scalars(
                select(AuditEntry).where(AuditEntry.station_id == origin).order_by(AuditEntry.seq)
            ).all()
            for entry in chain:
                session.expunge(entry)
    finally:
        ws.close()
    target = chain[len(chain) // 3]
    target.action = "logout"  # e.g. hiding that a record was opened
    prev = target.prev_hash
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER audit_log_no_update")
    for entry in chain[chain.index(target) :]:
        entry.prev_hash = prev
        entry.hash = audit._entry_hash(entry)
        prev = entry.hash
        conn.execute(
            "UPDATE audit_log SET action = ?, prev_hash = ?, hash = ? WHERE id = ?",
            (entry.action, entry.prev_hash, entry.hash, entry.id),
        )
    conn.commit()
    conn.close()
    return target


def _verify(centre: Centre) -> audit_trail.AuditReport:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        return audit_trail.verify(ws)
    finally:
        ws.close()


def test_a_rewritten_chain_is_named_once_a_peer_has_signed_its_head(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, station_b = joined
    sync_b_with_a(centre, joiner_dir)  # B receives A's chain and signs the head it holds
    sync_b_with_a(centre, joiner_dir)  # A receives B's signed heads
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    with ws.store.read() as session:
        witnessed = session.scalars(
            select(AuditHead).where(
                AuditHead.witness_id == station_b, AuditHead.origin_id == ws.store.station_id
            )
        ).all()
    ws.close()
    assert witnessed  # A holds heads of its own chain signed by B
    assert _verify(centre).ok

    target = _rewrite_with_recomputed_hashes(centre)

    report = _verify(centre)
    assert not report.ok
    assert f"l'entrée n° {target.seq} " in report.message and target.id in report.message
    assert "Salle 2" in report.message  # the station whose signed head disagrees


def test_a_forged_head_signature_is_reported(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, station_b = joined
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    key = ws.key
    ws.close()
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER audit_heads_no_update")
    conn.execute("UPDATE audit_heads SET hash = ? WHERE witness_id = ?", ("0" * 64, station_b))
    conn.commit()
    conn.close()
    report = _verify(centre)
    assert not report.ok and "signature invalide" in report.message


def test_deleting_the_peers_signed_heads_is_itself_reported(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, station_b = joined
    sync_b_with_a(centre, joiner_dir)
    sync_b_with_a(centre, joiner_dir)
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    key = ws.key
    ws.close()
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER audit_heads_no_delete")
    conn.execute("DELETE FROM audit_heads WHERE witness_id = ?", (station_b,))
    conn.commit()
    conn.close()
    report = _verify(centre)
    assert not report.ok and "est manquante" in report.message
