"""A station's data directory copied onto another PC and written on before its first
session (#21): at that session it moves what it wrote after the copy to a new origin and
takes its peers' history of the old one back. In process, over real TLS, to reach what the
station processes of ``test_hard_cases`` cannot: the copy signing the audit heads of the
chain it holds before it learns (heads are signed at most every 15 minutes), and the
entries exchanged in each direction one session at a time."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cms_desktop.storage import audit
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import (
    AuditEntry,
    AuditHead,
    LocalState,
    OpLogRow,
    Patient,
    SyncPeer,
)
from cms_desktop.storage.origin import outside_seal_path, resolving
from cms_desktop.storage.store import Store
from cms_desktop.sync import audit_heads, legacy_seal
from cms_desktop.sync.batch import BatchRejected, RejectReason
from cms_desktop.sync.db_store import DbReplicaStore
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.sync.station_child import canonical_dump
from tests.integration.sync.stations import sync_over_tls
from tests.integration.sync.test_pairing_and_service import add_patient, joined  # noqa: F401


@pytest.fixture(autouse=True)
def _sign_at_every_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # In the field a copy put back days later signs its heads at its first exchange.
    monkeypatch.setattr(audit_heads, "SIGN_INTERVAL", timedelta(0))


def _sync(centre: Centre, b_dir: DataDir) -> tuple[bytes, bytes]:
    """One session, B the client (it signs its heads before its HELLO); the two keys."""
    ws_a, _ = centre.login("admin", ADMIN_PASSWORD)
    ws_b, _ = Centre(b_dir, "").login("accueil")
    try:
        sync_over_tls(ws_a.store, ws_b.store)
        return ws_a.key, ws_b.key
    finally:
        ws_a.close()
        ws_b.close()


def _write(b_dir: DataDir, name: str) -> str:
    ws, _ = Centre(b_dir, "").login("accueil")
    try:
        return add_patient(ws, name)
    finally:
        ws.close()


def _state(data_dir: DataDir, key: bytes) -> tuple[object, frozenset[str], object]:
    """What a station holds, read without logging in (a login writes to the trail)."""
    store = Store.open(data_dir, key)
    try:
        with store.read() as session:
            names = frozenset(session.scalars(select(Patient.birth_name)))
            problem = audit.verify(session) or audit_heads.check(session)
            guards = frozenset(
                session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
        # Settling lifts the audit tables' append-only triggers for one transaction:
        # they must be back afterwards.
        for table in ("audit_log", "audit_heads"):
            for action in ("update", "delete"):
                assert f"{table}_no_{action}" in guards, (table, action)
        return canonical_dump(store), names, problem
    finally:
        store.close()


def _copy_written_on_elsewhere(centre: Centre, b_dir: DataDir, station_b: str, tmp: Path) -> None:
    """B's whole directory copied, B writes and sends a patient, the copy is put back on
    another PC (no outside seal) and a patient is typed on it before any exchange."""
    _sync(centre, b_dir)
    copy = tmp / "copie"
    shutil.copytree(b_dir.path, copy)  # the whole directory, seal included
    _write(b_dir, "PERDU")  # after the copy, sent to A: the copy lacks it
    _sync(centre, b_dir)
    shutil.rmtree(b_dir.path)
    shutil.copytree(copy, b_dir.path)
    outside_seal_path(station_b).unlink()  # another PC: nothing outside the directory
    _write(b_dir, "TAPE")  # numbered again under the origin A holds otherwise


def _converged(centre: Centre, b_dir: DataDir) -> None:
    # A gets what B wrote (B's HELLO now names its new origin), then B A's last login.
    _sync(centre, b_dir)
    key_a, key_b = _sync(centre, b_dir)
    a, b = _state(centre.data_dir, key_a), _state(b_dir, key_b)
    assert {"PERDU", "TAPE"} <= a[1]
    assert a[0] == b[0]  # the replicated tables are identical
    assert a[2] is None and b[2] is None  # chains whole, every signed head matches


def test_a_copy_that_signed_its_heads_before_it_learnt_settles_its_split(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    centre, b_dir, station_b = joined
    _copy_written_on_elsewhere(centre, b_dir, station_b, tmp_path)

    _sync(centre, b_dir)  # B signs its heads, learns, moves what it wrote, gets A's back
    ws_b, _ = Centre(b_dir, "").login("accueil")
    try:
        with ws_b.store.read() as session:
            assert resolving(session.connection()) == {}
            heads = session.scalars(
                select(AuditHead).where(
                    AuditHead.witness_id == station_b, AuditHead.origin_id == station_b
                )
            ).all()
            chain = {
                (e.seq, e.hash)
                for e in session.scalars(
                    select(AuditEntry).where(AuditEntry.station_id == station_b)
                )
            }
            moved = session.scalars(
                select(OpLogRow.origin).where(OpLogRow.origin.startswith(f"{station_b}@"))
            ).all()
        # Every head B signed of its old chain is one of that chain as it now is (A's):
        # the one signed from the copy before it learnt was dropped with its entry.
        assert heads and all((h.seq, h.hash) in chain for h in heads)
        assert moved  # what B wrote after the copy is under its new origin
        assert DbReplicaStore(ws_b.store).diverged() == {}
    finally:
        ws_b.close()
    _converged(centre, b_dir)


def test_a_copy_that_guessed_its_fork_too_late_asks_from_further_back(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The copy starts comparing after the last entry a peer acknowledged; had a peer
    acknowledged entries past the fork (one that took the copy's entries first), A's
    entries from there do not continue the copy's: it asks from half-way down at the next
    session, never reports a split of its own history, and settles it then."""
    centre, b_dir, station_b = joined
    _copy_written_on_elsewhere(centre, b_dir, station_b, tmp_path)
    ws_a, _ = centre.login("admin", ADMIN_PASSWORD)
    station_a = ws_a.store.station_id
    ws_a.close()
    ws_b, _ = Centre(b_dir, "").login("accueil")
    try:
        with ws_b.store.write() as session:
            session.merge(SyncPeer(station_id=station_a, acked_seq=10_000))
    finally:
        ws_b.close()
    sessions = 0
    while True:
        sessions += 1
        try:
            _sync(centre, b_dir)
        except BatchRejected as exc:  # this session stops there; the next asks lower
            assert exc.reason is RejectReason.DIVERGED
        ws_b, _ = Centre(b_dir, "").login("accueil")
        try:
            replica = DbReplicaStore(ws_b.store)
            assert replica.diverged() == {}
            settled = replica.resolving() == {}
        finally:
            ws_b.close()
        if settled or sessions == 6:
            break
    assert 1 < sessions < 6
    _converged(centre, b_dir)


def test_settling_a_split_makes_the_legacy_sealing_scan_start_again(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Settling deletes op-log rows: SQLite may then number new rows below the mark the
    sealing scan (#17) keeps, which it would never look at again; the mark goes."""
    centre, b_dir, station_b = joined
    _copy_written_on_elsewhere(centre, b_dir, station_b, tmp_path)
    ws_b, _ = Centre(b_dir, "").login("accueil")
    try:
        with ws_b.store.write() as session:
            session.add(LocalState(key=legacy_seal.SCANNED_KEY, value="999999"))
    finally:
        ws_b.close()
    _sync(centre, b_dir)  # B learns of its split and settles it
    ws_b, _ = Centre(b_dir, "").login("accueil")
    try:
        with ws_b.store.read() as session:
            assert session.get(LocalState, legacy_seal.SCANNED_KEY) is None
    finally:
        ws_b.close()
