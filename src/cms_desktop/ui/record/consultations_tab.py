"""The Consultations tab: signed notes with their corrections, and the note being written."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.measurements import bmi
from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.services.patient_file import PatientFile
from cms_desktop.services.records import ConsultationView
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.record.editor import ConsultationEditor
from cms_desktop.ui.record.format import fmt_datetime, fmt_number

_LABELS = (
    ("reason", "Motif"),
    ("examination", "Examen clinique"),
    ("diagnosis", "Diagnostic"),
    ("treatment", "Traitement"),
    ("conclusion", "Conclusion"),
)
_VITALS = (
    ("weight_kg", "Poids", "kg"),
    ("height_cm", "Taille", "cm"),
    ("heart_rate", "FC", "/min"),
    ("temperature_c", "T°", "°C"),
    ("spo2_pct", "SpO2", "%"),
    ("glucose_g_l", "Glycémie", "g/L"),
    ("hba1c_pct", "HbA1c", "%"),
)


# Altered is red and says so; a note signed before signatures existed says that plainly,
# in grey, so that it raises no false alarm.
_SIGNATURE_STYLE = {
    SignatureStatus.VERIFIED: ("#1e7b34", "✔ Signature vérifiée"),
    SignatureStatus.ALTERED: (
        "#c0392b",
        "✖ Contenu modifié après signature : ce texte n'est plus celui que son auteur a "
        "signé. Prévenez le directeur médical.",
    ),
    SignatureStatus.UNVERIFIABLE: (
        "#666666",
        "Signature non vérifiable : consultation signée avant la mise à jour qui a introduit "
        "les signatures électroniques (rien d'anormal).",
    ),
    SignatureStatus.SEALED: (
        "#666666",
        "Signature vérifiable par un soignant qui détient la clé du dossier médical "
        "(consultation chiffrée après sa signature).",
    ),
}


def signature_html(status: SignatureStatus) -> str:
    colour, text = _SIGNATURE_STYLE[status]
    weight = "bold" if status is SignatureStatus.ALTERED else "normal"
    return f'<p style="color:{colour}; font-weight:{weight}">{escape(text)}</p>'


def note_html(note: ConsultationView) -> str:
    """A signed note, read-only, as simple HTML (every value escaped)."""
    c = note.content
    title = "Correction" if note.amends_id else "Consultation"
    parts = [f"<h3>{title} du {fmt_datetime(note.seen_at)} — {escape(note.author_name)}</h3>"]
    if note.signature is not None:
        parts.append(signature_html(note.signature))
    for name, label in _LABELS:
        value = getattr(c, name)
        if name == "diagnosis" and c.diagnosis_code:
            value = f"{value} [{c.diagnosis_code}]"
        if value:
            text = escape(value).replace("\n", "<br>")
            parts.append(f"<p><b>{label} :</b> {text}</p>")
    vitals = [
        f"{label} {fmt_number(getattr(c, name))} {unit}"
        for name, label, unit in _VITALS
        if getattr(c, name) is not None
    ]
    if c.systolic is not None and c.diastolic is not None:
        vitals.insert(2, f"PA {fmt_number(c.systolic)}/{fmt_number(c.diastolic)} mmHg")
    value = bmi(c.weight_kg, c.height_cm)
    if value is not None:
        vitals.append(f"IMC {fmt_number(value)} kg/m²")
    if vitals:
        parts.append("<p><b>Constantes :</b> " + " · ".join(escape(v) for v in vitals) + "</p>")
    if note.amended_by:
        parts.append("<p><i>Cette consultation a été corrigée (voir la correction).</i></p>")
    return "".join(parts)


class ConsultationsTab(QWidget):
    """List on the left (Enter shows a note), viewer or editor on the right."""

    sig_changed = Signal()
    """A note was signed: the file must be reloaded."""

    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._patient_id = patient_id
        self._notes: dict[str, ConsultationView] = {}
        self.editor: ConsultationEditor | None = None

        self.new_button = QPushButton(self.tr("Nouvelle consultation (Ctrl+N)"), self)
        self.new_button.clicked.connect(lambda: self.open_editor())
        self.amend_button = QPushButton(self.tr("Corriger (Ctrl+M)"), self)
        self.amend_button.clicked.connect(self.amend_selected)
        self.list = QListWidget(self)
        self.list.setObjectName("consultationList")
        self.list.setSpacing(3)
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.list.itemActivated.connect(lambda *_: self._show_selected())
        self.viewer = QTextBrowser(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.viewer)

        left = QWidget(self)
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.amend_button)
        left_box.addLayout(row)
        left_box.addWidget(self.list)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([330, 870])
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(splitter)
        for keys, slot in (("Ctrl+N", self.open_editor), ("Ctrl+M", self.amend_selected)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def set_file(self, file: PatientFile) -> None:
        item = self.list.currentItem()
        current = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        self.list.blockSignals(True)
        self.list.clear()
        self._notes = {c.id: c for c in file.consultations}
        for note in file.consultations:
            prefix = "   ↳ " + self.tr("Correction") + " — " if note.amends_id else ""
            if note.signature is SignatureStatus.ALTERED:
                prefix = "⚠ " + prefix  # seen in the list before the note is opened
            reason = note.content.reason or self.tr("(sans motif)")
            item = QListWidgetItem(
                f"{prefix}{fmt_datetime(note.seen_at)} — {note.author_name}\n{reason[:60]}"
            )
            item.setData(Qt.ItemDataRole.UserRole, note.id)
            self.list.addItem(item)
            if note.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        # A draft left by the actor (autosaved before a crash or a lock) reopens as it was.
        if self.editor is None and file.my_drafts:
            self.open_editor(file.my_drafts[0])
        elif self.editor is None and self.list.count() and self.list.currentItem() is None:
            self.list.setCurrentRow(0)
        self.amend_button.setEnabled(bool(self._notes))

    def select(self, consultation_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == consultation_id:
                self.list.setCurrentRow(row)
                self._show_selected()
                return

    def _selected(self) -> ConsultationView | None:
        item = self.list.currentItem()
        return None if item is None else self._notes.get(item.data(Qt.ItemDataRole.UserRole))

    def _show_selected(self) -> None:
        note = self._selected()
        if note is None:
            return
        if self.editor is not None:
            self.editor.save_now()  # the editor stays open behind; Ctrl+N brings it back
        self.viewer.setHtml(note_html(note))
        self.stack.setCurrentWidget(self.viewer)

    def open_editor(
        self, draft: ConsultationView | None = None, amends: ConsultationView | None = None
    ) -> ConsultationEditor:
        reuse = self.editor is not None and self.editor.amending is None
        if reuse and self.editor is not None and draft is None and amends is None:
            self.stack.setCurrentWidget(self.editor)
            return self.editor
        self._close_editor()
        editor = ConsultationEditor(self._ctx, self._patient_id, draft, amends, self)
        editor.sig_signed.connect(self._signed)
        self.editor = editor
        self.stack.addWidget(editor)
        self.stack.setCurrentWidget(editor)
        editor.texts["reason"].setFocus()
        return editor

    def amend_selected(self) -> None:
        note = self._selected()
        if note is not None:
            # A correction of a correction corrects the original note.
            original = self._notes.get(note.amends_id or "", note)
            editor = self.open_editor(amends=original)
            editor.set_content(note.content)

    def _close_editor(self) -> None:
        if self.editor is not None:
            self.editor.detach()
            self.stack.removeWidget(self.editor)
            self.editor.deleteLater()
            self.editor = None

    def _signed(self, consultation_id: str) -> None:
        self._close_editor()
        self.stack.setCurrentWidget(self.viewer)
        self.sig_changed.emit()
        self.select(consultation_id)

    def save_pending(self) -> None:
        if self.editor is not None:
            self.editor.save_now()
