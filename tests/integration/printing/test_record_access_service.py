"""The record-access register: checks, deadlines, 48-hour delay, fee, the copy, the audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.domain.record_access import HeirReason, RequesterKind, station_code
from cms_desktop.services import documents
from cms_desktop.services import record_access as ra
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models.documents import Blob, BlobChunk, Document
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.printing.helpers import (
    add_consultation,
    add_patient,
    audit_actions,
    pages_text,
)
from tests.unit.printing import samples


@pytest.fixture
def director(centre: Centre):
    ws, actor = centre.login("direction")
    yield ws, actor
    ws.close()


def _draft(pid: str, received: datetime, **kw) -> ra.AccessRequestDraft:
    base = dict(
        patient_id=pid,
        requester_kind=RequesterKind.PATIENT,
        requester_name="Éloïse Testeur",
        received_at=received,
        identity_document_checked=True,
        identity_document="carte d'identité",
    )
    base.update(kw)
    return ra.AccessRequestDraft(**base)


def test_deadline_is_8_days_or_2_months_for_information_over_5_years(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    received = datetime(2024, 2, 20, 9, 0, tzinfo=UTC)
    recent = ra.register_request(
        ws, actor, _draft(pid, received, oldest_information_date=date(2022, 1, 1))
    )
    code = station_code(ws.store.station_id)
    assert recent.reference == f"DA-2024-{code}-0001"
    assert recent.not_before == received + timedelta(hours=48)
    assert recent.last_day == date(2024, 2, 28) and not recent.extended
    old = ra.register_request(
        ws,
        actor,
        _draft(
            pid, datetime(2023, 12, 31, 10, tzinfo=UTC), oldest_information_date=date(2015, 6, 1)
        ),
    )
    assert old.reference == f"DA-2023-{code}-0001" and old.extended
    assert old.last_day == date(2024, 2, 29)  # leap year, month end clamped


def test_oldest_information_is_taken_from_the_consultations_asked_for(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    add_consultation(ws, pid, "direction", datetime(2012, 3, 1, 9, tzinfo=UTC))
    add_consultation(ws, pid, "direction", datetime.now(UTC) - timedelta(days=30))
    now = datetime.now(UTC) - timedelta(hours=1)
    whole = ra.register_request(ws, actor, _draft(pid, now))
    assert whole.extended
    recent_only = ra.register_request(
        ws,
        actor,
        _draft(
            pid, now, scope=ra.AccessScope.PERIOD, period_from=date.today() - timedelta(days=365)
        ),
    )
    assert not recent_only.extended
    assert recent_only.reference.endswith("-0002")


def test_overdue_requests_are_flagged_and_listed_first(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    late = ra.register_request(ws, actor, _draft(pid, datetime.now(UTC) - timedelta(days=10)))
    fresh = ra.register_request(ws, actor, _draft(pid, datetime.now(UTC) - timedelta(hours=1)))
    listed = ra.list_requests(ws, actor)
    assert [(v.id, v.overdue) for v in listed] == [(late.id, True), (fresh.id, False)]
    assert listed[0].patient_name == "TESTEUR Éloïse"
    later = ra.list_requests(ws, actor, now=datetime.now(UTC) + timedelta(days=9))
    assert all(v.overdue for v in later)


def test_delivery_is_refused_during_the_48_hours_then_recorded_with_the_fee(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    received = datetime.now(UTC) - timedelta(hours=47)
    view = ra.register_request(ws, actor, _draft(pid, received))
    assert not view.may_deliver_now
    with pytest.raises(ValidationFailed, match="délai de réflexion de 48 heures"):
        ra.mark_delivered(ws, actor, view.id)
    with pytest.raises(ValidationFailed, match="Frais"):
        ra.mark_delivered(ws, actor, view.id, at=received + timedelta(hours=49), fee_cents=-5)
    done = ra.mark_delivered(ws, actor, view.id, at=received + timedelta(hours=49), fee_cents=1250)
    assert done.status is ra.RequestStatus.DELIVERED and done.fee_cents == 1250 and not done.overdue
    with pytest.raises(ValidationFailed, match="déjà été remis"):
        ra.mark_delivered(ws, actor, view.id, at=received + timedelta(hours=50))
    assert len(audit_actions(ws, "record_access_delivered")) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"identity_document_checked": False}, "justificatif d'identité"),
        (
            {
                "requester_kind": RequesterKind.HEIR,
                "quality_proof_checked": True,
                "heir_reason": HeirReason.DEFEND_MEMORY,
            },
            "patient décédé",
        ),
        (
            {
                "requester_kind": RequesterKind.HEIR,
                "quality_proof_checked": True,
                "patient_deceased": True,
            },
            "motif",
        ),
        ({"patient_deceased": True}, "seuls ses ayants droit"),
        ({"requester_name": "  "}, "nom du demandeur"),
    ],
)
def test_invalid_requests_are_refused_with_the_reason(director, changes, message) -> None:
    ws, actor = director
    pid = add_patient(ws)
    with pytest.raises(ValidationFailed, match=message):
        ra.register_request(ws, actor, _draft(pid, datetime.now(UTC), **changes))
    assert ra.list_requests(ws, actor) == []


def test_heir_with_a_legal_reason_is_registered(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    view = ra.register_request(
        ws,
        actor,
        _draft(
            pid,
            datetime.now(UTC),
            requester_kind=RequesterKind.HEIR,
            quality_proof_checked=True,
            heir_reason=HeirReason.CAUSES_OF_DEATH,
            patient_deceased=True,
        ),
    )
    assert view.heir_reason is HeirReason.CAUSES_OF_DEATH


def test_copy_has_identity_consultations_amendments_and_the_reference_on_every_page(
    director,
) -> None:
    ws, actor = director
    pid = add_patient(ws)
    first = None
    for i in range(40):
        cid = add_consultation(
            ws,
            pid,
            "direction",
            datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(days=7 * i),
            reason=f"Motif numéro {i}",
        )
        first = first or cid
    add_consultation(
        ws,
        pid,
        "direction",
        datetime(2024, 1, 1, 9, tzinfo=UTC),
        reason="Motif rectifié",
        amends=first,
    )
    view = ra.register_request(ws, actor, _draft(pid, datetime.now(UTC)))
    pdf = ra.generate_copy(ws, actor, view.id)
    pages = pages_text(pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"demande n° {view.reference}" in text
        assert f"Page {number}/{len(pages)}" in text
    whole = " ".join(pages)
    assert "TESTEUR" in whole and "04/05/1961" in whole and "Motif numéro 39" in whole
    assert "Rectification du" in whole and "Motif rectifié" in whole
    exports = audit_actions(ws, "export")
    assert [(e.target_type, e.target_id) for e in exports] == [("record_access_request", view.id)]


def test_copy_of_chosen_consultations_only(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    keep = add_consultation(ws, pid, "direction", datetime(2024, 3, 1, tzinfo=UTC), reason="Gardée")
    add_consultation(ws, pid, "direction", datetime(2024, 4, 1, tzinfo=UTC), reason="Écartée")
    view = ra.register_request(
        ws,
        actor,
        _draft(
            pid, datetime.now(UTC), scope=ra.AccessScope.CONSULTATIONS, consultation_ids=(keep,)
        ),
    )
    whole = " ".join(pages_text(ra.generate_copy(ws, actor, view.id)))
    assert "Gardée" in whole and "Écartée" not in whole


def test_reception_registers_and_follows_but_only_the_director_prepares_the_copy(
    centre: Centre,
) -> None:
    ws, reception = centre.login("accueil")
    pid = add_patient(ws)
    view = ra.register_request(ws, reception, _draft(pid, datetime.now(UTC) - timedelta(hours=1)))
    (listed,) = ra.list_requests(ws, reception)
    assert (listed.id, listed.requester_name, listed.status) == (
        view.id,
        "Éloïse Testeur",
        ra.RequestStatus.RECEIVED,
    )
    assert listed.deadline > listed.received_at
    for forbidden in (
        lambda: ra.generate_copy(ws, reception, view.id),
        lambda: ra.mark_delivered(ws, reception, view.id),
        lambda: ra.record_fee(ws, reception, view.id, 100),
    ):
        with pytest.raises(PermissionDenied):
            forbidden()
    ws.close()
    ws, doctor = centre.login("dr.test")
    assert [v.id for v in ra.list_requests(ws, doctor)] == [view.id]
    with pytest.raises(PermissionDenied):
        ra.generate_copy(ws, doctor, view.id)
    ws.close()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    with pytest.raises(PermissionDenied):
        ra.list_requests(ws, admin)
    ws.close()


def test_copy_joins_the_documents_content_from_the_encrypted_store(director) -> None:
    ws, actor = director
    pid = add_patient(ws)
    add_consultation(ws, pid, "direction", datetime(2024, 1, 5, 9, tzinfo=UTC), reason="Suivi")

    def file(name: str, data: bytes, title: str, day: int) -> str:
        return documents.import_document(
            ws, actor, pid, name, data, DocumentKind.HOSPITAL_LETTER, title, date(2024, 2, day)
        )

    file("cr.pdf", samples.pdf(2, "Compte rendu CHU"), "Compte rendu", 1)
    file("radio.png", samples.png(), "Radiographie", 2)
    absent = file("absent.pdf", samples.pdf(1, "Jamais vu"), "Pas encore reçu", 3)
    with ws.store.write() as session:  # metadata synced, content not fetched yet
        sha = session.get(Document, absent).sha256
        session.execute(delete(BlobChunk).where(BlobChunk.sha256 == sha))
        session.execute(update(Blob).where(Blob.sha256 == sha).values(complete=False))
    view = ra.register_request(ws, actor, _draft(pid, datetime.now(UTC)))
    pages = pages_text(ra.generate_copy(ws, actor, view.id))
    for number, text in enumerate(pages, start=1):
        assert f"demande n° {view.reference}" in text and f"Page {number}/{len(pages)}" in text
    appended = [p for p in pages if "Compte rendu CHU - page originale" in p]
    assert len(appended) == 2 and all("Document joint n° 1" in p for p in appended)
    assert any("Document joint n° 2" in p and "Radiographie" in p for p in pages)
    placeholder = next(p for p in pages if "Document joint n° 3 " in p)
    assert "pas encore été récupéré par la synchronisation" in placeholder
    assert "Jamais vu" not in " ".join(pages)
