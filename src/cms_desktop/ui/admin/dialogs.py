"""Account dialogs: new account, password reset, role change, bizone (ALD) right. Errors
stay in the dialog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from cms_desktop.domain.permissions import ROLE_LABELS, Role
from cms_desktop.services import users
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.forms import ServiceDialog, require_same
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import password_edit


def role_combo(parent: QWidget, current: Role | None = None) -> QComboBox:
    combo = QComboBox(parent)
    for role, label in ROLE_LABELS.items():
        combo.addItem(label, role.value)
    if current is not None:
        combo.setCurrentIndex(combo.findData(current.value))
    return combo


class NewUserDialog(ServiceDialog):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Nouveau compte"), self.tr("Créer le compte"), runner, parent)
        self._ws = ws
        self._actor = actor
        self.login_edit = QLineEdit(self)
        self.login_edit.setPlaceholderText(self.tr("ex. c.martin"))
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText(self.tr("Prénom Nom"))
        self.role_combo = role_combo(self, Role.RECEPTION)
        self.title_edit = QLineEdit(self)
        self.title_edit.setMaxLength(20)
        self.title_edit.setPlaceholderText(self.tr("ex. Dr (imprimé devant le nom)"))
        self.profession_edit = QLineEdit(self)
        self.profession_edit.setPlaceholderText(self.tr("ex. Médecin, Infirmière"))
        self.specialty_edit = QLineEdit(self)
        self.rpps_edit = QLineEdit(self)
        self.rpps_edit.setPlaceholderText(
            self.tr("11 chiffres, clé comprise : obligatoire pour prescrire")
        )
        self.rpps_edit.setMaxLength(11)
        self.bizone_check = QCheckBox(
            self.tr("Peut prescrire sur une ordonnance bizone (ALD)"), self
        )
        self.bizone_check.setToolTip(
            self.tr("Pour les comptes qui rédigent des ordonnances (médecin, dentiste, direction)")
        )
        self.role_combo.currentIndexChanged.connect(self._role_changed)
        self.password_edit = password_edit(self)
        self.confirm_edit = password_edit(self)
        rules = QLabel(
            self.tr(
                "Au moins 10 caractères mélangeant trois types parmi : "
                "minuscules, majuscules, chiffres, caractères spéciaux."
            ),
            self,
        )
        rules.setObjectName("hint")
        rules.setWordWrap(True)
        self.form.addRow(self.tr("&Identifiant"), self.login_edit)
        self.form.addRow(self.tr("&Nom complet"), self.name_edit)
        self.form.addRow(self.tr("&Rôle"), self.role_combo)
        self.form.addRow(self.tr("&Titre"), self.title_edit)
        self.form.addRow(self.tr("&Profession"), self.profession_edit)
        self.form.addRow(self.tr("&Spécialité"), self.specialty_edit)
        self.form.addRow(self.tr("N° RPP&S"), self.rpps_edit)
        self.form.addRow(self.tr("&Bizone"), self.bizone_check)
        self.form.addRow(self.tr("&Mot de passe"), self.password_edit)
        self.form.addRow(self.tr("C&onfirmation"), self.confirm_edit)
        self.form.addRow(rules)
        self._role_changed()
        self.login_edit.setFocus()

    def _role_changed(self, *_args: object) -> None:
        """The question only applies to a role that prescribes; a doctor usually has it."""
        role = Role(self.role_combo.currentData())
        prescribes = users.prescribes(role)
        self.bizone_check.setEnabled(prescribes)
        self.bizone_check.setChecked(prescribes and role is not Role.DENTIST)

    def prepare(self) -> Callable[[], Any]:
        require_same(self.password_edit.text(), self.confirm_edit.text())
        new = users.NewUser(
            login=self.login_edit.text().strip(),
            full_name=self.name_edit.text().strip(),
            role=Role(self.role_combo.currentData()),
            password=self.password_edit.text(),
            profession=self.profession_edit.text().strip(),
            specialty=self.specialty_edit.text().strip(),
            rpps=self.rpps_edit.text().strip(),
            title=self.title_edit.text().strip(),
            may_prescribe_bizone=self.bizone_check.isEnabled() and self.bizone_check.isChecked(),
        )
        ws, actor = self._ws, self._actor
        return lambda: users.create_user(ws, actor, new)


class ResetPasswordDialog(ServiceDialog):
    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        target: users.UserInfo,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            self.tr("Réinitialiser le mot de passe"),
            self.tr("Enregistrer le mot de passe"),
            runner,
            parent,
        )
        self._ws, self._actor, self._target = ws, actor, target
        who = QLabel(
            self.tr("Nouveau mot de passe pour %1 (%2). Communiquez-le à la personne de vive voix.")
            .replace("%1", target.full_name)
            .replace("%2", target.login),
            self,
        )
        who.setWordWrap(True)
        self.password_edit = password_edit(self)
        self.confirm_edit = password_edit(self)
        self.form.addRow(who)
        self.form.addRow(self.tr("&Nouveau mot de passe"), self.password_edit)
        self.form.addRow(self.tr("C&onfirmation"), self.confirm_edit)
        self.password_edit.setFocus()

    def prepare(self) -> Callable[[], Any]:
        password = self.password_edit.text()
        require_same(password, self.confirm_edit.text())
        ws, actor, target_id = self._ws, self._actor, self._target.id
        return lambda: users.reset_password(ws, actor, target_id, password)


class ChangeRoleDialog(ServiceDialog):
    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        target: users.UserInfo,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Changer le rôle"), self.tr("Changer le rôle"), runner, parent)
        self._ws, self._actor, self._target = ws, actor, target
        who = QLabel(
            self.tr("Rôle de %1 (%2) :")
            .replace("%1", target.full_name)
            .replace("%2", target.login),
            self,
        )
        self.role_combo = role_combo(self, target.role)
        self.form.addRow(who)
        self.form.addRow(self.tr("&Rôle"), self.role_combo)
        self.role_combo.setFocus()

    def prepare(self) -> Callable[[], Any]:
        role = Role(self.role_combo.currentData())
        ws, actor, target_id = self._ws, self._actor, self._target.id
        return lambda: users.change_role(ws, actor, target_id, role)


class BizoneRightDialog(ServiceDialog):
    """Whether a prescriber may prescribe on the bizone (ALD) form."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        target: users.UserInfo,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Ordonnance bizone (ALD)"), self.tr("Enregistrer"), runner, parent)
        self._ws, self._actor, self._target = ws, actor, target
        who = QLabel(
            self.tr("Droit de prescription de %1 (%2) :")
            .replace("%1", target.full_name)
            .replace("%2", target.login),
            self,
        )
        who.setWordWrap(True)
        self.bizone_check = QCheckBox(
            self.tr("Peut prescrire sur une ordonnance bizone (ALD)"), self
        )
        self.bizone_check.setChecked(target.may_prescribe_bizone)
        self.form.addRow(who)
        self.form.addRow(self.bizone_check)
        self.bizone_check.setFocus()

    def prepare(self) -> Callable[[], Any]:
        allowed = self.bizone_check.isChecked()
        ws, actor, target_id = self._ws, self._actor, self._target.id
        return lambda: users.set_bizone_right(ws, actor, target_id, allowed)
