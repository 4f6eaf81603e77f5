"""Two paired stations register record-access requests while cut off from each other: their
references never collide, and stay as given once the stations have synchronised."""

from __future__ import annotations

from datetime import UTC, datetime

from cms_desktop.domain.record_access import RequesterKind, station_code
from cms_desktop.services import record_access as ra
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.datadir import DataDir
from tests.conftest import Centre
from tests.integration.sync.stations import sync_over_tls
from tests.integration.sync.test_pairing_and_service import add_patient, joined  # noqa: F401


def _register(ws: Workspace, actor: Actor, pid: str) -> str:
    draft = ra.AccessRequestDraft(
        patient_id=pid,
        requester_kind=RequesterKind.PATIENT,
        requester_name="Alex Testeur",
        received_at=datetime.now(UTC),
        identity_document_checked=True,
        identity_document="passeport",
    )
    return ra.register_request(ws, actor, draft).reference


def _sync(ws_a: Workspace, ws_b: Workspace) -> None:
    sync_over_tls(ws_a.store, ws_b.store)


def test_references_are_unique_across_stations_and_stable(
    joined: tuple[Centre, DataDir, str],  # noqa: F811
) -> None:
    centre, joiner_dir, _ = joined
    ws_a, actor_a = centre.login("direction")
    ws_b, actor_b = Centre(joiner_dir, "").login("direction")
    try:
        pid = add_patient(ws_a, "DEMANDE")
        _sync(ws_a, ws_b)  # the patient reaches station B
        # Cut off from each other, each station registers two requests the same year.
        from_a = [_register(ws_a, actor_a, pid) for _ in range(2)]
        from_b = [_register(ws_b, actor_b, pid) for _ in range(2)]
        year = datetime.now(UTC).year
        code_a, code_b = station_code(ws_a.store.station_id), station_code(ws_b.store.station_id)
        assert code_a != code_b
        assert from_a == [f"DA-{year}-{code_a}-0001", f"DA-{year}-{code_a}-0002"]
        assert from_b == [f"DA-{year}-{code_b}-0001", f"DA-{year}-{code_b}-0002"]

        _sync(ws_a, ws_b)
        for ws, actor in ((ws_a, actor_a), (ws_b, actor_b)):
            listed = [v.reference for v in ra.list_requests(ws, actor)]
            assert sorted(listed) == sorted(from_a + from_b)  # as given, none renumbered
        # After receiving B's requests, A goes on with its own counter.
        assert _register(ws_a, actor_a, pid) == f"DA-{year}-{code_a}-0003"
    finally:
        ws_a.close()
        ws_b.close()
