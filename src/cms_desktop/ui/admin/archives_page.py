"""Administration › « Archives » (medical director): the archive of records kept for the
20-year retention — the whole centre, or chosen patients (those inactive for some years,
or one patient found by name) — in the encrypted self-describing format that
``cms-desktop archive read`` reads. The archive holds clinical content readable with its
passphrase alone: hence the director, and a long passphrase typed twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services import archives
from cms_desktop.services.actor import Actor
from cms_desktop.services.archives import ArchiveResult, InactivePatient
from cms_desktop.services.printing_common import search_patients
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, offer_patients, password_edit


class ArchivesPage(QWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        intro = QLabel(
            self.tr(
                "Une archive garde les dossiers pour la durée de conservation (20 ans). "
                "Elle est chiffrée par une phrase de passe d'au moins 16 caractères, à garder "
                "à part : elle seule permet de la relire (« cms-desktop archive read », ou "
                "l'outil sqlcipher). Les dossiers archivés restent dans le logiciel."
            ),
            self,
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")

        # Which records.
        which = QGroupBox(self.tr("Dossiers à archiver"), self)
        self.years = QSpinBox(which)
        self.years.setRange(1, 50)
        self.years.setValue(10)
        self.years.setSuffix(self.tr(" ans"))
        self.find_inactive_button = QPushButton(self.tr("Chercher les dossiers inactifs"), which)
        self.find_inactive_button.clicked.connect(self.find_inactive)
        self.patient_edit = QLineEdit(which)
        self.patient_edit.setPlaceholderText(self.tr("ou un patient : nom puis Entrée"))
        self.patient_edit.returnPressed.connect(self.find_patient)
        self.patients = QListWidget(which)
        self.patients.setMinimumHeight(140)
        self.patients.itemChanged.connect(lambda _item: self._update())
        self.count_label = QLabel(which)
        inactive_row = QHBoxLayout()
        inactive_row.addWidget(QLabel(self.tr("Sans activité depuis"), which))
        inactive_row.addWidget(self.years)
        inactive_row.addWidget(self.find_inactive_button)
        inactive_row.addWidget(self.patient_edit, 1)
        which_box = QVBoxLayout(which)
        which_box.addLayout(inactive_row)
        which_box.addWidget(self.patients, 1)
        which_box.addWidget(self.count_label)

        # Where and with which passphrase.
        where = QGroupBox(self.tr("Archive"), self)
        self.folder = QLineEdit(where)
        choose = QPushButton(self.tr("Dossier…"), where)
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.passphrase = password_edit(where)
        self.confirmation = password_edit(where)
        self.archive_patients_button = QPushButton(self.tr("Archiver les dossiers cochés"), where)
        self.archive_patients_button.clicked.connect(self.archive_patients)
        self.archive_centre_button = QPushButton(self.tr("Archiver tout le centre"), where)
        self.archive_centre_button.clicked.connect(self.archive_centre)
        buttons = QHBoxLayout()
        buttons.addWidget(self.archive_patients_button)
        buttons.addWidget(self.archive_centre_button)
        buttons.addStretch(1)
        self.error_label = ErrorLabel(where)
        self.result_label = QLabel(where)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(where)
        form.addRow(self.tr("Dossier (clé USB, partage…) :"), folder_row)
        form.addRow(self.tr("Phrase de passe :"), self.passphrase)
        form.addRow(self.tr("Confirmation :"), self.confirmation)
        form.addRow("", buttons)
        form.addRow("", self.error_label)
        form.addRow("", self.result_label)

        content = QWidget(self)
        box = QVBoxLayout(content)
        box.addWidget(intro)
        box.addWidget(which, 1)
        box.addWidget(where)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._busy = False
        self._update()

    # --- which patients ------------------------------------------------------------------
    def find_inactive(self) -> None:
        ws, actor, years = self._ws, self._actor, self.years.value()
        self.error_label.clear_message()
        self._runner.run_read(
            lambda: archives.inactive_patients(ws, actor, years),
            self._inactive_found,
            self.error_label.show_message,
        )

    def _inactive_found(self, found: list[InactivePatient]) -> None:
        self.patients.clear()
        for patient in found:
            last = (
                f"{patient.last_activity:%d/%m/%Y}" if patient.last_activity else self.tr("aucune")
            )
            self._add(patient.id, f"{patient.label} (dernière activité : {last})")
        if not found:
            self.count_label.setText(self.tr("Aucun dossier inactif depuis aussi longtemps."))
        self._update()

    def find_patient(self) -> None:
        text = self.patient_edit.text().strip()
        if not text:
            return
        ws, actor = self._ws, self._actor
        self._runner.run_read(
            lambda: search_patients(ws, actor, text),
            self._patients_found,
            self.error_label.show_message,
        )

    def _patients_found(self, choices: list[Any]) -> None:
        self.patient_menu = offer_patients(
            self.patient_edit, self.error_label, choices, self.add_patient
        )

    def add_patient(self, patient_id: str, label: str) -> None:
        if patient_id not in self.checked_ids() + self._all_ids():
            self._add(patient_id, label)
        self.patient_edit.clear()
        self._update()

    def _add(self, patient_id: str, label: str) -> None:
        item = QListWidgetItem(label, self.patients)
        item.setData(Qt.ItemDataRole.UserRole, patient_id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)

    def _all_ids(self) -> list[str]:
        return [
            str(self.patients.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.patients.count())
        ]

    def checked_ids(self) -> list[str]:
        return [
            str(self.patients.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.patients.count())
            if self.patients.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _update(self) -> None:
        checked = len(self.checked_ids())
        if self.patients.count():
            self.count_label.setText(
                self.tr("%1 dossier(s) coché(s) sur %2")
                .replace("%1", str(checked))
                .replace("%2", str(self.patients.count()))
            )
        self.archive_patients_button.setEnabled(not self._busy and checked > 0)
        self.archive_centre_button.setEnabled(not self._busy)

    # --- writing -------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Dossier de l'archive"))
        if folder:
            self.folder.setText(folder)

    def _inputs(self) -> tuple[Path, str, str] | None:
        self.error_label.clear_message()
        self.result_label.clear()
        folder = self.folder.text().strip()
        if not folder:
            self.error_label.show_message(self.tr("Choisissez le dossier de l'archive."))
            return None
        return Path(folder), self.passphrase.text(), self.confirmation.text()

    def archive_patients(self) -> None:
        inputs, ids = self._inputs(), self.checked_ids()
        if inputs is None:
            return
        folder, phrase, again = inputs
        ws, actor = self._ws, self._actor
        self._run(lambda: archives.export_patient_archive(ws, actor, folder, ids, phrase, again))

    def archive_centre(self) -> None:
        inputs = self._inputs()
        if inputs is None:
            return
        folder, phrase, again = inputs
        ws, actor = self._ws, self._actor
        self._run(lambda: archives.export_centre_archive(ws, actor, folder, phrase, again))

    def _run(self, job: Any) -> None:
        self._busy = True
        self._update()
        self.result_label.setText(self.tr("Archive en cours d'écriture…"))
        # On the read pool: a whole-centre archive takes minutes on a big centre.
        self._runner.run_read(job, self._written, self._failed)

    def _written(self, result: ArchiveResult) -> None:
        self._busy = False
        self.passphrase.clear()
        self.confirmation.clear()
        self.result_label.setText(
            self.tr(
                "Archive écrite : %1 (%2 lignes). Gardez la phrase de passe à part : "
                "sans elle, l'archive est illisible."
            )
            .replace("%1", result.path)
            .replace("%2", str(result.rows))
        )
        self._update()

    def _failed(self, message: str) -> None:
        self._busy = False
        self.result_label.clear()
        self.error_label.show_message(message)
        self._update()
