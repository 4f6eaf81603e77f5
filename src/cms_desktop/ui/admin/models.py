"""Table models of the administration area: staff accounts and audit trail entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import ROLE_LABELS
from cms_desktop.services.audit_trail import AuditLine
from cms_desktop.services.users import UserInfo

AnyIndex = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("admin", text)


class UsersModel(QAbstractTableModel):
    """Accounts by id, in the order the service returns them; one row per account."""

    COLUMNS = ("login", "name", "role", "active", "bizone")

    def __init__(self, users: Sequence[UserInfo] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[UserInfo] = list(users)

    def set_users(self, users: Sequence[UserInfo]) -> None:
        self.beginResetModel()
        self._rows = list(users)
        self.endResetModel()

    def upsert(self, info: UserInfo) -> int:
        """Replace the row of this account (or append it); returns its row."""
        for row, current in enumerate(self._rows):
            if current.id == info.id:
                self._rows[row] = info
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
                return row
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(info)
        self.endInsertRows()
        return row

    def user_at(self, row: int) -> UserInfo | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, login: str) -> int:
        return next((r for r, u in enumerate(self._rows) if u.login == login), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.COLUMNS):
            return None
        return (_tr("Identifiant"), _tr("Nom"), _tr("Rôle"), _tr("État"), _tr("Bizone (ALD)"))[
            section
        ]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        user = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "login":
                return user.login
            if column == "name":
                return user.full_name
            if column == "role":
                return ROLE_LABELS[user.role]
            if column == "bizone":
                if not user.prescribes:
                    return ""
                return _tr("Autorisé") if user.may_prescribe_bizone else _tr("Non")
            return _tr("Actif") if user.active else _tr("Désactivé")
        if role == Qt.ItemDataRole.ForegroundRole and not user.active:
            return QBrush(QColor("#777777"))
        if role == Qt.ItemDataRole.UserRole:
            return user.id
        return None


# Audit action codes, as the services write them, in the words of the centre.
ACTION_LABELS = {
    "centre_created": "Installation du centre",
    "user_created": "Création d'un compte",
    "user_enabled": "Réactivation d'un compte",
    "user_disabled": "Désactivation d'un compte",
    "user_role_changed": "Changement de rôle",
    "password_reset": "Réinitialisation de mot de passe",
    "password_recovered": "Récupération d'accès (code)",
    "login": "Connexion",
    "logout": "Déconnexion",
    "login_failed": "Échec de connexion",
    "login_refused_locked": "Connexion refusée (compte verrouillé)",
    "login_refused_disabled": "Connexion refusée (compte désactivé)",
    "account_locked": "Compte verrouillé",
    "screen_locked": "Écran verrouillé",
    "unlock": "Déverrouillage",
    "unlock_failed": "Échec de déverrouillage",
    "demo_patients_added": "Patients de démonstration ajoutés",
    "appointment_changed": "Modification d'un rendez-vous",
    "agenda_settings_changed": "Modification des horaires du centre",
    "appointment_type_changed": "Modification d'un type de rendez-vous",
    "agenda_closure_added": "Ajout d'une fermeture du centre",
    "agenda_closure_removed": "Suppression d'une fermeture du centre",
    "practitioner_range_added": "Ajout d'une plage de consultation",
    "practitioner_range_removed": "Suppression d'une plage de consultation",
    "practitioner_absence_added": "Ajout d'une absence de praticien",
    "practitioner_absence_removed": "Suppression d'une absence de praticien",
}


TARGET_LABELS = {
    "patient": "Dossier",
    "consultation": "Consultation",
    "user": "Compte",
    "document": "Document",
    "prescription": "Ordonnance",
    "appointment": "Rendez-vous",
    "record_request": "Demande de dossier",
    "practitioner": "Praticien",
    "agenda_settings": "Horaires",
    "agenda_closure": "Fermeture",
}


class AuditModel(QAbstractTableModel):
    COLUMNS = ("at", "login", "action", "target")

    def __init__(self, lines: Sequence[AuditLine] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[AuditLine] = list(lines)

    def set_lines(self, lines: Sequence[AuditLine]) -> None:
        self.beginResetModel()
        self._rows = list(lines)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.COLUMNS):
            return None
        return (_tr("Date"), _tr("Identifiant"), _tr("Action"), _tr("Objet"))[section]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        if not 0 <= index.row() < len(self._rows):
            return None
        line = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if column == "at":
            return paris_text(line.at)
        if column == "login":
            return line.user_login
        if column == "target":
            # Ids only: the trail never holds a patient's name; the director looks the id up.
            # Ids are time-ordered (UUIDv7): their end tells objects made the same day apart.
            if not line.target_type:
                return ""
            kind = TARGET_LABELS.get(line.target_type, line.target_type)
            return f"{_tr(kind)} {line.target_id[-8:]}" if line.target_id else _tr(kind)
        label = ACTION_LABELS.get(line.action)
        return _tr(label) if label else line.action
