"""``PatientPicker``: a search field and its results, updated while typing; reused elsewhere.

Keyboard first: the field keeps the focus, ↓/↑ move in the results, Enter chooses.
Each query carries a sequence number so a slow answer to an older query is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.services.patient_search import PatientHit, search_patients
from cms_desktop.ui.areas import AreaContext

DEBOUNCE_MS = 120
_Index = QModelIndex | QPersistentModelIndex


class HitsModel(QAbstractTableModel):
    HEADERS = ("Nom", "Naissance", "Âge", "Sexe", "NIR", "Téléphone", "Identité")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hits: list[PatientHit] = []

    def set_hits(self, hits: list[PatientHit]) -> None:
        self.beginResetModel()
        self.hits = hits
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.hits)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        hit = self.hits[index.row()]
        return (
            hit.display_name,
            hit.birth_date_text,
            f"{hit.age} ans",
            hit.sex,
            hit.nir_masked,
            hit.phone,
            hit.status_label,
        )[index.column()]


class PatientPicker(QWidget):
    """Search as you type; emits ``patient_chosen(id)`` on Enter or double click."""

    patient_chosen = Signal(str)

    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._sequence = 0
        self.field = QLineEdit(self)
        self.field.setPlaceholderText(
            self.tr("Nom, prénom, date de naissance (jj/mm/aaaa), NIR ou téléphone")
        )
        self.field.setClearButtonEnabled(True)
        self.field.setAccessibleName(self.tr("Rechercher un patient"))
        self.status = QLabel(self)
        self.status.setObjectName("hint")
        self.model = HitsModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)
        self.field.textChanged.connect(lambda _text: self.timer.start())
        self.field.returnPressed.connect(self.choose_current)
        self.field.installEventFilter(self)
        self.table.activated.connect(lambda _index: self.choose_current())
        self.table.doubleClicked.connect(lambda _index: self.choose_current())
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.field)
        box.addWidget(self.status)
        box.addWidget(self.table, 1)
        self.setFocusProxy(self.field)

    def search_now(self) -> None:
        self.timer.stop()
        self._sequence += 1
        sequence = self._sequence
        query = self.field.text()
        if not query.strip():
            self._show(sequence, [])
            return
        ws, actor = self._ctx.workspace, self._ctx.actor
        self._ctx.runner.run_read(
            lambda: search_patients(ws, actor, query),
            lambda hits: self._show(sequence, hits),
            lambda message: self._failed(sequence, message),
        )

    def refresh(self) -> None:
        """Search again for what is typed (a change elsewhere), keeping the chosen row."""
        self._keep = self.current_id()
        self.search_now()

    def _show(self, sequence: int, hits: list[PatientHit]) -> None:
        if sequence != self._sequence:
            return  # an answer to an older query: the user has typed since
        keep, self._keep = getattr(self, "_keep", None), None
        self.model.set_hits(hits)
        if hits:
            ids = [h.id for h in hits]
            self.table.selectRow(ids.index(keep) if keep in ids else 0)
        typed = bool(self.field.text().strip())
        if not typed:
            self.status.setText("")
        elif not hits:
            self.status.setText(self.tr("Aucun patient trouvé."))
        else:
            self.status.setText(
                self.tr("%n patient(s) — Entrée pour ouvrir", "", len(hits))
                if len(hits) < 50
                else self.tr("50 premiers patients : précisez la recherche")
            )

    def _failed(self, sequence: int, message: str) -> None:
        if sequence == self._sequence:
            self.status.setText(message)

    def current_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.hits[rows[0].row()].id

    def choose_current(self) -> None:
        if self.timer.isActive():
            self.search_now()  # Enter typed faster than the debounce: answer the final text
        patient_id = self.current_id()
        if patient_id is not None:
            self.patient_chosen.emit(patient_id)

    def _move(self, step: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() + step if rows else 0
        self.table.selectRow(max(0, min(count - 1, row)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            steps = {
                Qt.Key.Key_Down: 1,
                Qt.Key.Key_Up: -1,
                Qt.Key.Key_PageDown: 10,
                Qt.Key.Key_PageUp: -10,
            }
            if event.key() in steps:
                self._move(steps[Qt.Key(event.key())])
                return True
        return super().eventFilter(watched, event)
