"""The Synchronisation page: peers, a pairing code for the administrator, conflicts side by side."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from cms_desktop import __version__
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Patient, SyncConflict, SyncPeer, SyncStation, utcnow
from cms_desktop.sync import identity
from cms_desktop.sync.merge import conflict_id
from cms_desktop.sync.pki import issue_station_certificate
from cms_desktop.sync.service import SyncState, SyncStatus
from cms_desktop.ui.sync.page import SyncPage
from cms_desktop.ui.sync.status import SyncStatusBridge
from cms_desktop.ui.tasks import SyncTaskRunner

Opener = Callable[[str], tuple[Workspace, Actor]]


def make_conflict(ws: Workspace) -> str:
    with ws.store.write() as session:
        patient = Patient(
            birth_name="ESSAI",
            first_given_name="Lou",
            birth_date=dt.date(1985, 3, 4),
            sex="F",
            phone_mobile="0611111111",
        )
        session.add(patient)
        session.flush()
        cid = conflict_id("patients", patient.id, "phone_mobile", "000000000000001.000000.x")
        session.add(
            SyncConflict(
                id=cid,
                entity="patients",
                row_id=patient.id,
                field="phone_mobile",
                kept_value=json.dumps("0622222222"),
                kept_version="000000000000001.000000.x",
                kept_origin="x",
                permission="patient.identity.write",
                detected_at=utcnow(),
            )
        )
    return patient.id


def test_a_clinician_sees_both_values_and_restores_the_other_one(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner, tmp_path: Path
) -> None:
    ws, actor = open_session("dr.moreau")
    patient_id = make_conflict(ws)
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    assert not page.pair_button.isVisible()  # pairing is for the administrator
    assert page.conflicts.rowCount() == 1
    row = [page.conflicts.item(0, c).text() for c in range(4)]
    # Whose record, and where and when each value was typed (the set-aside one here by an
    # unknown station at the HLC's first millisecond).
    assert row[:2] == ["Identité du patient\nESSAI Lou, né·e le 04/03/1985", "Téléphone portable"]
    assert row[2].startswith("0611111111\nce poste, ")
    assert row[3] == "0622222222\nposte inconnu, 01/01/1970 01:00"
    assert not page.keep_other.isEnabled()
    page.conflicts.selectRow(0)
    assert page.keep_other.isEnabled()
    page.keep_other.click()
    with ws.store.read() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None and patient.phone_mobile == "0622222222"
    assert page.conflicts.rowCount() == 0
    # The conflict settled, the status no longer asks for a person (this centre has no peer).
    assert page.status_label.text() == "Synchronisation : aucun autre poste connu"


def test_the_administrator_sees_no_patient_value_and_gets_a_pairing_code(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner
) -> None:
    ws, actor = open_session("admin")
    make_conflict(ws)
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.show()
    # Neither the values nor whose record it is: the administrator sees no patient data.
    assert page.conflicts.item(0, 0).text() == "Identité du patient\n(masqué)"
    assert page.conflicts.item(0, 2).text().startswith("(masqué)")
    assert "ESSAI" not in " ".join(page.conflicts.item(0, c).text() for c in range(5))
    page.conflicts.selectRow(0)
    assert not page.keep_shown.isEnabled()
    page.pair_button.click()
    try:
        text = page.code_label.text()
        assert page.pairing is not None
        assert f"<b>{page.pairing.code}</b>" in text
        assert f"<b>{page.pairing.address_text}</b>" in text
    finally:
        page.close()


def test_status_bridge_hands_the_text_over(qtbot: QtBot) -> None:
    bridge = SyncStatusBridge()
    status = SyncStatus(SyncState.WAITING, 3, 0, 0, None, (), None)
    with qtbot.waitSignal(bridge.status_text) as blocker:
        bridge.publish(status)
    assert blocker.args == ["Synchronisation : 3 modifications en attente"]


def test_the_page_shows_a_peer_lost_since_it_was_built(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner
) -> None:
    """Built at login and shown later, or open while the service finds a peer gone: the
    page tells the same as the status bar, without F5."""
    ws, actor = open_session("accueil")
    with ws.store.write() as session:
        session.add(
            SyncPeer(
                station_id="station-b",
                host="10.0.0.2",
                port=7600,
                last_error="",
                last_contact=utcnow(),
            )
        )
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.show()
    assert page.peers.item(0, 4).text() == "joignable"
    page.hide()
    with ws.store.write() as session:
        peer = session.get(SyncPeer, "station-b")
        assert peer is not None
        peer.unreachable_since = dt.datetime(2026, 12, 5, 23, 24, tzinfo=dt.UTC)
    page.show()
    assert page.peers.item(0, 4).text() == "injoignable depuis le 06/12/2026 00:24"
    assert "injoignable" in page.status_label.text()
    with ws.store.write() as session:
        peer = session.get(SyncPeer, "station-b")
        assert peer is not None
        peer.unreachable_since, peer.last_contact = None, utcnow()
    page.status_changed()  # what the main window calls after each pass
    assert page.peers.item(0, 4).text() == "joignable"


def test_the_administrator_removes_a_station_after_saying_yes(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, actor = open_session("admin")
    creds = identity.ensure_site(ws.store, "Accueil")
    authority = identity.ca_keys(ws.store)
    assert authority is not None
    ca_cert, ca_key = authority
    cert, _key = issue_station_certificate(ca_cert, ca_key, "station-b", "Cabinet 2")
    with ws.store.write() as session:
        identity.register_station(session, "station-b", "Cabinet 2", cert)
    assert creds.station_id == ws.store.station_id
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.show()
    names = [page.peers.item(r, 0).text() for r in range(page.peers.rowCount())]
    assert names == ["Cabinet 2"]  # this station itself is not listed
    assert page.remove_button.isVisible() and not page.remove_button.isEnabled()
    page.peers.selectRow(0)
    assert page.remove_button.isEnabled()
    questions: list[str] = []
    answer = False
    monkeypatch.setattr(
        "cms_desktop.ui.sync.page.ask", lambda _p, _t, text: questions.append(text) or answer
    )
    page.remove_button.click()  # « Non »: nothing changes
    assert "Cabinet 2" in questions[0]
    assert page.peers.item(0, 4).text() != "retiré"
    answer = True
    page.peers.selectRow(0)
    page.remove_button.click()
    assert page.peers.item(0, 4).text() == "retiré"
    page.peers.selectRow(0)
    assert not page.remove_button.isEnabled()  # already removed
    with ws.store.read() as session:
        station = session.get(SyncStation, "station-b")
        assert station is not None and station.revoked


def test_reception_has_no_remove_button(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner
) -> None:
    ws, actor = open_session("accueil")
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.show()
    assert not page.remove_button.isVisible()


def test_a_split_history_is_explained_on_the_page(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner, tmp_path: Path
) -> None:
    """A station put back from a copy before #21 left two histories under one name: the
    page says what is wrong and what to do, in lines that fit the window."""
    from cms_desktop.sync.db_store import DbReplicaStore

    ws, actor = open_session("accueil")
    identity.ensure_site(ws.store, "Accueil")
    keys = identity.ca_keys(ws.store)
    assert keys is not None
    cert, _ = issue_station_certificate(*keys, "station-b", "Cabinet 2")
    with ws.store.write() as session:
        identity.register_station(session, "station-b", "Cabinet 2", cert)
        session.add(SyncPeer(station_id="station-b", host="10.0.0.2", port=7600, last_error=""))
    DbReplicaStore(ws.store).note_diverged("station-b", 41, ws.store.station_id)
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    assert page.status_label.text().splitlines() == [
        "Synchronisation : historique du poste « Cabinet 2 » divergé (voir la page "
        "Synchronisation)",
        "L'historique du poste « Cabinet 2 » diffère ici et sur « Accueil » à partir de sa "
        "modification n° 42 (poste remis d'une copie) ; il n'est plus échangé. Retirez le "
        "poste « Cabinet 2 » du centre puis appairez-le de nouveau",
    ]
    assert page.minimumSizeHint().width() <= 1366
    page.grab().save(str(tmp_path / "split.png"))


def test_the_page_names_the_station_that_needs_the_update(
    qtbot: QtBot, open_session: Opener, runner: SyncTaskRunner
) -> None:
    """#20: each station's version as its last exchange announced it; an older schema says
    « à mettre à jour », a newer one tells this PC to update, a station that never said
    « inconnue »."""
    ws, actor = open_session("accueil")
    own_schema = ws.store.replication.schema_version
    with ws.store.write() as session:
        for station, version, schema in (
            ("station-old", "0.0.9", own_schema - 1),
            ("station-new", "9.0.0", own_schema + 1),
            ("station-same", __version__, own_schema),
            ("station-silent", "", 0),
        ):
            session.add(
                SyncPeer(
                    station_id=station,
                    host="10.0.0.2",
                    port=7600,
                    last_error="",
                    last_contact=utcnow(),
                    app_version=version,
                    schema=schema,
                )
            )
    page = SyncPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.show()
    shown = {
        page.peers.item(r, 0).text(): page.peers.item(r, 2).text()
        for r in range(page.peers.rowCount())
    }
    assert shown == {
        "station-old": "0.0.9 (à mettre à jour)",
        "station-new": "9.0.0 (plus récente : mettez ce poste à jour)",
        "station-same": __version__,
        "station-silent": "inconnue",
    }
    assert page.station_label.text().endswith(f"version {__version__}")
