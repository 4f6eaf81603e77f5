"""Clinical content through the services: permissions, audit, drafts, signing, amendments."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import patient_file, records
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models import AuditEntry, Consultation, Patient
from tests.conftest import ADMIN_PASSWORD, Centre


@pytest.fixture
def patient_id(centre: Centre) -> str:
    ws, _ = centre.login("accueil")
    with ws.store.write() as session:
        p = Patient(
            birth_name="LEROY", first_given_name="Inès", birth_date=date(1988, 3, 9), sex="F"
        )
        session.add(p)
        session.flush()
        pid = p.id
    ws.close()
    return pid


def test_reception_and_administrator_are_refused_clinical_content(
    centre: Centre, patient_id: str
) -> None:
    for login_name, password in (("accueil", None), ("admin", ADMIN_PASSWORD)):
        ws, actor = centre.login(login_name, password) if password else centre.login(login_name)
        # What the application calls when a record is opened, then the older entry point.
        with pytest.raises(PermissionDenied, match="consulter le dossier médical"):
            patient_file.open_patient_file(ws, actor, patient_id)
        with pytest.raises(PermissionDenied, match="Action non autorisée"):
            records.open_clinical_record(ws, actor, patient_id)
        with pytest.raises(PermissionDenied):
            records.save_draft(ws, actor, patient_id, records.NoteContent(reason="x"))
        with ws.store.read() as session:
            opened = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "clinical_record_opened")
            ).all()
        assert opened == []
        ws.close()


def test_doctor_writes_signs_and_amends_and_every_opening_is_audited(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    draft = records.save_draft(
        ws, doctor, patient_id, records.NoteContent(reason="Toux", weight_kg=61.5)
    )
    draft = records.save_draft(
        ws,
        doctor,
        patient_id,
        records.NoteContent(reason="Toux depuis 8 jours", conclusion="Bronchite"),
        draft,
    )
    record = records.open_clinical_record(ws, doctor, patient_id)
    assert [d.content.reason for d in record.my_drafts] == ["Toux depuis 8 jours"]
    signed = records.sign_draft(ws, doctor, draft)
    fix = records.amend(
        ws,
        doctor,
        signed,
        records.NoteContent(reason="Toux depuis 8 jours", conclusion="Bronchite aiguë virale"),
    )
    record = records.open_clinical_record(ws, doctor, patient_id)
    assert record.my_drafts == ()
    by_id = {c.id: c for c in record.consultations}
    assert by_id[signed].content.conclusion == "Bronchite" and by_id[signed].amended_by == (fix,)
    assert by_id[fix].amends_id == signed
    with ws.store.read() as session:
        opened = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "clinical_record_opened", AuditEntry.target_id == patient_id
            )
        ).all()
        assert len(opened) == 2 and {e.user_login for e in opened} == {"dr.test"}
        # The audit trail names ids, never the patient.
        assert all("LEROY" not in e.details for e in session.scalars(select(AuditEntry)))
    ws.close()


def test_signed_consultation_cannot_be_edited(centre: Centre, patient_id: str) -> None:
    from cms_desktop.storage.oplog_capture import ForbiddenWrite

    ws, doctor = centre.login("dr.test")
    signed = records.sign_draft(
        ws, doctor, records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Fièvre"))
    )
    with pytest.raises(ForbiddenWrite), ws.store.write() as session:
        note = session.get(Consultation, signed)
        assert note is not None
        note.conclusion = "changed"
    ws.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (records.NoteContent(reason="x" * 200_000), "trop long"),
        (records.NoteContent(reason="ok", systolic=400), "plausible"),
    ],
)
def test_bad_note_content_is_refused_and_nothing_stored(
    centre: Centre, patient_id: str, content: records.NoteContent, message: str
) -> None:
    ws, doctor = centre.login("dr.test")
    with pytest.raises(ValidationFailed, match=message):
        records.save_draft(ws, doctor, patient_id, content)
    assert records.open_clinical_record(ws, doctor, patient_id).my_drafts == ()
    ws.close()


def test_control_characters_and_sql_looking_text_are_stored_safely(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    text = "Robert'); DROP TABLE patients;--\x00\x07 fin\nligne 2"
    records.save_draft(ws, doctor, patient_id, records.NoteContent(reason=text))
    draft = records.open_clinical_record(ws, doctor, patient_id).my_drafts[0]
    assert draft.content.reason == "Robert'); DROP TABLE patients;-- fin\nligne 2"
    ws.close()


def test_a_signed_draft_cannot_be_signed_again_nor_saved(centre: Centre, patient_id: str) -> None:
    ws, doctor = centre.login("dr.test")
    draft = records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Angine"))
    signed = records.sign_draft(ws, doctor, draft)
    with pytest.raises(ValidationFailed, match="déjà été signée"):
        records.sign_draft(ws, doctor, draft)
    with pytest.raises(ValidationFailed, match="déjà été signée"):
        records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Autre"), draft)
    with ws.store.read() as session:
        notes = session.scalars(select(Consultation)).all()
    stored = [(n.id, n.draft_id, records.note_content(ws.clinical_keys, n).reason) for n in notes]
    assert stored == [(signed, draft, "Angine")]
    ws.close()


def test_a_deleted_draft_cannot_be_signed_nor_saved(centre: Centre, patient_id: str) -> None:
    from cms_desktop.services.errors import NotFound
    from cms_desktop.storage.models import ConsultationDraft

    ws, doctor = centre.login("dr.test")
    draft = records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Angine"))
    with ws.store.write() as session:
        session.get(ConsultationDraft, draft).deleted = True
    with pytest.raises(NotFound, match="Brouillon introuvable"):
        records.sign_draft(ws, doctor, draft)
    with pytest.raises(NotFound, match="Brouillon introuvable"):
        records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Autre"), draft)
    with ws.store.read() as session:
        assert session.scalars(select(Consultation)).all() == []
    ws.close()


def test_the_database_refuses_a_second_note_from_the_same_draft(
    centre: Centre, patient_id: str
) -> None:
    """Whatever code runs (the service's check bypassed), SQLite keeps one note per draft."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    ws, doctor = centre.login("dr.test")
    draft = records.save_draft(ws, doctor, patient_id, records.NoteContent(reason="Angine"))
    records.sign_draft(ws, doctor, draft)
    with pytest.raises(IntegrityError, match="UNIQUE"), ws.store.write() as session:
        now = datetime.now(UTC)
        session.add(
            Consultation(
                patient_id=patient_id,
                author_id=doctor.user_id,
                seen_at=now,
                signed_at=now,
                reason="Angine",
                draft_id=draft,
            )
        )
        session.flush()
    with ws.store.read() as session:
        assert len(session.scalars(select(Consultation)).all()) == 1
    ws.close()
