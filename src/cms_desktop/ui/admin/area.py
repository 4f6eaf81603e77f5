"""The Administration area: accounts tab (USERS_MANAGE), the centre's agenda settings
(SETTINGS_MANAGE) and the audit trail tab (AUDIT_READ).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.permissions import Permission
from cms_desktop.services import audit_trail, users
from cms_desktop.services.actor import Actor
from cms_desktop.services.audit_trail import AuditReport
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.admin.archives_page import ArchivesPage
from cms_desktop.ui.admin.backups_page import BackupsPage
from cms_desktop.ui.admin.centre_page import CentreDetailsPage
from cms_desktop.ui.admin.checklist_page import ChecklistPage
from cms_desktop.ui.admin.dialogs import (
    BizoneRightDialog,
    ChangeRoleDialog,
    NewUserDialog,
    ResetPasswordDialog,
)
from cms_desktop.ui.admin.models import UsersModel
from cms_desktop.ui.admin.practitioners_page import PractitionersPage
from cms_desktop.ui.admin.rooms_page import RoomsPage
from cms_desktop.ui.agenda.centre_settings import CentreSettingsPage
from cms_desktop.ui.agenda.types_page import AppointmentTypesPage
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, shortcut


def _table(parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setTabKeyNavigation(False)
    return table


class UsersPage(QWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.model = UsersModel(parent=self)
        self.table = _table(self)
        self.table.setModel(self.model)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.change_role())

        self.new_button = QPushButton(self.tr("Nouveau compte…"), self)
        self.toggle_button = QPushButton(self.tr("Désactiver…"), self)
        self.password_button = QPushButton(self.tr("Réinitialiser le mot de passe…"), self)
        self.role_button = QPushButton(self.tr("Changer le rôle…"), self)
        self.bizone_button = QPushButton(self.tr("Bizone (ALD)…"), self)
        for button, keys, slot in (
            (self.new_button, "Ctrl+N", self.new_user),
            (self.toggle_button, "Ctrl+D", self.toggle_active),
            (self.password_button, "Ctrl+P", self.reset_password),
            (self.role_button, "Ctrl+R", self.change_role),
            (self.bizone_button, "Ctrl+B", self.change_bizone_right),
        ):
            button.clicked.connect(slot)
            button.setToolTip(keys)
            shortcut(self, keys, slot)
        self.error_label = ErrorLabel(self)

        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.toggle_button)
        buttons.addWidget(self.password_button)
        buttons.addWidget(self.role_button)
        buttons.addWidget(self.bizone_button)
        buttons.addStretch(1)
        hint = QLabel(
            self.tr(
                "Raccourcis : Ctrl+N nouveau compte, Ctrl+D désactiver ou "
                "réactiver, Ctrl+P mot de passe, Ctrl+R rôle, Ctrl+B ordonnance bizone (ALD)."
            ),
            self,
        )
        hint.setObjectName("hint")
        box = QVBoxLayout(self)
        box.addLayout(buttons)
        box.addWidget(self.error_label)
        box.addWidget(self.table, 1)
        box.addWidget(hint)
        self._update_buttons()
        self.reload()

    def reload(self) -> None:
        self._runner.run_read(
            lambda: users.list_users(self._ws, self._actor),
            self._loaded,
            self.error_label.show_message,
        )

    def _loaded(self, infos: list[users.UserInfo]) -> None:
        self.model.set_users(infos)
        self._update_buttons()

    def selected(self) -> users.UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.user_at(rows[0].row()) if rows else None

    def select_login(self, login: str) -> None:
        row = self.model.row_of(login)
        if row >= 0:
            self.table.selectRow(row)

    def _update_buttons(self, *_args: object) -> None:
        user = self.selected()
        for button in (self.toggle_button, self.password_button, self.role_button):
            button.setEnabled(user is not None)
        self.bizone_button.setEnabled(user is not None and user.prescribes)
        self.toggle_button.setText(
            self.tr("Réactiver…")
            if user is not None and not user.active
            else self.tr("Désactiver…")
        )

    def _open(self, dialog: ServiceDialog) -> None:
        dialog.sig_done.connect(self._changed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()  # window-modal: it can be hidden and shown again by the screen lock

    def _changed(self, value: object) -> None:
        self.error_label.clear_message()
        if isinstance(value, users.UserInfo):
            row = self.model.upsert(value)
            self.table.selectRow(row)
            self._update_buttons()

    def new_user(self) -> None:
        self._open(NewUserDialog(self._ws, self._actor, self._runner, self))

    def reset_password(self) -> None:
        user = self.selected()
        if user is not None:
            self._open(ResetPasswordDialog(self._ws, self._actor, user, self._runner, self))

    def change_role(self) -> None:
        user = self.selected()
        if user is not None:
            self._open(ChangeRoleDialog(self._ws, self._actor, user, self._runner, self))

    def change_bizone_right(self) -> None:
        user = self.selected()
        if user is not None and user.prescribes:
            self._open(BizoneRightDialog(self._ws, self._actor, user, self._runner, self))

    def toggle_active(self) -> None:
        user = self.selected()
        if user is None:
            return
        if user.active:
            question = self.tr(
                "Désactiver le compte de %1 (%2) ? Cette personne ne pourra plus "
                "se connecter, sur aucun poste : son mot de passe n'ouvrira plus les "
                "données. Son historique est conservé. La base de données reçoit une "
                "nouvelle clé, que chaque poste applique à sa prochaine ouverture."
            )
        else:
            question = self.tr(
                "Réactiver le compte de %1 (%2) ? Donnez-lui ensuite un nouveau mot de "
                "passe (« Réinitialiser le mot de passe… ») : l'ancien ne fonctionne plus."
            )
        question = question.replace("%1", user.full_name).replace("%2", user.login)
        title = self.tr("Désactiver le compte") if user.active else self.tr("Réactiver le compte")
        if not widgets.ask(self, title, question):
            return
        ws, actor, target, active = self._ws, self._actor, user.id, not user.active
        self._runner.run_write(
            lambda: users.set_active(ws, actor, target, active),
            self._changed,
            self.error_label.show_message,
        )


class AuditPage(QWidget):
    """The journal (in French, searchable, paged: ``ui.journal``) and the integrity check."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        from cms_desktop.ui.areas import AreaContext
        from cms_desktop.ui.journal import JournalWidget

        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.journal = JournalWidget(AreaContext(ws, actor, runner), parent=self)
        self.model = self.journal.model
        self.table = self.journal.table
        self.refresh_button = QPushButton(self.tr("Actualiser"), self)
        self.refresh_button.setToolTip("F5")
        self.refresh_button.clicked.connect(self.reload)
        shortcut(self, "F5", self.reload)
        self.verify_button = QPushButton(self.tr("Vérifier l'intégrité"), self)
        self.verify_button.clicked.connect(self.verify)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        self.error_label = ErrorLabel(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.verify_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.addLayout(buttons)
        box.addWidget(self.result_label)
        box.addWidget(self.error_label)
        box.addWidget(self.journal, 1)

    def reload(self) -> None:
        self.journal.reload()

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.result_label.setText(self.tr("Vérification en cours…"))
        self.result_label.show()
        self._runner.run_read(
            lambda: audit_trail.verify(self._ws), self._verified, self._verify_failed
        )

    def _verified(self, report: AuditReport) -> None:
        self.verify_button.setEnabled(True)
        self.result_label.setStyleSheet("color: #1b6e2a;" if report.ok else "color: #b00020;")
        self.result_label.setText(report.message)

    def _verify_failed(self, message: str) -> None:
        self.verify_button.setEnabled(True)
        self.result_label.setText("")
        self.error_label.show_message(message)


class AdminArea(QTabWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.users_page: UsersPage | None = None
        self.audit_page: AuditPage | None = None
        self.agenda_page: CentreSettingsPage | None = None
        if actor.can(Permission.USERS_MANAGE):
            self.users_page = UsersPage(ws, actor, runner, self)
            self.addTab(self.users_page, self.tr("Comptes"))
        self.types_page: AppointmentTypesPage | None = None
        self.rooms_page: RoomsPage | None = None
        self.centre_page: CentreDetailsPage | None = None
        self.practitioners_page: PractitionersPage | None = None
        self.checklist_page: ChecklistPage | None = None
        if actor.can(Permission.SETTINGS_MANAGE):
            self.checklist_page = ChecklistPage(ws, actor, runner, self)
            self.checklist_page.sig_open.connect(self.open_target)
            self.checklist_page.sig_loaded.connect(self._checklist_loaded)
            self.centre_page = CentreDetailsPage(ws, actor, runner, self)
            self.addTab(self.centre_page, self.tr("Centre"))
            self.rooms_page = RoomsPage(ws, actor, runner, self)
            self.addTab(self.rooms_page, self.tr("Salles"))
            self.practitioners_page = PractitionersPage(ws, actor, runner, self)
            self.addTab(self.practitioners_page, self.tr("Praticiens"))
            self.rooms_page.sig_changed.connect(self.checklist_page.reload)
            self.currentChanged.connect(self._tab_changed)
            if self.checklist_page.items:  # already read (a synchronous runner)
                self._checklist_loaded(len(self.checklist_page.pending()))
            self.agenda_page = CentreSettingsPage(ws, actor, runner, self)
            self.addTab(self.agenda_page, self.tr("Agenda du centre"))
            self.types_page = AppointmentTypesPage(ws, actor, runner, self)
            self.addTab(self.types_page, self.tr("Types de rendez-vous"))
        if actor.can(Permission.AUDIT_READ):
            self.audit_page = AuditPage(ws, actor, runner, self)
            self.addTab(self.audit_page, self.tr("Journal d'audit"))
        self.backups_page: BackupsPage | None = None
        if actor.can(Permission.BACKUP_MANAGE):
            self.backups_page = BackupsPage(ws, actor, runner, self)
            self.addTab(self.backups_page, self.tr("Sauvegardes"))
        self.archives_page: ArchivesPage | None = None
        if actor.can(Permission.EXPORT_RECORD):
            self.archives_page = ArchivesPage(ws, actor, runner, self)
            self.addTab(self.archives_page, self.tr("Archives"))

    def _checklist_loaded(self, pending: int) -> None:
        """The set-up checklist is the administrator's first tab while a step is missing."""
        page = self.checklist_page
        if page is None:
            return
        index = self.indexOf(page)
        if pending and index < 0:
            self.insertTab(0, page, self.tr("Mise en route"))
            self.setCurrentIndex(0)
        elif not pending and index >= 0:
            self.removeTab(index)

    def _tab_changed(self, _index: int) -> None:
        # Coming back from a screen where a step was done: the checklist reads again.
        if self.checklist_page is not None and self.currentWidget() is self.checklist_page:
            self.checklist_page.reload()
        if self.practitioners_page is not None and self.currentWidget() is self.practitioners_page:
            self.practitioners_page.reload()

    def open_target(self, target: str) -> None:
        """Follow a checklist link to the screen that does the step."""
        pages: dict[str, QWidget | None] = {
            "rooms": self.rooms_page,
            "practitioners": self.practitioners_page,
            "users": self.users_page,
            "backups": self.backups_page,
        }
        page = pages.get(target)
        if page is not None:
            self.setCurrentWidget(page)
        elif target == "printer" and self.checklist_page is not None:
            self.checklist_page.print_test_page()
        elif target == "sync":
            window = self.window()
            show_area = getattr(window, "show_area", None)
            if callable(show_area):
                show_area("sync")

    def has_unsaved_changes(self) -> bool:
        """Asked by the main window before a logout or a change of user."""
        return self.types_page is not None and self.types_page.has_unsaved_changes()
