"""The director's journal: who did what, when, to which patient — filtered by patient,
user, action and period, page by page, exported as CSV or PDF. Also shown from a patient's file
as « Qui a consulté ce dossier ? » (the same widget, already filtered on the patient).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.paris_time import paris_text, paris_today
from cms_desktop.services import audit_journal
from cms_desktop.services.audit_journal import PAGE_SIZE, JournalLine, JournalPage, JournalQuery
from cms_desktop.services.errors import ServiceError
from cms_desktop.services.printing_common import search_patients
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.widgets import ErrorLabel, compact_combo, fit_to_screen, offer_patients

AnyIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("Date", "Utilisateur", "Action", "Patient ou objet")


class JournalModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.lines: list[JournalLine] = []

    def set_lines(self, lines: tuple[JournalLine, ...]) -> None:
        self.beginResetModel()
        self.lines = list(lines)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.lines):
            return None
        line = self.lines[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            return line.user_login
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            paris_text(line.at),
            line.user_name or line.user_login,
            line.action_label,
            line.target,
        )[index.column()]


class JournalWidget(QWidget):
    def __init__(
        self,
        ctx: AreaContext,
        patient: tuple[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.offset = 0
        self.total = 0
        self.patient_id: str | None = None
        self.patient_edit = QLineEdit(self)
        self.patient_edit.setPlaceholderText(self.tr("Patient : nom puis Entrée"))
        self.patient_edit.returnPressed.connect(self.find_patient)
        self.clear_patient = QPushButton(self.tr("Tous les patients"), self)
        self.clear_patient.clicked.connect(lambda: self.set_patient(None, ""))
        self.user = QComboBox(self)
        compact_combo(self.user, 16)
        self.user.addItem(self.tr("Tous les utilisateurs"), "")
        self.action = QComboBox(self)
        compact_combo(self.action, 18)
        self.action.addItem(self.tr("Toutes les actions"), "")
        for code, label in audit_journal.action_choices():
            self.action.addItem(label, code)
        self.period = QCheckBox(self.tr("Du"), self)
        today = paris_today()
        self.since = QDateEdit(_qdate(today - timedelta(days=30)), self)
        self.until = QDateEdit(_qdate(today), self)
        for edit in (self.since, self.until):
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setCalendarPopup(True)
            edit.dateChanged.connect(self._period_changed)
        self.period.toggled.connect(lambda _on: self.search())
        self.user.currentIndexChanged.connect(lambda _i: self.search())
        self.action.currentIndexChanged.connect(lambda _i: self.search())

        self.model = JournalModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.page_label = QLabel(self)
        self.previous_button = QPushButton(self.tr("◀ Plus récents"), self)
        self.next_button = QPushButton(self.tr("Plus anciens ▶"), self)
        self.previous_button.clicked.connect(lambda: self.go(self.offset - PAGE_SIZE))
        self.next_button.clicked.connect(lambda: self.go(self.offset + PAGE_SIZE))
        self.export_button = QPushButton(self.tr("Exporter en CSV…"), self)
        self.export_button.clicked.connect(self.export)
        self.export_pdf_button = QPushButton(self.tr("Exporter en PDF…"), self)
        self.export_pdf_button.clicked.connect(self.export_pdf)
        self.error_label = ErrorLabel(self)

        filters = QHBoxLayout()
        filters.addWidget(self.patient_edit, 2)
        filters.addWidget(self.clear_patient)
        filters.addWidget(self.user, 1)
        filters.addWidget(self.action, 1)
        filters.addWidget(self.period)
        filters.addWidget(self.since)
        filters.addWidget(QLabel(self.tr("au"), self))
        filters.addWidget(self.until)
        pages = QHBoxLayout()
        pages.addWidget(self.page_label, 1)
        pages.addWidget(self.previous_button)
        pages.addWidget(self.next_button)
        pages.addWidget(self.export_button)
        pages.addWidget(self.export_pdf_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(filters)
        box.addWidget(self.error_label)
        box.addWidget(self.table, 1)
        box.addLayout(pages)
        self._load_users()
        if patient is not None:
            self.set_patient(*patient)
        else:
            self.search()

    def _load_users(self) -> None:
        ctx = self._ctx
        ctx.runner.run_read(
            lambda: audit_journal.user_choices(ctx.workspace, ctx.actor),
            self._users_loaded,
            self.error_label.show_message,
        )

    def _users_loaded(self, choices: list[tuple[str, str]]) -> None:
        self.user.blockSignals(True)
        for login, label in choices:
            self.user.addItem(label, login)
        self.user.blockSignals(False)

    def _period_changed(self, _day: QDate) -> None:
        if self.period.isChecked():
            self.search()

    def query(self) -> JournalQuery:
        since = self.since.date().toPython() if self.period.isChecked() else None
        until = self.until.date().toPython() if self.period.isChecked() else None
        return JournalQuery(
            patient_id=self.patient_id,
            user_login=str(self.user.currentData() or "") or None,
            action=str(self.action.currentData() or "") or None,
            since=since if isinstance(since, date) else None,
            until=until if isinstance(until, date) else None,
        )

    def set_patient(self, patient_id: str | None, label: str) -> None:
        self.patient_id = patient_id
        self.patient_edit.setText(label)
        self.clear_patient.setEnabled(patient_id is not None)
        self.search()

    def find_patient(self) -> None:
        text = self.patient_edit.text().strip()
        if not text:
            self.set_patient(None, "")
            return
        ctx = self._ctx
        ctx.runner.run_read(
            lambda: search_patients(ctx.workspace, ctx.actor, text),
            self._patients_found,
            self.error_label.show_message,
        )

    def _patients_found(self, choices: list[Any]) -> None:
        self.patient_menu = offer_patients(
            self.patient_edit, self.error_label, choices, self.set_patient
        )

    def search(self) -> None:
        self.go(0)

    def go(self, offset: int) -> None:
        ctx, query = self._ctx, self.query()
        offset = max(0, offset)
        ctx.runner.run_read(
            lambda: audit_journal.search(ctx.workspace, ctx.actor, query, offset),
            self._shown,
            self.error_label.show_message,
        )

    def reload(self) -> None:
        self.go(self.offset)

    def _shown(self, page: JournalPage) -> None:
        self.offset, self.total = page.offset, page.total
        self.model.set_lines(page.lines)
        if page.total == 0:
            self.page_label.setText(self.tr("Aucune entrée"))
        else:
            last = page.offset + len(page.lines)
            self.page_label.setText(f"{page.offset + 1}–{last} sur {page.total}")
        self.previous_button.setEnabled(page.offset > 0)
        self.next_button.setEnabled(page.offset + len(page.lines) < page.total)
        self.export_button.setEnabled(page.total > 0)
        self.export_pdf_button.setEnabled(page.total > 0)

    def export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, self.tr("Exporter le journal"), "journal.csv", self.tr("CSV (*.csv)")
        )
        if name:
            self.export_to(Path(name))

    def export_pdf(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, self.tr("Exporter le journal"), "journal.pdf", self.tr("PDF (*.pdf)")
        )
        if name:
            self.export_to(Path(name), "pdf")

    def export_to(self, path: Path, kind: str = "csv") -> bool:
        """Write the whole selection (not only this page) where the director chose.

        The PDF is made in memory and written only there: no temporary file.
        """
        if path.suffix.lower() != f".{kind}":
            path = path.with_name(f"{path.name}.{kind}")
        ctx, query = self._ctx, self.query()
        try:
            if kind == "pdf":
                path.write_bytes(audit_journal.export_pdf(ctx.workspace, ctx.actor, query))
            else:
                text = audit_journal.export_csv(ctx.workspace, ctx.actor, query)
                # utf-8-sig: a French spreadsheet opens the accents right.
                path.write_text(text, encoding="utf-8-sig", newline="")
        except OSError as exc:
            self.error_label.show_message(
                self.tr("Export impossible : ") + (exc.strerror or str(exc))
            )
            return False
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        return True


class RecordAccessLogDialog(QDialog):
    """« Qui a consulté ce dossier ? » from the patient's file (director)."""

    def __init__(
        self, ctx: AreaContext, patient_id: str, label: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Qui a consulté ce dossier ? — ") + label)
        self.journal = JournalWidget(ctx, (patient_id, label), self)
        close = QPushButton(self.tr("Fermer"), self)
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        box = QVBoxLayout(self)
        box.addWidget(self.journal, 1)
        box.addLayout(row)
        fit_to_screen(self, 1100, 640)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
