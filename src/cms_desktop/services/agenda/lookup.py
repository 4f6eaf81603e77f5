"""The patient search of the booking dialog: the indexed search of the patients module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cms_desktop.domain.identity import agreed
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.patient_search import search_patients
from cms_desktop.services.workspace import Workspace


@dataclass(frozen=True)
class PatientChoice:
    id: str
    display_name: str
    birth_date: date
    sex: str = ""

    @property
    def label(self) -> str:
        born = agreed(self.sex, "né", "née", "né·e")
        return f"{self.display_name} — {born} le {self.birth_date:%d/%m/%Y}"


@requires(Permission.PATIENT_IDENTITY_READ)
def search_patients_for_booking(
    ws: Workspace, actor: Actor, text: str, limit: int = 20
) -> list[PatientChoice]:
    """The booking dialog's choices, from the indexed search of the patients module (any
    part of a name, a birth date, a NIR or a phone)."""
    return [
        PatientChoice(hit.id, hit.display_name, hit.birth_date, hit.sex)
        for hit in search_patients(ws, actor, text, limit)
    ]
