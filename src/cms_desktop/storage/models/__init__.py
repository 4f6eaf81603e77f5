"""ORM models (SQLAlchemy 2, typed). Importing this package registers every table."""

from cms_desktop.storage.models.agenda import (
    AgendaClosure,
    AgendaSettings,
    Appointment,
    AppointmentTypeRow,
    Practitioner,
    PractitionerAbsence,
    PractitionerRange,
    WaitingListEntry,
)
from cms_desktop.storage.models.base import (
    Base,
    InsertOnly,
    Replicated,
    Replication,
    new_id,
    utcnow,
)
from cms_desktop.storage.models.clinical import Consultation, ConsultationDraft
from cms_desktop.storage.models.core import AuditEntry, Centre, LocalState, OpLogRow, Room, User
from cms_desktop.storage.models.patient import Patient, PatientAld

__all__ = [
    "AgendaClosure",
    "AgendaSettings",
    "Appointment",
    "AppointmentTypeRow",
    "AuditEntry",
    "Base",
    "Centre",
    "Consultation",
    "ConsultationDraft",
    "InsertOnly",
    "LocalState",
    "OpLogRow",
    "Patient",
    "PatientAld",
    "Practitioner",
    "PractitionerAbsence",
    "PractitionerRange",
    "Replicated",
    "Replication",
    "Room",
    "User",
    "WaitingListEntry",
    "new_id",
    "utcnow",
]
