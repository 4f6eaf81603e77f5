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
from cms_desktop.storage.models.audit_heads import AuditHead
from cms_desktop.storage.models.base import (
    Base,
    InsertOnly,
    Replicated,
    Replication,
    new_id,
    utcnow,
)
from cms_desktop.storage.models.clinical import Consultation, ConsultationDraft
from cms_desktop.storage.models.clinical_keys import AgreementKey, ClinicalKeyGrant
from cms_desktop.storage.models.core import AuditEntry, Centre, LocalState, OpLogRow, Room, User
from cms_desktop.storage.models.documents import Blob, BlobChunk, Document
from cms_desktop.storage.models.key_slots import AccountKeySlot
from cms_desktop.storage.models.legacy_seals import LegacySeal, LegacySealPending
from cms_desktop.storage.models.patient import Patient, PatientAld
from cms_desktop.storage.models.patient_search import PatientSearchKey
from cms_desktop.storage.models.prescribing import (
    BdpmComposition,
    BdpmImport,
    BdpmMedicine,
    BdpmPresentation,
    PrescriptionRecord,
    PrescriptionTemplate,
    RecordAccessRequest,
)
from cms_desktop.storage.models.signing import SigningKey
from cms_desktop.storage.models.sync import (
    SyncConflict,
    SyncHeld,
    SyncPeer,
    SyncStation,
    SyncVector,
)
from cms_desktop.storage.models.synthesis import (
    AllergyRow,
    AllergyStatementRow,
    HistoryRow,
    ProblemRow,
    RiskFactorRow,
    ScreeningRow,
    TreatmentRow,
    VaccinationRow,
)

__all__ = [
    "AccountKeySlot",
    "AgendaClosure",
    "AgendaSettings",
    "AgreementKey",
    "AllergyRow",
    "AllergyStatementRow",
    "Appointment",
    "AppointmentTypeRow",
    "AuditEntry",
    "AuditHead",
    "Base",
    "BdpmComposition",
    "BdpmImport",
    "BdpmMedicine",
    "BdpmPresentation",
    "Blob",
    "BlobChunk",
    "Centre",
    "ClinicalKeyGrant",
    "Consultation",
    "ConsultationDraft",
    "Document",
    "HistoryRow",
    "InsertOnly",
    "LegacySeal",
    "LegacySealPending",
    "LocalState",
    "OpLogRow",
    "Patient",
    "PatientAld",
    "PatientSearchKey",
    "Practitioner",
    "PractitionerAbsence",
    "PractitionerRange",
    "PrescriptionRecord",
    "PrescriptionTemplate",
    "ProblemRow",
    "RecordAccessRequest",
    "Replicated",
    "Replication",
    "RiskFactorRow",
    "Room",
    "ScreeningRow",
    "SigningKey",
    "SyncConflict",
    "SyncHeld",
    "SyncPeer",
    "SyncStation",
    "SyncVector",
    "TreatmentRow",
    "User",
    "VaccinationRow",
    "WaitingListEntry",
    "new_id",
    "utcnow",
]
