"""Helpers shared by the clinical services: the patient's id group and the patient check."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cms_desktop.services.errors import NotFound
from cms_desktop.storage.models import Patient
from cms_desktop.storage.patient_links import patient_group_ids


def patient_ids(session: Session, patient_id: str) -> list[str]:
    """Ids whose rows belong to this patient (itself plus records merged into it)."""
    return patient_group_ids(session, patient_id)


_patient_ids = patient_ids  # the name the clinical services were written against


def live_patient(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted:
        raise NotFound("Patient introuvable.")
    return patient


def display_name(patient: Patient) -> str:
    given = patient.used_given_name or patient.first_given_name
    return f"{patient.used_name or patient.birth_name} {given}".strip()
