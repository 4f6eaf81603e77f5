"""The clinical key handed over in person (#17).

« Recevoir la clé du dossier médical » : on a clinician's screen while their account holds no
key, a holder (the medical director, a clinician) types their own login and password. The
machine cannot tell a colleague's first login from someone who set their password and
logged in as them; the holder standing there can.

« Accès au dossier : N en attente » : what a holder sees while accounts wait for the key.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services import clinical_access
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_access import WaitingAccount
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner

WAITING_INTRO = (
    "Ces comptes attendent la clé du dossier médical. Pour la transmettre, allez au poste de "
    "la personne une fois qu'elle s'est connectée avec un mot de passe qu'elle seule "
    "connaît, cliquez « Recevoir la clé du dossier médical » en haut de sa fenêtre et "
    "saisissez-y votre identifiant et votre mot de passe. Un compte dont le mot de passe a "
    "été choisi par quelqu'un d'autre ne doit pas la recevoir."
)

RECEIVE_INTRO = (
    "Votre compte n'a pas encore la clé du dossier médical : vous ne pouvez ni lire ni écrire "
    "les dossiers. Le médecin directeur ou un soignant qui la détient saisit ici son propre "
    "identifiant et son mot de passe pour vous la transmettre. Elle ne se transmet qu'en "
    "présence de cette personne, à votre poste : personne ne peut la recevoir à votre place."
)


class WaitingAccountsDialog(QDialog):
    sig_changed = Signal(int)  # how many accounts still wait

    def __init__(
        self, workspace: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = workspace, actor, runner
        self.setWindowTitle(self.tr("Accès au dossier médical"))
        intro = QLabel(self.tr(WAITING_INTRO), self)
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Compte"), self.tr("Rôle"), self.tr("Clé créée le"), self.tr("Motif")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName(self.tr("Comptes en attente de la clé"))
        self.message = QLabel("", self)
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addWidget(self.table, 1)
        box.addWidget(self.message)
        box.addWidget(buttons)
        self.resize(780, 400)  # fits 1366x728
        self._runner.run_read(
            lambda: clinical_access.waiting_for_key(self._ws, self._actor),
            self._show,
            self.message.setText,
        )

    def _show(self, waiting: object) -> None:
        rows: list[WaitingAccount] = list(waiting) if isinstance(waiting, list) else []
        self.table.setRowCount(len(rows))
        for row, account in enumerate(rows):
            name = f"{account.full_name} ({account.login})" if account.role else account.full_name
            cells = [
                name,
                account.role,
                account.created_at.astimezone().strftime("%d/%m/%Y %H:%M"),
                account.reason,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        if not rows:
            self.message.setText(self.tr("Aucun compte n'attend la clé du dossier médical."))
        self.sig_changed.emit(len(rows))


class ReceiveKeyDialog(QDialog):
    sig_received = Signal(str)  # the holder's name

    def __init__(
        self, workspace: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = workspace, actor, runner
        self.setWindowTitle(self.tr("Recevoir la clé du dossier médical"))
        intro = QLabel(self.tr(RECEIVE_INTRO), self)
        intro.setWordWrap(True)
        self.holder_login = QLineEdit(self)
        self.holder_login.setAccessibleName(self.tr("Identifiant du détenteur de la clé"))
        self.holder_password = QLineEdit(self)
        self.holder_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.holder_password.setAccessibleName(self.tr("Mot de passe du détenteur de la clé"))
        self.holder_password.returnPressed.connect(self.receive)
        self.holder_login.returnPressed.connect(self.holder_password.setFocus)
        self.holder_login.textChanged.connect(self._update_button)
        self.holder_password.textChanged.connect(self._update_button)
        form = QFormLayout()
        form.addRow(self.tr("Identifiant du détenteur :"), self.holder_login)
        form.addRow(self.tr("Son mot de passe :"), self.holder_password)
        self.receive_button = QPushButton(self.tr("Transmettre la clé à mon compte"), self)
        self.receive_button.setDefault(True)
        self.receive_button.clicked.connect(self.receive)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setObjectName("errorLabel")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        buttons.addButton(self.receive_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addLayout(form)
        box.addWidget(self.message)
        box.addStretch(1)
        box.addWidget(buttons)
        self.resize(560, 300)
        self._update_button()

    def _update_button(self) -> None:
        self.receive_button.setEnabled(
            bool(self.holder_login.text().strip() and self.holder_password.text())
        )

    def receive(self) -> None:
        login, password = self.holder_login.text(), self.holder_password.text()
        if not (login.strip() and password):
            return
        self.receive_button.setEnabled(False)
        self.message.setText(self.tr("Transmission de la clé…"))
        self._runner.run_write(
            lambda: clinical_access.receive_key(self._ws, self._actor, login, password),
            self._received,
            self._failed,
        )

    def _received(self, name: object) -> None:
        self.holder_password.clear()
        self.sig_received.emit(str(name))
        self.accept()

    def _failed(self, message: str) -> None:
        self.holder_password.clear()
        self.holder_password.setFocus()
        self.message.setText(message)
        self._update_button()
