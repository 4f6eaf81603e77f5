"""ORM models (SQLAlchemy 2, typed). Importing this package registers every table."""

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
from cms_desktop.storage.models.prescribing import (
    BdpmComposition,
    BdpmImport,
    BdpmMedicine,
    BdpmPresentation,
    PrescriptionRecord,
    PrescriptionTemplate,
    RecordAccessRequest,
)

__all__ = [
    "AuditEntry",
    "Base",
    "BdpmComposition",
    "BdpmImport",
    "BdpmMedicine",
    "BdpmPresentation",
    "Centre",
    "Consultation",
    "ConsultationDraft",
    "InsertOnly",
    "LocalState",
    "OpLogRow",
    "Patient",
    "PatientAld",
    "PrescriptionRecord",
    "PrescriptionTemplate",
    "RecordAccessRequest",
    "Replicated",
    "Replication",
    "Room",
    "User",
    "new_id",
    "utcnow",
]
