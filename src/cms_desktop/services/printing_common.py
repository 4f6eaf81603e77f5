"""What every printout needs from the database (centre, prescriber, patient blocks), the
audit of prints and exports, and a small patient search for the Impressions area.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.printing.dto import CentreInfo, PatientInfo, PrescriberInfo
from cms_desktop.services import patient_search
from cms_desktop.services.access import internal, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, repositories
from cms_desktop.storage.models import AuditEntry, Patient, PatientAld, User

_PROFESSIONS = {
    Role.DOCTOR: "Médecin",
    Role.MEDICAL_DIRECTOR: "Médecin",
    Role.DENTIST: "Chirurgien-dentiste",
    Role.NURSE: "Infirmier·e",
}


class Output(StrEnum):
    """How a document left the application: both go to the audit trail."""

    PRINT = "print"
    EXPORT = "export"  # saved as a PDF file where the user chose


DOCUMENT_LABELS = {
    "prescription": "Ordonnance",
    "prescription_reprint": "Ordonnance (réimpression)",
    "certificate": "Certificat médical",
    "referral_letter": "Lettre d'adressage",
    "record_copy": "Copie du dossier",
    "record_copy_draft": "Copie du dossier (projet)",
}


def centre_info(session: Session) -> CentreInfo:
    centre = repositories.centre(session)
    if centre is None:
        raise NotFound("Les informations du centre sont introuvables.")
    town = f"{centre.postcode} {centre.city}".strip()
    lines = tuple(line for line in (centre.address, town) if line)
    return CentreInfo(centre.name, lines, centre.phone, centre.finess, centre.logo_png)


@internal("inside the printing services, after their check")
def prescriber_info(session: Session, actor: Actor) -> PrescriberInfo:
    """The acting practitioner's block; an RPPS number is mandatory (R.5132-3 CSP)."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Compte introuvable.")
    if not user.rpps.strip():
        raise ValidationFailed(
            "Votre numéro RPPS n'est pas renseigné : il est obligatoire sur les documents "
            "médicaux. Demandez à l'administrateur du centre de compléter votre compte."
        )
    name = f"{user.title} {user.full_name}".strip() if user.title else f"Dr {user.full_name}"
    if Role(user.role) not in (Role.DOCTOR, Role.MEDICAL_DIRECTOR) and not user.title:
        name = user.full_name
    profession = user.profession or _PROFESSIONS.get(Role(user.role), "")
    return PrescriberInfo(name, profession, user.rpps, user.specialty or None)


def get_patient(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted:
        raise NotFound("Patient introuvable.")
    return patient


def active_alds(session: Session, patient_id: str, on: date) -> list[PatientAld]:
    rows = session.scalars(select(PatientAld).where(PatientAld.patient_id == patient_id)).all()
    return [row for row in rows if row.active_on(on)]


def given_names(patient: Patient) -> tuple[str, ...]:
    extra = [name for name in patient.given_names.split() if name != patient.first_given_name]
    return (patient.first_given_name, *extra)


def patient_info(
    session: Session, patient: Patient, on: date, weight_kg: float | None = None
) -> PatientInfo:
    return PatientInfo(
        birth_name=patient.birth_name,
        given_names=given_names(patient),
        sex=patient.sex,
        birth_date=patient.birth_date,
        used_name=patient.used_name or None,
        weight_kg=weight_kg,
        has_ald=bool(active_alds(session, patient.id, on)),
    )


def display_name(patient: Patient) -> str:
    return f"{(patient.used_name or patient.birth_name).upper()} {patient.first_given_name}"


@internal("inside the printing services, after their check")
def audit_output(
    session: Session,
    ws: Workspace,
    actor: Actor,
    how: Output | str,
    document: str,
    target_type: str,
    target_id: str,
    patient_id: str,
) -> None:
    """One audit entry per print or export: ids and the kind of document only."""
    audit.append(
        session,
        ws.store.station_id,
        Output(how).value,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type=target_type,
        target_id=target_id,
        details={"document": document, "patient_id": patient_id},
    )


@dataclass(frozen=True)
class PatientChoice:
    id: str
    label: str  # « DUPONT Marie — 12/03/1980 »
    birth_date: date


@requires(Permission.PATIENT_IDENTITY_READ)
def search_patients(ws: Workspace, actor: Actor, text: str, limit: int = 20) -> list[PatientChoice]:
    """Choices for the printing screens, from the indexed search of the patients module."""
    return [
        PatientChoice(hit.id, f"{hit.display_name} — {hit.birth_date_text}", hit.birth_date)
        for hit in patient_search.search_patients(ws, actor, text, limit)
    ]


@dataclass(frozen=True)
class OutputEntry:
    at: datetime
    how: str  # "print" | "export"
    document: str  # French label
    patient_id: str
    patient_label: str


@requires(Permission.PRINT_CLINICAL)
def recent_outputs(ws: Workspace, actor: Actor, limit: int = 30) -> list[OutputEntry]:
    """The actor's own latest prints and exports, newest first."""
    actor.require(Permission.PRINT_CLINICAL)
    with ws.store.read() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.user_id == actor.user_id,
                AuditEntry.action.in_([Output.PRINT.value, Output.EXPORT.value]),
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())
            .limit(limit)
        ).all()
        out: list[OutputEntry] = []
        for entry in entries:
            details = json.loads(entry.details or "{}")
            patient_id = str(details.get("patient_id", ""))
            patient = session.get(Patient, patient_id) if patient_id else None
            label = display_name(patient) if patient is not None else ""
            document = DOCUMENT_LABELS.get(str(details.get("document", "")), "Document")
            out.append(OutputEntry(entry.at, entry.action, document, patient_id, label))
        return out
