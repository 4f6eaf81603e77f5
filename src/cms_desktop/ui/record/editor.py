"""The consultation editor: draft autosaved (idle timer, focus leaving, closing), signing, amending.

What is typed stays in the fields whatever happens: a refused save shows a French message
under the form and the text is kept, to be corrected.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.measurements import bmi
from cms_desktop.domain.paris_time import PARIS
from cms_desktop.services import records
from cms_desktop.services.errors import ServiceError
from cms_desktop.services.records import ConsultationView, NoteContent
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.record.format import fmt_number, read_number
from cms_desktop.ui.widgets import ErrorLabel

AUTOSAVE_IDLE_MS = 1500

_TEXTS = (
    ("reason", "Motif", 1),
    ("examination", "Examen clinique", 4),
    ("diagnosis", "Diagnostic", 2),
    ("treatment", "Traitement", 3),
    ("conclusion", "Conclusion", 2),
)
_VITALS = (
    ("weight_kg", "Poids (kg)"),
    ("height_cm", "Taille (cm)"),
    ("systolic", "PA systolique"),
    ("diastolic", "PA diastolique"),
    ("heart_rate", "FC (/min)"),
    ("temperature_c", "Température (°C)"),
    ("spo2_pct", "SpO2 (%)"),
    ("glucose_g_l", "Glycémie (g/L)"),
    ("hba1c_pct", "HbA1c (%)"),
)


class ConsultationEditor(QWidget):
    """Edits a draft (autosaved) or, with ``amends``, a correction of a signed note."""

    sig_signed = Signal(str)
    """A note or its correction was signed; the argument is the consultation id."""

    sig_saved = Signal(str)
    """The draft was saved; the argument is the draft id."""

    def __init__(
        self,
        ctx: AreaContext,
        patient_id: str,
        draft: ConsultationView | None = None,
        amends: ConsultationView | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._patient_id = patient_id
        self._amends = amends
        self.draft_id: str | None = draft.id if draft else None
        self._dirty = False
        self._saving = False  # one save at a time, or a new draft could be created twice
        self._sign_pending = False
        self._loading = True
        self.texts: dict[str, QPlainTextEdit | QLineEdit] = {}
        self.vitals: dict[str, QLineEdit] = {}

        title = (
            self.tr("Correction de la consultation du %s")
            % f"{amends.seen_at.astimezone(PARIS):%d/%m/%Y}"
            if amends
            else self.tr("Consultation — %s") % ctx.actor.full_name
        )
        heading = QLabel(title, self)
        heading.setObjectName("pageTitle")
        self.seen_at = QDateTimeEdit(self)
        self.seen_at.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.seen_at.setCalendarPopup(True)
        self.seen_at.setMaximumDateTime(QDateTime.currentDateTime().addSecs(300))
        self.seen_at.setEnabled(amends is None)

        form = QFormLayout()
        form.addRow(self.tr("Date"), self.seen_at)
        for name, label, lines in _TEXTS:
            widget: QPlainTextEdit | QLineEdit
            if lines == 1:
                widget = QLineEdit(self)
                widget.textChanged.connect(self._changed)
            else:
                widget = QPlainTextEdit(self)
                widget.setTabChangesFocus(True)
                widget.setMinimumHeight(24 * lines)
                widget.textChanged.connect(self._changed)
            widget.setObjectName(name)
            self.texts[name] = widget
            form.addRow(self.tr(label), widget)
            if name == "diagnosis":
                self.code = QLineEdit(self)
                self.code.setObjectName("diagnosis_code")
                self.code.setPlaceholderText(self.tr("CISP-2 (K86) ou CIM-10 (I10)"))
                self.code.setMaxLength(16)
                self.code.textChanged.connect(self._changed)
                form.addRow(self.tr("Code diagnostic"), self.code)

        vitals_box = QGroupBox(self.tr("Constantes"), self)
        grid = QGridLayout(vitals_box)
        for i, (name, label) in enumerate(_VITALS):
            edit = QLineEdit(vitals_box)
            edit.setObjectName(name)
            edit.setMaximumWidth(90)
            edit.textChanged.connect(self._changed)
            self.vitals[name] = edit
            grid.addWidget(QLabel(self.tr(label), vitals_box), i // 5 * 2, i % 5)
            grid.addWidget(edit, i // 5 * 2 + 1, i % 5)
        self.bmi_label = QLabel(vitals_box)
        self.bmi_label.setObjectName("bmi")
        grid.addWidget(QLabel(self.tr("IMC (kg/m²)"), vitals_box), 2, 4)
        grid.addWidget(self.bmi_label, 3, 4)

        self.error_label = ErrorLabel(self)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("hint")
        self.save_button = QPushButton(self.tr("Enregistrer le brouillon"), self)
        self.save_button.clicked.connect(self.save_now)
        self.save_button.setVisible(amends is None)
        self.sign_button = QPushButton(
            self.tr("Signer la correction (Ctrl+Entrée)")
            if amends
            else self.tr("Signer (Ctrl+Entrée)"),
            self,
        )
        self.sign_button.clicked.connect(self.sign)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.sign_button)

        # The note scrolls on a small screen; « Signer » stays in view under it.
        body = QWidget(self)
        body_box = QVBoxLayout(body)
        body_box.setContentsMargins(0, 0, 0, 0)
        body_box.addLayout(form)
        body_box.addWidget(vitals_box)
        body_box.addStretch(1)
        self.note_scroll = QScrollArea(self)
        self.note_scroll.setWidgetResizable(True)
        self.note_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.note_scroll.setWidget(body)
        box = QVBoxLayout(self)
        box.addWidget(heading)
        box.addWidget(self.note_scroll, 1)
        box.addWidget(self.error_label)
        box.addLayout(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.sign)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_IDLE_MS)
        self._timer.timeout.connect(self.save_now)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        source = draft or amends
        when = source.seen_at if source else datetime.now(UTC)
        self.seen_at.setDateTime(QDateTime.fromSecsSinceEpoch(int(when.timestamp())))
        self.seen_at.dateTimeChanged.connect(self._changed)
        if source is not None:
            self.set_content(source.content)
        self._loading = False
        self._update_bmi()

    # Content -------------------------------------------------------------------------------

    def set_content(self, content: NoteContent) -> None:
        for name, widget in self.texts.items():
            value = getattr(content, name)
            if isinstance(widget, QLineEdit):
                widget.setText(value)
            else:
                widget.setPlainText(value)
        self.code.setText(content.diagnosis_code)
        for name, edit in self.vitals.items():
            edit.setText(fmt_number(getattr(content, name)))

    def content(self) -> NoteContent:
        """What is typed, as a NoteContent; ValidationFailed (French) on a malformed number."""
        texts: dict[str, Any] = {
            name: (w.text() if isinstance(w, QLineEdit) else w.toPlainText())
            for name, w in self.texts.items()
        }
        labels = dict(_VITALS)
        numbers = {name: read_number(e.text(), labels[name]) for name, e in self.vitals.items()}
        values: dict[str, Any] = {**texts, **numbers}
        return NoteContent(diagnosis_code=self.code.text(), **values)

    def _seen_at(self) -> datetime:
        return datetime.fromtimestamp(self.seen_at.dateTime().toSecsSinceEpoch(), UTC)

    @property
    def amending(self) -> ConsultationView | None:
        return self._amends

    @property
    def dirty(self) -> bool:
        return self._dirty

    # Autosave ------------------------------------------------------------------------------

    def _changed(self) -> None:
        if self._loading:
            return
        self._update_bmi()
        self._dirty = True
        self.status_label.setText(self.tr("Modifications non enregistrées"))
        if self._amends is None:
            self._timer.start()

    def _update_bmi(self) -> None:
        try:
            value = bmi(
                read_number(self.vitals["weight_kg"].text(), "Poids"),
                read_number(self.vitals["height_cm"].text(), "Taille"),
            )
        except ServiceError:
            value = None
        self.bmi_label.setText(fmt_number(value) or "—")

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # Leaving the editor (another tab, another area, the lock screen) saves at once.
        if (
            old is not None
            and self.isAncestorOf(old)
            and (new is None or not self.isAncestorOf(new))
        ):
            self.save_now()

    def save_now(self) -> None:
        """Save the draft if something changed; errors are shown, the text stays."""
        self._timer.stop()
        if not self._dirty or self._amends is not None or self._saving:
            return
        try:
            content = self.content()
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return
        ctx, pid, draft_id, seen = self._ctx, self._patient_id, self.draft_id, self._seen_at()
        self._dirty = False
        self._saving = True
        self._ctx.runner.run_write(
            lambda: records.save_draft(ctx.workspace, ctx.actor, pid, content, draft_id, seen),
            self._saved,
            self._save_failed,
        )

    def _saved(self, draft_id: object) -> None:
        self._saving = False
        self.draft_id = str(draft_id)
        self.error_label.clear_message()
        now = datetime.now(PARIS)
        self.status_label.setText(self.tr("Brouillon enregistré à %s") % f"{now:%H:%M:%S}")
        self.sig_saved.emit(self.draft_id)
        if self._sign_pending:
            self._sign_pending = False
            self.sign()
        elif self._dirty:
            self._timer.start()

    def _save_failed(self, message: str) -> None:
        self._saving = False
        self._sign_pending = False
        self._dirty = True  # still to be saved once corrected
        self.status_label.setText(self.tr("Brouillon non enregistré"))
        self.error_label.show_message(message)

    def event(self, e: QEvent) -> bool:
        if e.type() in (QEvent.Type.Hide, QEvent.Type.Close):
            self.save_now()
        return super().event(e)

    def detach(self) -> None:
        """Save what is pending and stop listening (before the editor is thrown away)."""
        self.save_now()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            with contextlib.suppress(RuntimeError, TypeError):
                app.focusChanged.disconnect(self._focus_changed)

    # Signing -------------------------------------------------------------------------------

    def sign(self) -> None:
        if self._saving:
            self._sign_pending = True
            return
        try:
            content = self.content()
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return
        ctx = self._ctx
        if self._amends is not None:
            original = self._amends.id
            ctx.runner.run_write(
                lambda: records.amend(ctx.workspace, ctx.actor, original, content),
                self._signed,
                self.error_label.show_message,
            )
            return
        pid, draft_id, seen = self._patient_id, self.draft_id, self._seen_at()

        def save_and_sign() -> str:
            saved = records.save_draft(ctx.workspace, ctx.actor, pid, content, draft_id, seen)
            self.draft_id = saved
            return records.sign_draft(ctx.workspace, ctx.actor, saved)

        self._timer.stop()
        ctx.runner.run_write(save_and_sign, self._signed, self.error_label.show_message)

    def _signed(self, consultation_id: object) -> None:
        self._dirty = False
        self.draft_id = None
        self.error_label.clear_message()
        self.sig_signed.emit(str(consultation_id))
