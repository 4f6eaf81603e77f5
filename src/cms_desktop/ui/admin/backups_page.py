"""Administration › « Sauvegardes »: status, backups made, a backup now, a check of a file,
the folders and the schedule, and a restore — into a new folder, or in place of this
station's data (the current folder kept aside; the session is closed and the application
restarts, since its open store is the one being replaced)."""

from __future__ import annotations

import sys
from datetime import time
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QProcess,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.backup_policy import Retention, Schedule
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.services import backup_restore, backups
from cms_desktop.services.actor import Actor
from cms_desktop.services.backup_restore import PreparedRestore, RestoreResult
from cms_desktop.services.backups import BackupEntry, BackupResult, BackupStatus, VerifyReport
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.tasks import TaskRunner, user_message
from cms_desktop.ui.widgets import ErrorLabel, password_edit

_Index = QModelIndex | QPersistentModelIndex


class ProgressRelay(QObject):
    """Carries a background task's progress to the UI thread (queued signal)."""

    sig_progress = Signal(float, str)
    """Fraction done (0..1) and the current phase, in French."""

    def report(self, fraction: float, phase: str) -> None:
        self.sig_progress.emit(fraction, phase)


class BackupsModel(QAbstractTableModel):
    HEADERS = ("Date", "Taille", "Fichier")

    def __init__(self, entries: list[BackupEntry] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._entries = list(entries or [])

    def set_entries(self, entries: list[BackupEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry_at(self, row: int) -> BackupEntry:
        return self._entries[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if column == 0:
            if not entry.readable:
                return "Illisible"
            when = paris_text(entry.created_at) if entry.created_at else ""
            return when if entry.this_centre else f"{when} (autre centre)"
        if column == 1:
            return f"{entry.size / 1e6:.1f} Mo".replace(".", ",")
        return entry.path


class BackupsPage(QWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.relay = ProgressRelay(self)
        self.relay.sig_progress.connect(self._progressed)

        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.test_label = QLabel(self)
        self.test_label.setWordWrap(True)
        self.test_label.setObjectName("hint")
        self.now_button = QPushButton(self.tr("Sauvegarder maintenant"), self)
        self.now_button.clicked.connect(self.backup_now)
        self.verify_button = QPushButton(self.tr("Vérifier la sauvegarde choisie"), self)
        self.verify_button.clicked.connect(self.verify_selected)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.error_label = ErrorLabel(self)
        self.model = BackupsModel(parent=self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(150)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(self._selection_to_restore)

        actions = QHBoxLayout()
        actions.addWidget(self.now_button)
        actions.addWidget(self.verify_button)
        actions.addWidget(self.progress, 1)
        actions.addStretch(0)

        content = QWidget(self)
        box = QVBoxLayout(content)
        box.addWidget(self.status_label)
        box.addWidget(self.test_label)
        box.addLayout(actions)
        box.addWidget(self.result_label)
        box.addWidget(self.error_label)
        box.addWidget(self.table, 1)
        box.addWidget(self._settings_box(content))
        box.addWidget(self._restore_box(content))
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._update_buttons()
        self.reload()

    # --- layout --------------------------------------------------------------------------
    def _settings_box(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Dossiers et horaire de ce poste"), parent)
        self.targets = QListWidget(group)
        self.targets.setMaximumHeight(90)
        self.targets.setMinimumWidth(480)
        self.add_target_button = QPushButton(self.tr("Ajouter un dossier…"), group)
        self.add_target_button.clicked.connect(self.add_target)
        self.remove_target_button = QPushButton(self.tr("Retirer"), group)
        self.remove_target_button.clicked.connect(self.remove_target)
        target_buttons = QVBoxLayout()
        target_buttons.addWidget(self.add_target_button)
        target_buttons.addWidget(self.remove_target_button)
        target_buttons.addStretch(1)
        target_row = QHBoxLayout()
        target_row.addWidget(self.targets, 1)
        target_row.addLayout(target_buttons)
        self.daily_at = QTimeEdit(group)
        self.daily_at.setDisplayFormat("HH:mm")
        self.at_logout = QCheckBox(
            self.tr("Aussi à la déconnexion (au plus une fois par heure)"), group
        )
        self.keep_daily, self.keep_weekly, self.keep_monthly = (
            QSpinBox(group),
            QSpinBox(group),
            QSpinBox(group),
        )
        keep_row = QHBoxLayout()
        for spin, label in (
            (self.keep_daily, self.tr("quotidiennes")),
            (self.keep_weekly, self.tr("hebdomadaires")),
            (self.keep_monthly, self.tr("mensuelles")),
        ):
            spin.setRange(0, 120)
            keep_row.addWidget(spin)
            keep_row.addWidget(QLabel(label, group))
        keep_row.addStretch(1)
        self.save_button = QPushButton(self.tr("Enregistrer les réglages"), group)
        self.save_button.clicked.connect(self.save_settings)
        self.settings_error = ErrorLabel(group)
        form = QFormLayout(group)
        form.addRow(self.tr("Dossiers (clé USB, partage réseau…) :"), target_row)
        self.daily_at.setMaximumWidth(90)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.tr("Sauvegarde quotidienne à :"), self.daily_at)
        form.addRow("", self.at_logout)
        form.addRow(self.tr("Conserver :"), keep_row)
        form.addRow("", self.settings_error)
        form.addRow("", self.save_button)
        return group

    def _restore_box(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Restaurer une sauvegarde"), parent)
        self.restore_file = QLineEdit(group)
        self.restore_file.setPlaceholderText(
            self.tr("choisie dans la liste ci-dessus, ou un fichier .cmsbak")
        )
        self.restore_file.setMinimumWidth(320)
        choose_file = QPushButton(self.tr("Fichier…"), group)
        choose_file.clicked.connect(self._choose_restore_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.restore_file, 1)
        file_row.addWidget(choose_file)
        self.restore_new = QRadioButton(self.tr("Dans un nouveau dossier vide :"), group)
        self.restore_in_place = QRadioButton(
            self.tr(
                "À la place des données de ce poste (elles sont conservées à côté, "
                "renommées avec la date ; la session se ferme et l'application redémarre)"
            ),
            group,
        )
        self.restore_new.setChecked(True)
        self.restore_folder = QLineEdit(group)
        choose_folder = QPushButton(self.tr("Dossier…"), group)
        choose_folder.clicked.connect(self._choose_restore_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.restore_new)
        folder_row.addWidget(self.restore_folder, 1)
        folder_row.addWidget(choose_folder)
        self.restore_new.toggled.connect(self.restore_folder.setEnabled)
        self.restore_new.toggled.connect(choose_folder.setEnabled)
        self.restore_recovery = QCheckBox(
            self.tr("Avec le code de récupération (au lieu d'un compte administrateur)"), group
        )
        self.restore_login = QLineEdit(self._actor.login, group)
        self.restore_login.setMaximumWidth(220)
        self.restore_secret = password_edit(group)
        self.restore_secret.setMaximumWidth(320)
        self.restore_recovery.toggled.connect(self._recovery_toggled)
        self.restore_button = QPushButton(self.tr("Restaurer…"), group)
        self.restore_button.clicked.connect(self.restore)
        self.restore_error = ErrorLabel(group)
        self.restore_result = QLabel(group)
        self.restore_result.setWordWrap(True)
        # Its own bar: the one at the top of the page is out of sight down here.
        self.restore_progress = QProgressBar(group)
        self.restore_progress.setRange(0, 100)
        self.restore_progress.hide()
        hint = QLabel(
            self.tr(
                "Il faut l'identifiant et le mot de passe d'un administrateur <i>de cette "
                "sauvegarde</i> (ou le code de récupération du centre). Le poste restauré "
                "prend une nouvelle identité de synchronisation ; les autres postes lui "
                "renvoient ce qui a été saisi depuis la sauvegarde."
            ),
            group,
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        form = QFormLayout(group)
        form.addRow(hint)
        form.addRow(self.tr("Sauvegarde :"), file_row)
        form.addRow(folder_row)
        form.addRow(self.restore_in_place)
        self.restore_login_label = QLabel(self.tr("Administrateur :"), group)
        self.restore_secret_label = QLabel(self.tr("Son mot de passe :"), group)
        form.addRow("", self.restore_recovery)
        form.addRow(self.restore_login_label, self.restore_login)
        form.addRow(self.restore_secret_label, self.restore_secret)
        form.addRow("", self.restore_error)
        form.addRow("", self.restore_result)
        button_row = QHBoxLayout()
        button_row.addWidget(self.restore_button)
        button_row.addWidget(self.restore_progress, 1)
        button_row.addStretch(1)
        form.addRow("", button_row)
        return group

    def _recovery_toggled(self, on: bool) -> None:
        self.restore_login.setEnabled(not on)
        self.restore_secret_label.setText(
            self.tr("Code de récupération :") if on else self.tr("Son mot de passe :")
        )

    def _choose_restore_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, self.tr("Sauvegarde à restaurer"), "", self.tr("Sauvegardes (*.cmsbak)")
        )
        if name:
            self.restore_file.setText(name)

    def _choose_restore_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Dossier où restaurer"))
        if folder:
            self.restore_folder.setText(folder)

    # --- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        ws, actor = self._ws, self._actor

        def load() -> tuple[BackupStatus, Schedule, list[BackupEntry]]:
            return (
                backups.last_good_backup(ws),
                backups.load_schedule(ws),
                backups.list_backups(ws, actor),
            )

        self._runner.run_read(load, self._loaded, self.error_label.show_message)

    def _loaded(self, loaded: tuple[BackupStatus, Schedule, list[BackupEntry]]) -> None:
        status, schedule, entries = loaded
        self.show_status(status)
        self.model.set_entries(entries)
        self.targets.clear()
        self.targets.addItems(list(schedule.targets))
        self.daily_at.setTime(QTime(schedule.daily_at.hour, schedule.daily_at.minute))
        self.at_logout.setChecked(schedule.at_last_logout)
        self.keep_daily.setValue(schedule.retention.daily)
        self.keep_weekly.setValue(schedule.retention.weekly)
        self.keep_monthly.setValue(schedule.retention.monthly)
        self._update_buttons()

    def show_status(self, status: BackupStatus) -> None:
        self.status_label.setText(status.line)
        self.status_label.setStyleSheet(
            "color: #b00020; font-weight: 600;" if status.attention else "color: #1b6e2a;"
        )
        if status.last_test_at is None:
            self.test_label.setText(
                self.tr("Aucune restauration d'essai pour l'instant (mensuelle).")
            )
        else:
            self.test_label.setText(
                f"{paris_text(status.last_test_at)} : {status.last_test_message}"
            )

    def selected(self) -> BackupEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.entry_at(rows[0].row()) if rows else None

    def _update_buttons(self, *_args: object) -> None:
        busy = self.progress.isVisible()
        self.now_button.setEnabled(not busy)
        self.verify_button.setEnabled(not busy and self.selected() is not None)
        if hasattr(self, "restore_button"):
            self.restore_button.setEnabled(not busy)

    def _selection_to_restore(self, *_args: object) -> None:
        entry = self.selected()
        if entry is not None:
            self.restore_file.setText(entry.path)

    # --- actions -------------------------------------------------------------------------
    def _start(self, text: str) -> None:
        self.error_label.clear_message()
        self.result_label.setText(text)
        self.progress.setValue(0)
        self.progress.show()
        self._update_buttons()

    def _finish(self) -> None:
        self.progress.hide()
        self.restore_progress.hide()
        self._update_buttons()

    def _progressed(self, fraction: float, phase: str) -> None:
        for bar in (self.progress, self.restore_progress):
            bar.setValue(int(fraction * 100))
            bar.setFormat(f"{phase} %p %")

    def backup_now(self) -> None:
        ws, actor, report = self._ws, self._actor, self.relay.report
        self._start(self.tr("Sauvegarde en cours… (vous pouvez continuer à travailler)"))
        # On the read pool: the copy must not hold up the single writer thread for minutes.
        self._runner.run_read(
            lambda: backups.create_backup(ws, actor, progress=report),
            self._backed_up,
            self._failed,
        )

    def _backed_up(self, result: BackupResult) -> None:
        self._finish()
        lines = [
            self.tr("Sauvegarde écrite et vérifiée : %1").replace("%1", f) for f in result.written
        ]
        lines += [f"{r.folder} : {r.error}" for r in result.results if r.error]
        self.result_label.setText("\n".join(lines))
        self.reload()

    def _failed(self, message: str) -> None:
        self._finish()
        self.result_label.setText("")
        self.error_label.show_message(message)
        self.reload()

    def verify_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        ws, actor, report = self._ws, self._actor, self.relay.report
        self._start(self.tr("Vérification en cours…"))
        self._runner.run_read(
            lambda: backups.verify_backup_file(ws, actor, Path(entry.path), report),
            self._verified,
            self._failed,
        )

    def _verified(self, report: VerifyReport) -> None:
        self._finish()
        self.result_label.setText(report.message)

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, self.tr("Dossier de sauvegarde"))

    def add_target(self) -> None:
        folder = self._ask_folder()
        if folder and not self.targets.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.targets.addItem(folder)

    def remove_target(self) -> None:
        for item in self.targets.selectedItems():
            self.targets.takeItem(self.targets.row(item))

    def save_settings(self) -> None:
        self.settings_error.clear_message()
        try:
            retention = Retention(
                self.keep_daily.value(), self.keep_weekly.value(), self.keep_monthly.value()
            )
        except ValueError:
            self.settings_error.show_message(self.tr("Conservez au moins une sauvegarde."))
            return
        at = self.daily_at.time()
        schedule = Schedule(
            targets=tuple(self.targets.item(i).text() for i in range(self.targets.count())),
            daily_at=time(at.hour(), at.minute()),
            at_last_logout=self.at_logout.isChecked(),
            retention=retention,
        )
        ws, actor = self._ws, self._actor
        self._runner.run_write(
            lambda: backups.save_schedule(ws, actor, schedule),
            lambda _s: self._saved(),
            self.settings_error.show_message,
        )

    def _saved(self) -> None:
        self.result_label.setText(self.tr("Réglages des sauvegardes enregistrés."))
        self.reload()

    # --- restore -------------------------------------------------------------------------
    def restore(self) -> None:
        """Check the input here, then unpack and check the backup in a worker thread; only
        then (in place) close the session and put the copy in place."""
        self.restore_error.clear_message()
        self.restore_result.clear()
        file = self.restore_file.text().strip()
        recovery = self.restore_recovery.isChecked()
        login = "" if recovery else self.restore_login.text().strip()
        secret = self.restore_secret.text()
        in_place = self.restore_in_place.isChecked()
        folder = self.restore_folder.text().strip()
        problem = ""
        if not file:
            problem = self.tr("Choisissez la sauvegarde à restaurer.")
        elif not Path(file).is_file():
            problem = self.tr("Le fichier %1 est introuvable.").replace("%1", file)
        elif not in_place and not folder:
            problem = self.tr("Choisissez le dossier où restaurer, ou la restauration en place.")
        elif not recovery and not login:
            problem = self.tr("Indiquez l'identifiant d'un administrateur de la sauvegarde.")
        elif not secret:
            problem = (
                self.tr("Saisissez le code de récupération.")
                if recovery
                else self.tr("Saisissez le mot de passe.")
            )
        if problem:
            self.restore_error.show_message(problem)
            return
        if in_place and not widgets.ask(
            self,
            self.tr("Restaurer à la place des données de ce poste"),
            self.tr(
                "Les données actuelles de ce poste seront remplacées par la sauvegarde "
                "(elles sont conservées à côté, renommées avec la date). La sauvegarde est "
                "d'abord vérifiée ; ensuite la session se ferme et l'application redémarre. "
                "Continuer ?"
            ),
        ):
            return
        ws, actor, report = self._ws, self._actor, self.relay.report
        target = None if in_place else Path(folder)
        self._start(self.tr("Vérification de la sauvegarde avant restauration…"))
        self.restore_progress.setValue(0)
        self.restore_progress.show()
        self._runner.run_read(
            lambda: backup_restore.prepare_restore_from_session(
                ws, actor, Path(file), target, login, secret, recovery=recovery, progress=report
            ),
            self._restore_prepared,
            self._restore_failed,
        )

    def _restore_failed(self, message: str) -> None:
        self._finish()
        self.result_label.setText("")
        self.restore_error.show_message(message)

    def _restore_prepared(self, prepared: PreparedRestore) -> None:
        self._finish()
        self.restore_secret.clear()
        if not prepared.in_place:
            self._put_in_place(prepared, restart=False)
            return
        # The store of this session is the one being replaced: close it (logout written,
        # sync and automatic backups stopped) before the renames.
        if not self.close_session():
            backup_restore.abandon_restore(prepared)
            self.restore_result.setText(
                self.tr("Restauration annulée : la session est restée ouverte.")
            )
            return
        self._put_in_place(prepared, restart=True)

    def _put_in_place(self, prepared: PreparedRestore, restart: bool) -> None:
        try:
            result = backup_restore.finish_restore(prepared)
        except Exception as exc:  # in place, the session is already closed: say it and restart
            message = user_message(exc)
            if not restart:
                self.restore_error.show_message(message)
                return
            self.restarting_message = (
                message + "\n\n" + self.tr("L'application va redémarrer sur les données actuelles.")
            )
        else:
            self.restarting_message = self._restored_text(result)
            if not restart:
                self.result_label.setText(self.restarting_message)
                self.restore_result.setText(self.restarting_message)
                return
            self.restarting_message += "\n\n" + self.tr(
                "L'application va redémarrer : reconnectez-vous avec un compte de la sauvegarde."
            )
        widgets.inform(None, self.tr("Restauration"), self.restarting_message)
        self.restart_application()

    def _restored_text(self, result: RestoreResult) -> str:
        text = (
            self.tr("Sauvegarde du %1 restaurée dans %2.")
            .replace("%1", paris_text(result.backup_created_at))
            .replace("%2", result.data_dir)
        )
        if result.set_aside:
            text += " " + self.tr("Les données précédentes sont conservées dans %1.").replace(
                "%1", result.set_aside
            )
        return text

    def close_session(self) -> bool:
        """Close the main window's session (False when the user keeps it open)."""
        window = self.window()
        if window is self or not hasattr(window, "logout"):
            return False
        return bool(window.close())

    def restart_application(self) -> None:
        """Start the application again (same command) and quit this one."""
        if getattr(sys, "frozen", False):  # the installed bundle: the executable itself
            QProcess.startDetached(sys.executable, sys.argv[1:])
        else:
            QProcess.startDetached(sys.executable, sys.argv)
        QApplication.quit()
