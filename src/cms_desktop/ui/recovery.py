"""Recovering access with the printed recovery code: a new password for one account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from cms_desktop.ui.forms import ServiceDialog, require_same
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import password_edit


class RecoveryDialog(ServiceDialog):
    """The medical director types the code from the safe; the chosen account gets a new password."""

    def __init__(
        self,
        recover: Callable[[str, str, str], None],
        runner: TaskRunner,
        login_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            self.tr("Code de récupération"), self.tr("Changer le mot de passe"), runner, parent
        )
        self._recover = recover
        intro = QLabel(
            self.tr(
                "Le code de récupération a été imprimé lors de l'installation et remis au "
                "directeur médical. Il permet de choisir un nouveau mot de passe pour un compte."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.code_edit = QLineEdit(self)
        self.code_edit.setPlaceholderText(self.tr("tel qu'imprimé, tirets facultatifs"))
        self.login_edit = QLineEdit(login_name, self)
        self.password_edit = password_edit(self)
        self.confirm_edit = password_edit(self)
        self.form.addRow(intro)
        self.form.addRow(self.tr("&Code de récupération"), self.code_edit)
        self.form.addRow(self.tr("&Identifiant du compte"), self.login_edit)
        self.form.addRow(self.tr("&Nouveau mot de passe"), self.password_edit)
        self.form.addRow(self.tr("C&onfirmation"), self.confirm_edit)
        self.code_edit.setFocus()

    def prepare(self) -> Callable[[], Any]:
        code = self.code_edit.text().strip()
        login_name = self.login_edit.text().strip()
        password = self.password_edit.text()
        require_same(password, self.confirm_edit.text())
        self.recovered_login = login_name
        return lambda: self._recover(code, login_name, password)
