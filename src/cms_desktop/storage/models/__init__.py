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
from cms_desktop.storage.models.sync import (
    SyncConflict,
    SyncHeld,
    SyncPeer,
    SyncStation,
    SyncVector,
)

__all__ = [
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
    "Replicated",
    "Replication",
    "Room",
    "SyncConflict",
    "SyncHeld",
    "SyncPeer",
    "SyncStation",
    "SyncVector",
    "User",
    "new_id",
    "utcnow",
]
