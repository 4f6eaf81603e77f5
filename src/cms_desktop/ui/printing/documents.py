"""A small patient search, and the certificate and referral letter dialogs (preview, then
print or save; every print and export is audited through the service).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.permissions import Permission
from cms_desktop.services import letters
from cms_desktop.services.letters import Sections
from cms_desktop.services.printing_common import PatientChoice, search_patients
from cms_desktop.services.synthesis import read_synthesis
from cms_desktop.services.synthesis_text import synthesis_lines
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.preview import preview_pdf
from cms_desktop.ui.widgets import ErrorLabel

# Synthesis parts a referral letter may carry; filled by hand until the synthesis tables land.
LETTER_SECTIONS = ("Antécédents", "Traitements en cours", "Allergies")


class PatientSearch(QWidget):
    """Type a name, pick a patient (Enter or double-click); emits ``chosen`` with the id."""

    chosen = Signal(str)

    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.query = QLineEdit(self)
        self.query.setPlaceholderText(self.tr("Nom du patient (début)…"))
        self.results = QListWidget(self)
        self.results.setMaximumHeight(140)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.query)
        box.addWidget(self.results)
        self.query.textEdited.connect(self.search)
        self.query.returnPressed.connect(self._first)
        self.results.itemActivated.connect(self._activated)

    def search(self, text: str) -> None:
        ws, actor = self._ctx.workspace, self._ctx.actor
        self._ctx.runner.run_read(lambda: search_patients(ws, actor, text), self._show)

    def _show(self, choices: list[PatientChoice]) -> None:
        self.results.clear()
        for choice in choices:
            item = QListWidgetItem(choice.label)
            item.setData(256, choice.id)
            self.results.addItem(item)
        if choices:
            self.results.setCurrentRow(0)

    def _first(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._activated(item)

    def _activated(self, item: QListWidgetItem) -> None:
        self.chosen.emit(str(item.data(256)))

    def current_id(self) -> str | None:
        item = self.results.currentItem()
        return None if item is None else str(item.data(256))


class _DocumentDialog(QDialog):
    document = ""

    def __init__(
        self, ctx: AreaContext, patient_id: str, title: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self._ctx = ctx
        self.patient_id = patient_id
        self.form = QFormLayout()
        self.error_label = ErrorLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.preview_button = buttons.addButton(
            self.tr("Aperçu…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Fermer"))
        buttons.accepted.connect(self.preview)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(self.form)
        box.addWidget(self.error_label)
        box.addWidget(buttons)

    def render_call(self) -> Any:
        raise NotImplementedError

    def preview(self) -> None:
        self.error_label.clear_message()
        self._ctx.runner.run_read(self.render_call(), self._show, self.error_label.show_message)

    def _show(self, pdf: bytes) -> None:
        self.preview_dialog = preview_pdf(self, self.windowTitle(), pdf, self.printed)

    def printed(self, how: str) -> None:
        ws, actor = self._ctx.workspace, self._ctx.actor
        self._ctx.runner.run_write(
            lambda: letters.record_output(ws, actor, self.document, self.patient_id, how),
            None,
            self.error_label.show_message,
        )


class CertificateDialog(_DocumentDialog):
    document = "certificate"

    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, patient_id, self.tr("Certificat médical"), parent)
        self.title = QLineEdit("Certificat médical", self)
        self.body = QPlainTextEdit(self)
        self.body.setTabChangesFocus(True)
        self.in_hand = QCheckBox(self.tr("Remis en main propre à l'intéressé(e)"), self)
        self.in_hand.setChecked(True)
        self.form.addRow(self.tr("Titre :"), self.title)
        self.form.addRow(self.tr("Texte :"), self.body)
        self.form.addRow("", self.in_hand)

    def render_call(self) -> Any:
        ws, actor = self._ctx.workspace, self._ctx.actor
        draft = letters.CertificateDraft(
            self.patient_id,
            self.body.toPlainText(),
            self.title.text(),
            self.in_hand.isChecked(),
        )
        return lambda: letters.certificate_pdf(ws, actor, draft)


class ReferralDialog(_DocumentDialog):
    document = "referral_letter"

    def __init__(self, ctx: AreaContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, patient_id, self.tr("Lettre d'adressage"), parent)
        self.addressee = QPlainTextEdit(self)
        self.addressee.setPlaceholderText(self.tr("Dr …\nService …\nHôpital …"))
        self.addressee.setMaximumHeight(80)
        self.addressee.setTabChangesFocus(True)
        self.reason = QLineEdit(self)
        self.body = QPlainTextEdit(self)
        self.body.setTabChangesFocus(True)
        self.form.addRow(self.tr("Destinataire :"), self.addressee)
        self.form.addRow(self.tr("Objet :"), self.reason)
        self.form.addRow(self.tr("Lettre :"), self.body)
        self.sections: list[tuple[QCheckBox, QPlainTextEdit]] = []
        if ctx.actor.can(Permission.CLINICAL_READ):
            # The synthesis sections come prefilled; the doctor ticks what the letter carries.
            ctx.runner.run_read(
                lambda: synthesis_lines(read_synthesis(ctx.workspace, ctx.actor, patient_id)),
                self._add_sections,
                lambda _message: self._add_sections(()),
            )
        else:
            self._add_sections(())

    def _add_sections(self, found: Sections) -> None:
        prefilled = dict(found)
        titles = list(prefilled) or list(LETTER_SECTIONS)
        for title in titles:
            check = QCheckBox(title, self)
            text = QPlainTextEdit(self)
            text.setPlainText("\n".join(prefilled.get(title, ())))
            text.setMaximumHeight(60)
            text.setTabChangesFocus(True)
            text.setEnabled(False)
            check.toggled.connect(text.setEnabled)
            self.form.addRow(check, text)
            self.sections.append((check, text))

    def render_call(self) -> Any:
        ws, actor = self._ctx.workspace, self._ctx.actor
        sections = tuple(
            (
                check.text(),
                tuple(ln.strip() for ln in text.toPlainText().splitlines() if ln.strip()),
            )
            for check, text in self.sections
            if check.isChecked()
        )
        draft = letters.ReferralDraft(
            self.patient_id,
            tuple(self.addressee.toPlainText().splitlines()),
            self.reason.text(),
            self.body.toPlainText(),
            sections,
        )
        return lambda: letters.referral_letter_pdf(ws, actor, draft)
