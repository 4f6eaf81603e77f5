"""The permission matrix, checked against a table written from the rules."""

from __future__ import annotations

import pytest

from cms_desktop.domain.permissions import (
    PERMISSION_LABELS,
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    Permission,
    PermissionDenied,
    Role,
    has_permission,
    require_permission,
)

R = Role
# Columns: reception, doctor, nurse, dentist, other clinician, medical director, administrator.
ROLES = (
    R.RECEPTION,
    R.DOCTOR,
    R.NURSE,
    R.DENTIST,
    R.OTHER_CLINICIAN,
    R.MEDICAL_DIRECTOR,
    R.ADMINISTRATOR,
)
EXPECTED: dict[str, str] = {
    "patient.identity.read": "XXXXXX.",
    "patient.identity.write": "XXXXXX.",
    "patient.coverage.read": "XXXXXX.",
    "patient.coverage.write": "X......",
    "patient.merge": ".....X.",
    "clinical.read": ".XXXXX.",
    "clinical.write": ".XXXXX.",
    "consultation.sign": ".XXXXX.",
    "prescription.write": ".X.X.X.",
    "document.admin.read": "XXXXXX.",
    "document.admin.write": "X......",
    "document.clinical.read": ".XXXXX.",
    "document.clinical.write": ".XXXXX.",
    "agenda.read": "XXXXXX.",
    "agenda.write": "XXXXXX.",
    "agenda.own": ".XXXXX.",
    "waitingroom.manage": "XXXXXX.",
    "print.clinical": ".XXXXX.",
    "print.admin": "XXXXXX.",
    "record_access.register": "XXXXXX.",
    "record_access.manage": ".....X.",
    "export.record": ".....X.",
    "users.manage": "......X",
    "settings.manage": "......X",
    "audit.read": ".....X.",
    "sync.manage": "......X",
    "backup.manage": "......X",
}


def test_table_covers_every_permission() -> None:
    assert set(EXPECTED) == {p.value for p in Permission}
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("permission", sorted(EXPECTED))
def test_matrix_row(permission: str) -> None:
    granted = "".join(
        "X" if has_permission(role, Permission(permission)) else "." for role in ROLES
    )
    assert granted == EXPECTED[permission]


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMINISTRATOR])
def test_non_carers_get_no_clinical_permission(role: Role) -> None:
    clinical = {p for p in Permission if p.value.startswith(("clinical.", "document.clinical."))}
    clinical |= {
        Permission.PRINT_CLINICAL,
        Permission.CONSULTATION_SIGN,
        Permission.PRESCRIPTION_WRITE,
    }
    assert not (ROLE_PERMISSIONS[role] & clinical)


def test_medical_director_is_a_doctor_plus_oversight() -> None:
    extra = ROLE_PERMISSIONS[Role.MEDICAL_DIRECTOR] - ROLE_PERMISSIONS[Role.DOCTOR]
    assert ROLE_PERMISSIONS[Role.DOCTOR] <= ROLE_PERMISSIONS[Role.MEDICAL_DIRECTOR]
    assert {
        Permission.RECORD_ACCESS_MANAGE,
        Permission.EXPORT_RECORD,
        Permission.AUDIT_READ,
    } <= extra


def test_labels_are_complete() -> None:
    assert set(ROLE_LABELS) == set(Role)
    assert set(PERMISSION_LABELS) == set(Permission)
    assert ROLE_LABELS[Role.NURSE] == "Infirmier·e"
    assert Role("medical_director") is Role.MEDICAL_DIRECTOR


def test_require_permission_raises_a_french_message() -> None:
    require_permission(Role.DOCTOR, Permission.CLINICAL_READ)
    with pytest.raises(PermissionDenied) as error:
        require_permission(Role.RECEPTION, Permission.CLINICAL_READ)
    assert error.value.role is Role.RECEPTION
    assert error.value.permission is Permission.CLINICAL_READ
    assert str(error.value) == (
        "Action non autorisée : le rôle « Accueil » ne permet pas de consulter le dossier médical."
    )
