"""A small patient search for the booking dialog (by name prefix), until the patients
module's PatientPicker takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.common import patient_name
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Patient


@dataclass(frozen=True)
class PatientChoice:
    id: str
    display_name: str
    birth_date: date

    @property
    def label(self) -> str:
        return f"{self.display_name} — né(e) le {self.birth_date:%d/%m/%Y}"


def search_patients_for_booking(
    ws: Workspace, actor: Actor, text: str, limit: int = 20
) -> list[PatientChoice]:
    """Patients whose birth or used name starts with the first word typed (case-insensitive);
    a second word filters on the given name.
    """
    actor.require(Permission.PATIENT_IDENTITY_READ)
    words = text.strip().split()
    if not words:
        return []
    family = words[0].upper().replace("%", "").replace("_", "")
    query = select(Patient).where(
        Patient.deleted.is_(False),
        Patient.merged_into_id.is_(None),
        or_(
            func.upper(Patient.birth_name).like(f"{family}%"),
            func.upper(Patient.used_name).like(f"{family}%"),
        ),
    )
    if len(words) > 1:
        given = words[1].upper().replace("%", "").replace("_", "")
        query = query.where(func.upper(Patient.first_given_name).like(f"{given}%"))
    with ws.store.read() as session:
        rows = session.scalars(
            query.order_by(Patient.birth_name, Patient.first_given_name).limit(limit)
        )
        return [PatientChoice(p.id, patient_name(p), p.birth_date) for p in rows]
