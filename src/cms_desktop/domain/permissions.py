"""Roles and the permission matrix that services enforce (the UI only hides what is denied).

CNIL guidance: access to medical data is limited to those who care for the patient, so
reception and the administrator never get clinical permissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "DATA_KIND_PERMISSION",
    "PERMISSION_LABELS",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "DataKind",
    "Permission",
    "PermissionDenied",
    "Role",
    "has_permission",
    "require_permission",
]


class Role(StrEnum):
    RECEPTION = "reception"
    DOCTOR = "doctor"
    NURSE = "nurse"
    DENTIST = "dentist"
    OTHER_CLINICIAN = "other_clinician"
    MEDICAL_DIRECTOR = "medical_director"
    ADMINISTRATOR = "administrator"


ROLE_LABELS: dict[Role, str] = {
    Role.RECEPTION: "Accueil",
    Role.DOCTOR: "Médecin",
    Role.NURSE: "Infirmier·e",
    Role.DENTIST: "Chirurgien-dentiste",
    Role.OTHER_CLINICIAN: "Autre soignant",
    Role.MEDICAL_DIRECTOR: "Directeur médical",
    Role.ADMINISTRATOR: "Administrateur",
}


class Permission(StrEnum):
    PATIENT_IDENTITY_READ = "patient.identity.read"
    PATIENT_IDENTITY_WRITE = "patient.identity.write"
    PATIENT_COVERAGE_READ = "patient.coverage.read"
    PATIENT_COVERAGE_WRITE = "patient.coverage.write"
    PATIENT_MERGE = "patient.merge"
    CLINICAL_READ = "clinical.read"
    CLINICAL_WRITE = "clinical.write"
    CONSULTATION_SIGN = "consultation.sign"
    PRESCRIPTION_WRITE = "prescription.write"
    DOCUMENT_ADMIN_READ = "document.admin.read"
    DOCUMENT_ADMIN_WRITE = "document.admin.write"
    DOCUMENT_CLINICAL_READ = "document.clinical.read"
    DOCUMENT_CLINICAL_WRITE = "document.clinical.write"
    AGENDA_READ = "agenda.read"
    AGENDA_WRITE = "agenda.write"
    AGENDA_OWN = "agenda.own"
    WAITINGROOM_MANAGE = "waitingroom.manage"
    PRINT_CLINICAL = "print.clinical"
    PRINT_ADMIN = "print.admin"
    RECORD_ACCESS_REGISTER = "record_access.register"
    RECORD_ACCESS_MANAGE = "record_access.manage"
    EXPORT_RECORD = "export.record"
    USERS_MANAGE = "users.manage"
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"
    SYNC_MANAGE = "sync.manage"
    BACKUP_MANAGE = "backup.manage"


# French wording of each action, used in "not allowed to ..." messages.
PERMISSION_LABELS: dict[Permission, str] = {
    Permission.PATIENT_IDENTITY_READ: "consulter l'identité d'un patient",
    Permission.PATIENT_IDENTITY_WRITE: "modifier l'identité d'un patient",
    Permission.PATIENT_COVERAGE_READ: "consulter la couverture sociale d'un patient",
    Permission.PATIENT_COVERAGE_WRITE: "modifier la couverture sociale d'un patient",
    Permission.PATIENT_MERGE: "fusionner deux dossiers patients",
    Permission.CLINICAL_READ: "consulter le dossier médical",
    Permission.CLINICAL_WRITE: "modifier le dossier médical",
    Permission.CONSULTATION_SIGN: "signer une consultation",
    Permission.PRESCRIPTION_WRITE: "rédiger une ordonnance",
    Permission.DOCUMENT_ADMIN_READ: "consulter les documents administratifs",
    Permission.DOCUMENT_ADMIN_WRITE: "ajouter des documents administratifs",
    Permission.DOCUMENT_CLINICAL_READ: "consulter les documents médicaux",
    Permission.DOCUMENT_CLINICAL_WRITE: "ajouter des documents médicaux",
    Permission.AGENDA_READ: "consulter l'agenda",
    Permission.AGENDA_WRITE: "modifier l'agenda",
    Permission.AGENDA_OWN: "consulter sa journée de consultations",
    Permission.WAITINGROOM_MANAGE: "gérer la salle d'attente",
    Permission.PRINT_CLINICAL: "imprimer des documents médicaux",
    Permission.PRINT_ADMIN: "imprimer des documents administratifs",
    Permission.RECORD_ACCESS_REGISTER: "enregistrer et suivre les demandes de copie du dossier",
    Permission.RECORD_ACCESS_MANAGE: "traiter les demandes d'accès au dossier",
    Permission.EXPORT_RECORD: "exporter un dossier patient",
    Permission.USERS_MANAGE: "gérer les comptes utilisateurs",
    Permission.SETTINGS_MANAGE: "modifier les paramètres",
    Permission.AUDIT_READ: "consulter le journal des accès",
    Permission.SYNC_MANAGE: "gérer la synchronisation",
    Permission.BACKUP_MANAGE: "gérer les sauvegardes",
}

P = Permission

_RECEPTION = frozenset(
    {
        P.PATIENT_IDENTITY_READ,
        P.PATIENT_IDENTITY_WRITE,
        P.PATIENT_COVERAGE_READ,
        P.PATIENT_COVERAGE_WRITE,
        P.DOCUMENT_ADMIN_READ,
        P.DOCUMENT_ADMIN_WRITE,
        P.AGENDA_READ,
        P.AGENDA_WRITE,
        P.WAITINGROOM_MANAGE,
        P.PRINT_ADMIN,
        # The patient asks at the desk: reception registers and follows the request (no
        # clinical content); preparing the copy stays with the director.
        P.RECORD_ACCESS_REGISTER,
    }
)

# Every clinician reads and writes the record of the patients in care and signs their own
# notes (a signed note becomes immutable).
_CLINICIAN = frozenset(
    {
        P.PATIENT_IDENTITY_READ,
        P.PATIENT_IDENTITY_WRITE,
        P.PATIENT_COVERAGE_READ,
        P.CLINICAL_READ,
        P.CLINICAL_WRITE,
        P.CONSULTATION_SIGN,
        P.DOCUMENT_ADMIN_READ,
        P.DOCUMENT_CLINICAL_READ,
        P.DOCUMENT_CLINICAL_WRITE,
        P.AGENDA_READ,
        P.AGENDA_WRITE,
        P.AGENDA_OWN,
        P.WAITINGROOM_MANAGE,
        P.PRINT_CLINICAL,
        P.PRINT_ADMIN,
        P.RECORD_ACCESS_REGISTER,
    }
)

# Nurses (and some other professions) may legally prescribe some devices and products, but
# the prescription module targets medicines: it stays with doctors and dentists for now.
_PRESCRIBER = _CLINICIAN | {P.PRESCRIPTION_WRITE}

# Merging two records moves clinical data, so it is kept for the medical director.
_MEDICAL_DIRECTOR = _PRESCRIBER | {
    P.RECORD_ACCESS_MANAGE,
    P.EXPORT_RECORD,
    P.AUDIT_READ,
    P.PATIENT_MERGE,
}

# The administrator runs the installation but sees no patient data at all.
# Backups hold every record, but encrypted: making and checking them reads no patient data.
_ADMINISTRATOR = frozenset({P.USERS_MANAGE, P.SETTINGS_MANAGE, P.SYNC_MANAGE, P.BACKUP_MANAGE})

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.RECEPTION: _RECEPTION,
        Role.DOCTOR: _PRESCRIBER,
        Role.NURSE: _CLINICIAN,
        Role.DENTIST: _PRESCRIBER,
        Role.OTHER_CLINICIAN: _CLINICIAN,
        Role.MEDICAL_DIRECTOR: _MEDICAL_DIRECTOR,
        Role.ADMINISTRATOR: _ADMINISTRATOR,
    }
)


class PermissionDenied(Exception):
    """The acting role may not perform the action; ``str()`` is a French message."""

    def __init__(self, role: Role, permission: Permission) -> None:
        self.role = role
        self.permission = permission
        super().__init__(
            f"Action non autorisée : le rôle « {ROLE_LABELS[role]} » ne permet pas de "
            f"{PERMISSION_LABELS[permission]}."
        )


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def require_permission(role: Role, permission: Permission) -> None:
    """Raise PermissionDenied unless the role grants the permission."""
    if not has_permission(role, permission):
        raise PermissionDenied(role, permission)


CLINICAL_ROLES: frozenset[Role] = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.DENTIST, Role.OTHER_CLINICIAN, Role.MEDICAL_DIRECTOR}
)


class DataKind(StrEnum):
    """What a replicated table holds: every replicated model declares it (``__data_kind__``)
    and sync conflicts on its rows are shown and settled only by those it names below."""

    CLINICAL = "clinical"  # the medical record: synthesis, notes, prescriptions, documents
    IDENTITY = "identity"  # a patient's identity and contact
    COVERAGE = "coverage"  # a patient's social cover (ALD list)
    AGENDA = "agenda"  # appointments, practitioners' ranges and absences, waiting list
    PRESCRIBING = "prescribing"  # a prescriber's own templates (no patient data)
    RECORD_ACCESS = "record_access"  # requests for a copy of the record
    ACCOUNTS = "accounts"  # user accounts and their key slots
    SETTINGS = "settings"  # centre, rooms, opening hours, appointment types
    AUDIT = "audit"  # the audit trail
    SYNC = "sync"  # stations and the conflicts themselves


# Who may see both values of a conflict on data of each kind, and choose: those allowed to
# change that data. Never a default: a kind missing here is a KeyError, not the administrator.
DATA_KIND_PERMISSION: Mapping[DataKind, Permission] = MappingProxyType(
    {
        DataKind.CLINICAL: Permission.CLINICAL_WRITE,
        DataKind.IDENTITY: Permission.PATIENT_IDENTITY_WRITE,
        DataKind.COVERAGE: Permission.PATIENT_COVERAGE_WRITE,
        DataKind.AGENDA: Permission.AGENDA_WRITE,
        DataKind.PRESCRIBING: Permission.PRESCRIPTION_WRITE,
        DataKind.RECORD_ACCESS: Permission.RECORD_ACCESS_MANAGE,
        DataKind.ACCOUNTS: Permission.USERS_MANAGE,
        DataKind.SETTINGS: Permission.SETTINGS_MANAGE,
        DataKind.AUDIT: Permission.AUDIT_READ,
        DataKind.SYNC: Permission.SYNC_MANAGE,
    }
)
