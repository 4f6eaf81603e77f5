"""Administration › « Sauvegardes »: status, backups made, a backup now, a check of a file,
the folders and the schedule, and how to restore (restoring replaces the data directory,
so it is done with the application closed, from the command line)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.backup_policy import Retention, Schedule
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.services import backups
from cms_desktop.services.actor import Actor
from cms_desktop.services.backups import BackupEntry, BackupResult, BackupStatus, VerifyReport
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel

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
        text = QLabel(
            self.tr(
                "La restauration remplace les données de ce poste : fermez l'application, puis "
                "lancez, en administrateur de la sauvegarde (ou avec le code de récupération) :"
                "<br><tt>cms-desktop backup restore FICHIER --in-place --as IDENTIFIANT</tt>"
                "<br>Les données actuelles sont conservées à côté, renommées avec la date. "
                "Pour un nouveau poste : <tt>--target DOSSIER</tt> au lieu de "
                "<tt>--in-place</tt>. Le poste restauré prend une nouvelle identité de "
                "synchronisation ; les autres postes lui renvoient ce qui a été saisi depuis."
            ),
            group,
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(group).addWidget(text)
        return group

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

    # --- actions -------------------------------------------------------------------------
    def _start(self, text: str) -> None:
        self.error_label.clear_message()
        self.result_label.setText(text)
        self.progress.setValue(0)
        self.progress.show()
        self._update_buttons()

    def _finish(self) -> None:
        self.progress.hide()
        self._update_buttons()

    def _progressed(self, fraction: float, phase: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.progress.setFormat(f"{phase} %p %")

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
