"""The register of record-access requests on a workstation set to UTC, Paris or Cayenne:
the legal last days at 23:30 and 00:30 Paris time, the year of the reference, and the
« oldest information » date that counts documents as well as consultations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.record_access import RequesterKind
from cms_desktop.services import documents
from cms_desktop.services import record_access as ra
from tests.conftest import Centre
from tests.integration.printing.helpers import add_consultation, add_patient
from tests.machine_zone import machine_zone  # noqa: F401  (fixture)
from tests.unit.printing import samples

PARIS = ZoneInfo("Europe/Paris")


def _draft(pid: str, received: datetime) -> ra.AccessRequestDraft:
    return ra.AccessRequestDraft(
        patient_id=pid,
        requester_kind=RequesterKind.PATIENT,
        requester_name="Éloïse Testeur",
        received_at=received,
        identity_document_checked=True,
    )


@pytest.mark.usefixtures("machine_zone")
def test_register_table_on_the_paris_calendar(centre: Centre) -> None:
    ws, actor = centre.login("direction")
    try:
        recent = add_patient(ws, name="RECENT")
        add_consultation(ws, recent, "direction", datetime(2025, 6, 1, 9, tzinfo=UTC))
        old_note = add_patient(ws, name="ANCIEN")
        add_consultation(ws, old_note, "direction", datetime(2015, 6, 1, 9, tzinfo=UTC))
        old_document = add_patient(ws, name="DOCUMENT")
        add_consultation(ws, old_document, "direction", datetime(2025, 6, 1, 9, tzinfo=UTC))
        documents.import_document(
            ws,
            actor,
            old_document,
            "cr.pdf",
            samples.pdf(1, "Compte rendu 2014"),
            DocumentKind.HOSPITAL_LETTER,
            "Compte rendu d'hospitalisation",
            date(2014, 9, 1),
        )
        cases = [
            (recent, datetime(2026, 3, 25, 23, 30, tzinfo=PARIS), date(2026, 4, 2), False),
            (old_note, datetime(2026, 3, 1, 0, 30, tzinfo=PARIS), date(2026, 5, 1), True),
            # Only a document is older than five years: the 2-month delay applies.
            (old_document, datetime(2026, 7, 1, 0, 30, tzinfo=PARIS), date(2026, 9, 1), True),
            (recent, datetime(2026, 1, 1, 0, 30, tzinfo=PARIS), date(2026, 1, 9), False),
        ]
        registered = [ra.register_request(ws, actor, _draft(pid, at)) for pid, at, _, _ in cases]
        by_id = {v.id: v for v in ra.list_requests(ws, actor)}
        got = [(by_id[r.id].last_day, by_id[r.id].extended) for r in registered]
        assert got == [(day, extended) for _, _, day, extended in cases]
        # 01/01/2026 00:30 in Paris is still 2025 in UTC: the reference is of 2026.
        assert registered[3].reference.startswith("DA-2026-")
    finally:
        ws.close()
