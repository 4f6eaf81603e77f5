"""Synthetic patients, practitioners and consultations for the printing service tests."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pypdf
from sqlalchemy import select

from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import AuditEntry, Centre, Consultation, Patient, PatientAld, User


def pages_text(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text()).strip() for page in reader.pages]


def set_practitioner(ws: Workspace, login: str, rpps: str = "10000000042") -> None:
    with ws.store.write() as session:
        user = session.scalars(select(User).where(User.login == login)).one()
        user.rpps, user.profession, user.specialty, user.title = (
            rpps,
            "Médecin",
            "Médecine générale",
            "Dr",
        )
        centre = session.scalars(select(Centre)).one()
        centre.address, centre.postcode, centre.city, centre.phone = (
            "3 rue des Écoles",
            "99000",
            "Villebourg",
            "01 23 45 67 89",
        )


def add_patient(
    ws: Workspace,
    birth: date = date(1961, 5, 4),
    sex: str = "F",
    name: str = "TESTEUR",
    given: str = "Éloïse",
    ald: bool = False,
) -> str:
    with ws.store.write() as session:
        patient = Patient(birth_name=name, first_given_name=given, birth_date=birth, sex=sex)
        session.add(patient)
        session.flush()
        if ald:
            session.add(
                PatientAld(
                    patient_id=patient.id,
                    label="Diabète de type 2",
                    code="8",
                    start_date=date(2020, 1, 1),
                )
            )
        return patient.id


def add_consultation(
    ws: Workspace,
    patient_id: str,
    author_login: str,
    seen: datetime,
    weight_kg: float | None = None,
    reason: str = "Contrôle",
    amends: str | None = None,
) -> str:
    with ws.store.write() as session:
        author = session.scalars(select(User).where(User.login == author_login)).one()
        note = Consultation(
            patient_id=patient_id,
            author_id=author.id,
            seen_at=seen,
            signed_at=datetime.now(UTC),
            reason=reason,
            weight_kg=weight_kg,
            amends_id=amends,
        )
        session.add(note)
        session.flush()
        return note.id


def audit_actions(ws: Workspace, action: str) -> list[AuditEntry]:
    with ws.store.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
