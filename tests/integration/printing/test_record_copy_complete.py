"""The copy of a demo patient's record holds every kind of data the record holds (read back
from the PDF text), and a copy made during the 48-hour delay is a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cms_desktop.domain.paris_time import in_paris, paris_date
from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.domain.record_access import RequesterKind
from cms_desktop.domain.synthesis import Allergy
from cms_desktop.services import documents, patients, records, synthesis
from cms_desktop.services import prescriptions as rx
from cms_desktop.services import record_access as ra
from cms_desktop.services.demo import DEMO_PASSWORD, create_demo_centre
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import Consultation, Document, PatientAld
from tests.integration.printing.helpers import pages_text


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data_dir = DataDir(Path(tmp_path_factory.mktemp("demo")) / "centre")
    create_demo_centre(data_dir, patients=60)
    return data_dir


def _rich_patient(ws) -> str:
    """The demo patient with documents and the most measured consultations; what the demo
    does not give every patient (an ALD, an allergy) is added through the records."""
    with ws.store.read() as session:
        return session.scalars(
            select(Consultation.patient_id)
            .where(
                Consultation.vitals.is_not(None),  # sealed measurements (#17)
                Consultation.patient_id.in_(select(Document.patient_id)),
            )
            .group_by(Consultation.patient_id)
            .order_by(func.count().desc(), Consultation.patient_id)
            .limit(1)
        ).one()


def _complete(ws, actor, pid: str) -> None:
    with ws.store.write() as session:
        if session.scalars(select(PatientAld).where(PatientAld.patient_id == pid)).first() is None:
            session.add(
                PatientAld(patient_id=pid, label="Diabète de type 2", code="8", start_date=None)
            )
    if not synthesis.read_synthesis(ws, actor, pid).allergies:
        synthesis.add_entry(ws, actor, pid, Allergy("Pénicilline", reaction="Urticaire"))


def _request(ws, actor, pid: str, received: datetime) -> ra.AccessRequestView:
    return ra.register_request(
        ws,
        actor,
        ra.AccessRequestDraft(
            patient_id=pid,
            requester_kind=RequesterKind.PATIENT,
            requester_name="Demandeur Synthétique",
            received_at=received,
            identity_document_checked=True,
        ),
    )


def test_demo_patients_copy_contains_every_kind_of_data(demo_dir: DataDir) -> None:
    doctor_ws, doctor = login(demo_dir, "dr.moreau", DEMO_PASSWORD)
    try:
        pid = _rich_patient(doctor_ws)
        _complete(doctor_ws, doctor, pid)
        record = records.open_clinical_record(doctor_ws, doctor, pid)
        measured = next(c for c in record.consultations if c.content.weight_kg is not None)
        records.amend(
            doctor_ws,
            doctor,
            measured.id,
            records.NoteContent(reason=measured.content.reason, conclusion="Avenant synthétique"),
        )
        line = PrescriptionLine(dci="LOSARTAN", strength="50 mg", dosage="1/j", duration="3 mois")
        rx.issue_prescription(doctor_ws, doctor, rx.PrescriptionDraft(pid, (line,)))
        with doctor_ws.store.read() as session:
            ald = session.scalars(select(PatientAld).where(PatientAld.patient_id == pid)).first()
            document = session.scalars(select(Document).where(Document.patient_id == pid)).first()
            assert ald is not None and document is not None
            # Sealed in the store (#17); the ALD may be the plaintext one added above (legacy).
            assert document.title.startswith("cms-ck1:")
            ald_label = patients.ald_text(doctor_ws.clinical_keys, ald)[0]
            title = documents.opened_fields(doctor_ws.clinical_keys, document)[0]
        # Sealed under the clinical key in the store (#17): read through the service.
        substance = synthesis.read_synthesis(doctor_ws, doctor, pid).allergies[0].entry.substance
    finally:
        doctor_ws.close()
    ws, director = login(demo_dir, "direction", DEMO_PASSWORD)
    try:
        received = datetime.now(UTC) - timedelta(days=3)
        view = _request(ws, director, pid, received)
        text = " ".join(pages_text(ra.generate_copy(ws, director, view.id)))
    finally:
        ws.close()
    weight = f"Poids {measured.content.weight_kg:g}".replace(".", ",")
    for expected in (
        "Fiche de synthèse",  # synthesis
        "Affections de longue durée (ALD)",
        ald_label,  # ALD
        "Allergies et intolérances",
        substance,  # allergy
        "Constantes :",
        weight,  # vital signs
        "Rectification du",
        "Avenant synthétique",  # amendment
        "Ordonnances (1)",
        "Ordonnance n° 1 du",
        "LOSARTAN 50 mg",  # the prescription as printed (its own PDF page)
        title,  # document
        f"Date de délivrance : {paris_date(datetime.now(UTC)):%d/%m/%Y}",
    ):
        assert expected in text, expected
    assert "PROJET" not in text


def test_copy_made_during_the_48_hours_is_a_draft_and_delivery_waits(demo_dir: DataDir) -> None:
    ws, director = login(demo_dir, "direction", DEMO_PASSWORD)
    try:
        pid = _rich_patient(ws)
        received = datetime.now(UTC) - timedelta(hours=1)
        view = _request(ws, director, pid, received)
        not_before = in_paris(received + timedelta(hours=48))
        mark = f"ne pas remettre avant le {not_before:%d/%m/%Y à %H:%M}"
        pages = pages_text(ra.generate_copy(ws, director, view.id))
        assert f"PROJET — {mark.upper()}" in pages[0]
        assert f"Date de délivrance : — (projet — {mark})" in pages[0]
        assert all("PROJET — NE PAS REMETTRE" in page for page in pages)  # every page
        with pytest.raises(ValidationFailed, match="48 heures"):
            ra.mark_delivered(ws, director, view.id)
        after = received + timedelta(hours=49)
        final = " ".join(pages_text(ra.generate_copy(ws, director, view.id, now=after)))
        assert "PROJET" not in final
        assert f"Date de délivrance : {paris_date(after):%d/%m/%Y}" in final
        handed = received + timedelta(days=5)
        ra.mark_delivered(ws, director, view.id, at=handed)
        again = " ".join(pages_text(ra.generate_copy(ws, director, view.id)))
        assert f"Date de délivrance : {paris_date(handed):%d/%m/%Y}" in again
    finally:
        ws.close()
