"""Roles and the permission matrix, enforced by the services (the UI only hides).

Medical secrecy (CSP L.1110-4) and the CNIL guidance: clinical content is open only to
those who care for patients. Reception and the administrator never read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    RECEPTION = "reception"
    DOCTOR = "doctor"
    NURSE = "nurse"
    DENTIST = "dentist"
    OTHER_CLINICIAN = "other_clinician"
    MEDICAL_DIRECTOR = "medical_director"
    ADMINISTRATOR = "administrator"


ROLE_LABELS: Mapping[Role, str] = {
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
    DOCUMENT_CLINICAL_READ = "document.clinical.read"
    DOCUMENT_CLINICAL_WRITE = "document.clinical.write"
    AGENDA_READ = "agenda.read"
    AGENDA_WRITE = "agenda.write"
    AGENDA_OWN = "agenda.own"
    WAITINGROOM_MANAGE = "waitingroom.manage"
    PRINT_CLINICAL = "print.clinical"
    PRINT_ADMIN = "print.admin"
    RECORD_ACCESS_MANAGE = "record_access.manage"
    EXPORT_RECORD = "export.record"
    USERS_MANAGE = "users.manage"
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"
    SYNC_MANAGE = "sync.manage"


PERMISSION_LABELS: Mapping[Permission, str] = {
    Permission.PATIENT_IDENTITY_READ: "consulter l'identité des patients",
    Permission.PATIENT_IDENTITY_WRITE: "modifier l'identité des patients",
    Permission.PATIENT_COVERAGE_READ: "consulter la couverture sociale",
    Permission.PATIENT_COVERAGE_WRITE: "modifier la couverture sociale",
    Permission.PATIENT_MERGE: "fusionner des dossiers",
    Permission.CLINICAL_READ: "consulter le dossier médical",
    Permission.CLINICAL_WRITE: "écrire dans le dossier médical",
    Permission.CONSULTATION_SIGN: "signer une consultation",
    Permission.PRESCRIPTION_WRITE: "rédiger une ordonnance",
    Permission.DOCUMENT_ADMIN_READ: "consulter les documents administratifs",
    Permission.DOCUMENT_CLINICAL_READ: "consulter les documents médicaux",
    Permission.DOCUMENT_CLINICAL_WRITE: "ajouter des documents médicaux",
    Permission.AGENDA_READ: "consulter l'agenda",
    Permission.AGENDA_WRITE: "modifier l'agenda",
    Permission.AGENDA_OWN: "consulter son propre agenda",
    Permission.WAITINGROOM_MANAGE: "gérer la salle d'attente",
    Permission.PRINT_CLINICAL: "imprimer des documents médicaux",
    Permission.PRINT_ADMIN: "imprimer des documents administratifs",
    Permission.RECORD_ACCESS_MANAGE: "gérer les demandes d'accès au dossier",
    Permission.EXPORT_RECORD: "exporter un dossier",
    Permission.USERS_MANAGE: "gérer les comptes",
    Permission.SETTINGS_MANAGE: "modifier les paramètres du centre",
    Permission.AUDIT_READ: "consulter le journal d'audit",
    Permission.SYNC_MANAGE: "gérer la synchronisation",
}

_ADMINISTRATIVE = frozenset(
    {
        Permission.PATIENT_IDENTITY_READ,
        Permission.PATIENT_COVERAGE_READ,
        Permission.AGENDA_READ,
        Permission.DOCUMENT_ADMIN_READ,
    }
)
_RECEPTION = _ADMINISTRATIVE | {
    Permission.PATIENT_IDENTITY_WRITE,
    Permission.PATIENT_COVERAGE_WRITE,
    Permission.PATIENT_MERGE,
    Permission.AGENDA_WRITE,
    Permission.WAITINGROOM_MANAGE,
    Permission.PRINT_ADMIN,
}
_CLINICIAN = _ADMINISTRATIVE | {
    Permission.PATIENT_IDENTITY_WRITE,
    Permission.PATIENT_COVERAGE_WRITE,
    Permission.CLINICAL_READ,
    Permission.CLINICAL_WRITE,
    Permission.CONSULTATION_SIGN,
    Permission.DOCUMENT_CLINICAL_READ,
    Permission.DOCUMENT_CLINICAL_WRITE,
    Permission.AGENDA_OWN,
    Permission.AGENDA_WRITE,
    Permission.WAITINGROOM_MANAGE,
    Permission.PRINT_CLINICAL,
    Permission.PRINT_ADMIN,
}
# Nurses and other clinicians sign their own care notes but do not write medicine
# prescriptions in this version (their limited prescribing rights are a later issue).
_PRESCRIBER = _CLINICIAN | {Permission.PRESCRIPTION_WRITE}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.RECEPTION: frozenset(_RECEPTION),
    Role.DOCTOR: frozenset(_PRESCRIBER),
    Role.DENTIST: frozenset(_PRESCRIBER),
    Role.NURSE: frozenset(_CLINICIAN),
    Role.OTHER_CLINICIAN: frozenset(_CLINICIAN),
    Role.MEDICAL_DIRECTOR: frozenset(
        _PRESCRIBER
        | {
            Permission.PATIENT_MERGE,
            Permission.RECORD_ACCESS_MANAGE,
            Permission.EXPORT_RECORD,
            Permission.AUDIT_READ,
        }
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.USERS_MANAGE,
            Permission.SETTINGS_MANAGE,
            Permission.SYNC_MANAGE,
            Permission.AUDIT_READ,
            Permission.AGENDA_READ,
        }
    ),
}

CLINICAL_ROLES = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.DENTIST, Role.OTHER_CLINICIAN, Role.MEDICAL_DIRECTOR}
)


class PermissionDenied(Exception):
    """Raised by a service when the acting role may not do something."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        super().__init__(
            f"Action non autorisée pour votre rôle : {PERMISSION_LABELS[permission]}."
        )


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
