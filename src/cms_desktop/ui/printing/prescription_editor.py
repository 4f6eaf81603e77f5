"""The prescription editor: lines completed from the BDPM with the DCI proposed, free-text
lines, bizone zones, templates, renewal, then preview and print (stored when printed).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.prescription import LineKind, NonSubstitution, PrescriptionLine, Zone
from cms_desktop.services import medicines
from cms_desktop.services import prescription_allergies as pa
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.medicines import MedicineHit
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.allergy_confirm import AllergyConfirmDialog
from cms_desktop.ui.printing.preview import preview_pdf
from cms_desktop.ui.printing.reprint import open_stored_prescription
from cms_desktop.ui.record.banner import AllergyBanner
from cms_desktop.ui.widgets import ErrorLabel, compact_combo

SUBSTITUTION_CHOICES = (
    ("", "Substituable"),
    (NonSubstitution.MTE.value, "Non substituable — MTE (marge thérapeutique étroite)"),
    (NonSubstitution.EFG.value, "Non substituable — EFG (enfant < 6 ans)"),
    (NonSubstitution.CIF.value, "Non substituable — CIF (contre-indication excipient)"),
)
_WARNING_STYLE = (
    "QLabel { background: #fdecee; color: #8c0019; font-weight: 600; padding: 4px 8px; "
    "border: 1px solid #b00020; border-radius: 3px; }"
)
ZONE_CHOICES = (
    (Zone.ALD.value, "En rapport avec l'ALD (zone haute)"),
    (Zone.OTHER.value, "Sans rapport avec l'ALD (zone basse)"),
)


def describe(line: PrescriptionLine) -> str:
    """One-line summary of a line for the list."""
    if line.kind is LineKind.FREE_TEXT:
        text = " ".join(line.text.split())
    else:
        head = " ".join(p for p in (line.dci.upper(), line.strength, line.form) if p)
        amount = line.duration or (
            f"{line.quantity} {line.quantity_unit}".strip() if line.quantity else ""
        )
        text = f"{head} — {line.dosage}" + (f" — {amount}" if amount else "")
        if line.non_substitution is not None:
            text += f" — NS ({line.non_substitution.value})"
    if line.renewals:
        text += f" — ×{line.renewals} renouv."
    return text


class LineForm(QGroupBox):
    """The fields of one line; ``line()`` builds the domain line, ``load()`` fills them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Ligne"))
        self.free_text = QCheckBox(self.tr("Ligne libre (soins, examens, dispositifs)"), self)
        self.stack = QStackedWidget(self)
        medicine = QWidget(self.stack)
        form = QFormLayout(medicine)
        form.setContentsMargins(0, 0, 0, 0)
        self.dci = QLineEdit(medicine)
        self.dci.setPlaceholderText(self.tr("Tapez la DCI ou le nom du médicament"))
        self.strength = QLineEdit(medicine)
        self.form = QLineEdit(medicine)
        self.route = QLineEdit(medicine)
        self.dosage = QLineEdit(medicine)
        self.dosage.setPlaceholderText(self.tr("ex. 1 comprimé matin et soir"))
        self.duration = QLineEdit(medicine)
        self.duration.setPlaceholderText(self.tr("ex. 7 jours"))
        self.quantity = QSpinBox(medicine)
        self.quantity.setRange(0, 9999)
        self.quantity.setSpecialValueText(self.tr("—"))
        self.substitution = QComboBox(medicine)
        compact_combo(self.substitution, 20)
        for code, label in SUBSTITUTION_CHOICES:
            self.substitution.addItem(self.tr(label), code)
        form.addRow(self.tr("Médicament (DCI) :"), self.dci)
        row = QHBoxLayout()
        row.addWidget(self.strength)
        row.addWidget(QLabel(self.tr("Forme :"), medicine))
        row.addWidget(self.form, 2)
        form.addRow(self.tr("Dosage :"), row)
        form.addRow(self.tr("Voie :"), self.route)
        form.addRow(self.tr("Posologie :"), self.dosage)
        amount = QHBoxLayout()
        amount.addWidget(self.duration, 2)
        amount.addWidget(QLabel(self.tr("ou nombre d'unités :"), medicine))
        amount.addWidget(self.quantity)
        form.addRow(self.tr("Durée :"), amount)
        form.addRow(self.tr("Substitution :"), self.substitution)
        self.text = QPlainTextEdit(self.stack)
        self.text.setPlaceholderText(self.tr("ex. Bilan sanguin : NFS, ionogramme, créatininémie"))
        self.text.setTabChangesFocus(True)
        self.stack.addWidget(medicine)
        self.stack.addWidget(self.text)
        self.renewals = QSpinBox(self)
        self.renewals.setRange(0, 12)
        self.renewals.setMaximumWidth(90)
        self.zone = QComboBox(self)
        for code, label in ZONE_CHOICES:
            self.zone.addItem(self.tr(label), code)
        self.zone.setCurrentIndex(1)
        bottom = QFormLayout()
        bottom.addRow(self.tr("Renouvellements :"), self.renewals)
        bottom.addRow(self.tr("Zone (bizone) :"), self.zone)
        box = QVBoxLayout(self)
        box.addWidget(self.free_text)
        box.addWidget(self.stack)
        box.addLayout(bottom)
        self.free_text.toggled.connect(lambda on: self.stack.setCurrentIndex(1 if on else 0))

    def line(self) -> PrescriptionLine:
        zone = Zone(self.zone.currentData())
        if self.free_text.isChecked():
            return PrescriptionLine(
                kind=LineKind.FREE_TEXT,
                text=self.text.toPlainText().strip(),
                renewals=self.renewals.value(),
                zone=zone,
            )
        code = self.substitution.currentData()
        return PrescriptionLine(
            dci=self.dci.text().strip(),
            strength=self.strength.text().strip(),
            form=self.form.text().strip(),
            route=self.route.text().strip(),
            dosage=self.dosage.text().strip(),
            duration=self.duration.text().strip() or None,
            quantity=self.quantity.value() or None,
            renewals=self.renewals.value(),
            non_substitutable=code or None,
            zone=zone,
        )

    def load(self, line: PrescriptionLine) -> None:
        free = line.kind is LineKind.FREE_TEXT
        self.free_text.setChecked(free)
        self.text.setPlainText(line.text if free else "")
        self.dci.setText(line.dci)
        self.strength.setText(line.strength)
        self.form.setText(line.form)
        self.route.setText(line.route)
        self.dosage.setText(line.dosage)
        self.duration.setText(line.duration or "")
        self.quantity.setValue(line.quantity or 0)
        code = line.non_substitution.value if line.non_substitution else ""
        self.substitution.setCurrentIndex(max(0, self.substitution.findData(code)))
        self.renewals.setValue(line.renewals)
        self.zone.setCurrentIndex(max(0, self.zone.findData(line.zone.value)))

    def clear(self) -> None:
        self.load(PrescriptionLine())
        self.dci.setFocus()

    def apply_hit(self, hit: MedicineHit) -> None:
        """The DCI wording proposed by the BDPM replaces what was typed."""
        self.dci.setText(hit.dci)
        self.strength.setText(hit.strength)
        self.form.setText(hit.form)
        if hit.routes and "," not in hit.routes:
            self.route.setText(hit.routes)
        self.dosage.setFocus()


class PrescriptionEditor(QWidget):
    """Writes one prescription for ``patient_id``; emits ``issued`` with the stored id."""

    issued = Signal(str)

    def __init__(
        self,
        ctx: AreaContext,
        patient_id: str,
        consultation_id: str | None = None,
        show_banner: bool = True,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._patient_id = patient_id
        self._consultation_id = consultation_id
        self._lines: list[PrescriptionLine] = []
        self._renews_id: str | None = None
        self._hits: dict[str, MedicineHit] = {}
        self._templates: list[rx.TemplateView] = []
        self._issued_id: str | None = None
        self._checks: dict[PrescriptionLine, pa.LineAllergyCheck] = {}
        self.confirm_dialog: AllergyConfirmDialog | None = None
        self.context: rx.PrescribingContext | None = None

        self.header = QLabel(self)
        self.header.setObjectName("pageTitle")
        # The clinical page shows its own banner above the tabs; elsewhere (Impressions)
        # the editor carries it.
        self.banner = AllergyBanner(self)
        self.banner.setVisible(show_banner)
        self.uncoded_label = QLabel(self)
        self.uncoded_label.setObjectName("allergyUncoded")
        self.uncoded_label.setWordWrap(True)
        self.uncoded_label.setStyleSheet("QLabel { color: #8a4b00; font-weight: 600; }")
        self.uncoded_label.hide()
        self.ald_label = QLabel(self)
        self.ald_label.setWordWrap(True)
        self.bizone = QCheckBox(self.tr("Ordonnance bizone (ALD)"), self)
        self.weight = QDoubleSpinBox(self)
        self.weight.setRange(0, 300)
        self.weight.setDecimals(1)
        self.weight.setSuffix(" kg")
        self.weight.setSpecialValueText(self.tr("non renseigné"))
        self.page_size = QComboBox(self)
        self.page_size.addItem("A5", "A5")
        self.page_size.addItem("A4", "A4")
        top = QHBoxLayout()
        top.addWidget(self.bizone)
        top.addStretch(1)
        top.addWidget(QLabel(self.tr("Poids :"), self))
        top.addWidget(self.weight)
        top.addWidget(QLabel(self.tr("Format :"), self))
        top.addWidget(self.page_size)

        self.lines_list = QListWidget(self)
        self.lines_list.setAlternatingRowColors(True)
        self.allergy_status = QLabel(self)
        self.allergy_status.setObjectName("allergyStatus")
        self.allergy_status.setWordWrap(True)
        self.form = LineForm(self)
        self.form_warning = QLabel(self)
        self.form_warning.setObjectName("allergyFormWarning")
        self.form_warning.setWordWrap(True)
        self.form_warning.setStyleSheet(_WARNING_STYLE)
        self.form_warning.hide()
        self.confirm_button = QPushButton(self.tr("Prescrire malgré l'allergie…"), self)
        self.confirm_button.setEnabled(False)
        self.add_button = QPushButton(self.tr("Ajouter la ligne"), self)
        self.replace_button = QPushButton(self.tr("Remplacer la ligne"), self)
        self.remove_button = QPushButton(self.tr("Supprimer la ligne"), self)
        self.up_button = QPushButton(self.tr("Monter"), self)
        self.down_button = QPushButton(self.tr("Descendre"), self)
        line_buttons = QHBoxLayout()
        for button in (self.add_button, self.replace_button, self.remove_button):
            line_buttons.addWidget(button)
        line_buttons.addWidget(self.confirm_button)
        line_buttons.addStretch(1)
        line_buttons.addWidget(self.up_button)
        line_buttons.addWidget(self.down_button)

        self.templates = QComboBox(self)
        self.apply_template_button = QPushButton(self.tr("Appliquer le modèle"), self)
        self.save_template_button = QPushButton(self.tr("Enregistrer comme modèle…"), self)
        self.previous = QComboBox(self)
        self.renew_button = QPushButton(self.tr("Renouveler"), self)
        self.reprint_button = QPushButton(self.tr("Revoir / réimprimer…"), self)
        self.reprint_button.setToolTip(
            self.tr("L'ordonnance telle qu'elle a été imprimée, à réimprimer à l'identique")
        )
        # Long names (a previous prescription's first line) must not widen the window.
        for combo in (self.templates, self.previous):
            compact_combo(combo, 24)
        reuse = QGridLayout()
        reuse.addWidget(QLabel(self.tr("Modèles :"), self), 0, 0)
        reuse.addWidget(self.templates, 0, 1)
        reuse.addWidget(self.apply_template_button, 0, 2)
        reuse.addWidget(self.save_template_button, 0, 3)
        reuse.addWidget(QLabel(self.tr("Précédentes :"), self), 1, 0)
        reuse.addWidget(self.previous, 1, 1)
        reuse.addWidget(self.renew_button, 1, 2)
        reuse.addWidget(self.reprint_button, 1, 3)
        reuse.setColumnStretch(1, 1)

        self.error_label = ErrorLabel(self)
        self.print_button = QPushButton(self.tr("Aperçu et impression…"), self)
        self.print_button.setDefault(True)
        # The line's buttons and the print button stay in view under the scrolled form.
        bottom = QHBoxLayout()
        bottom.addLayout(line_buttons, 1)
        bottom.addSpacing(16)
        bottom.addWidget(self.print_button)

        # The lines and the line being typed scroll; the print button stays in view.
        body = QWidget(self)
        body_box = QVBoxLayout(body)
        body_box.setContentsMargins(0, 0, 0, 0)
        body_box.addWidget(self.ald_label)
        body_box.addLayout(top)
        body_box.addLayout(reuse)
        body_box.addWidget(self.lines_list, 1)
        body_box.addWidget(self.allergy_status)
        body_box.addWidget(self.form)
        body_box.addWidget(self.form_warning)
        self.lines_list.setMinimumHeight(90)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)

        box = QVBoxLayout(self)
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(self.header)
        # The allergy banner and the « non codée » notice stay in view above the scrolled form.
        box.addWidget(self.banner)
        box.addWidget(self.uncoded_label)
        box.addWidget(scroll, 1)
        box.addWidget(self.error_label)
        box.addLayout(bottom)

        self._completions = QStringListModel(self)
        self.completer = QCompleter(self._completions, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.form.dci.setCompleter(self.completer)
        self.form.dci.textEdited.connect(self._search)
        self.form.dci.textEdited.connect(lambda _t: self.form_warning.hide())
        self.form.dci.editingFinished.connect(self.check_form_line)
        self.completer.activated.connect(self._completed)
        self.confirm_button.clicked.connect(self.confirm_selected)

        self.add_button.clicked.connect(self.add_line)
        self.replace_button.clicked.connect(self.replace_line)
        self.remove_button.clicked.connect(self.remove_line)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.lines_list.currentRowChanged.connect(self._row_selected)
        self.lines_list.itemActivated.connect(lambda _item: self.form.dosage.setFocus())
        self.bizone.toggled.connect(self._bizone_toggled)
        self.apply_template_button.clicked.connect(self.apply_template)
        self.save_template_button.clicked.connect(self.ask_template_name)
        self.renew_button.clicked.connect(self.renew_selected)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self.print_button.clicked.connect(self.preview)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.add_line)
        QShortcut(QKeySequence.StandardKey.Print, self, self.preview)
        self._refresh_lines()
        self.reload()

    # --- loading ---

    @property
    def runner(self) -> Any:
        return self._ctx.runner

    def _call(self, fn: Any, *args: Any) -> Any:
        ws, actor = self._ctx.workspace, self._ctx.actor
        return lambda: fn(ws, actor, *args)

    def reload(self) -> None:
        self.runner.run_write(
            self._call(rx.prescribing_context, self._patient_id), self._context_loaded, self._error
        )
        self._load_templates()
        self.runner.run_read(
            self._call(rx.list_prescriptions, self._patient_id), self._previous_loaded, self._error
        )

    def _context_loaded(self, ctx: rx.PrescribingContext) -> None:
        self.context = ctx
        self.header.setText(self.tr("Ordonnance — ") + f"{ctx.display_name} ({ctx.age_years} ans)")
        if ctx.has_ald:
            self.ald_label.setText(self.tr("ALD : ") + ", ".join(ctx.ald_labels))
        else:
            self.ald_label.setText(self.tr("Pas d'affection de longue durée : ordonnance simple."))
        self.banner.set_allergies(ctx.allergies, ctx.allergy_status)
        self.uncoded_label.setText("\n".join(f"⚠ {text}" for text in ctx.uncoded_allergies))
        self.uncoded_label.setVisible(bool(ctx.uncoded_allergies))
        # « bizone ALD » is offered only to a prescriber with the right (the service refuses
        # the form otherwise) and for a patient in ALD.
        offered = ctx.has_ald and ctx.may_prescribe_bizone
        self.bizone.setEnabled(offered)
        self.bizone.setToolTip(
            ""
            if ctx.may_prescribe_bizone
            else self.tr(
                "Votre compte n'a pas le droit de prescrire sur une ordonnance bizone (ALD) : "
                "demandez-le à l'administrateur du centre."
            )
        )
        if not offered:
            self.bizone.setChecked(False)
        elif not self._lines and self._renews_id is None:
            # A patient in ALD gets the bizone form; each line's zone is chosen as before.
            self.bizone.setChecked(True)
        self.weight.setValue(ctx.latest_weight_kg or 0)
        self._bizone_toggled(self.bizone.isChecked())

    def _load_templates(self) -> None:
        self.runner.run_read(self._call(rx.list_templates), self._templates_loaded, self._error)

    def _templates_loaded(self, templates: list[rx.TemplateView]) -> None:
        self._templates = templates
        self.templates.clear()
        for template in templates:
            self.templates.addItem(template.name, template.id)
        self.apply_template_button.setEnabled(bool(templates))

    def _previous_loaded(self, previous: list[rx.PrescriptionSummary]) -> None:
        self.previous.clear()
        for item in previous:
            self.previous.addItem(f"{item.issued_on:%d/%m/%Y} — {item.summary}", item.id)
        self.renew_button.setEnabled(bool(previous))
        self.reprint_button.setEnabled(bool(previous))

    def _error(self, message: str) -> None:
        self.error_label.show_message(message)

    # --- completion from the BDPM ---

    def _search(self, text: str) -> None:
        if len(text.strip()) < 2:
            return
        self.runner.run_read(
            self._call(medicines.search_medicines, text, 15), self._show_hits, lambda _m: None
        )

    def _show_hits(self, hits: list[MedicineHit]) -> None:
        self._hits = {}
        for hit in hits:
            shown = (
                hit.label
                if hit.name.upper().startswith(hit.dci.upper())
                else (f"{hit.label}  ({hit.name})")
            )
            self._hits[shown] = hit
        self._completions.setStringList(list(self._hits))
        if self._hits and self.form.dci.hasFocus():
            self.completer.complete()

    def _completed(self, shown: str) -> None:
        hit = self._hits.get(shown)
        if hit is not None:
            self.form.apply_hit(hit)
            self.check_form_line()

    def check_form_line(self) -> None:
        """Warn as soon as the medicine being written matches an allergy (before « Ajouter »)."""
        line = self.form.line()
        if line.kind is not LineKind.MEDICINE or not line.dci:
            self.form_warning.hide()
            return
        self.runner.run_read(
            self._call(pa.check_lines, self._patient_id, (line,)),
            lambda checks: self._form_checked(line.dci, checks),
            self._error,
        )

    def _form_checked(self, dci: str, checks: tuple[pa.LineAllergyCheck, ...]) -> None:
        if dci != self.form.line().dci:
            return  # typed on since
        matches = checks[0].matches if checks else ()
        self.form_warning.setText("\n".join(f"⚠ {m.message}" for m in matches))
        self.form_warning.setVisible(bool(matches))

    def completion_texts(self) -> list[str]:
        return list(self._completions.stringList())

    # --- lines ---

    def lines(self) -> tuple[PrescriptionLine, ...]:
        return tuple(self._lines)

    def set_lines(self, lines: tuple[PrescriptionLine, ...]) -> None:
        self._lines = list(lines)
        self._issued_id = None
        self._refresh_lines()
        self._recheck(ask=True)

    # --- allergy check ---

    def check_of(self, row: int) -> pa.LineAllergyCheck | None:
        if 0 <= row < len(self._lines):
            return self._checks.get(self._lines[row])
        return None

    def _recheck(self, ask: bool = False) -> None:
        """Check every line again (an allergy may have been recorded meanwhile); with
        ``ask``, open the confirmation of the first blocked line."""
        lines = self.lines()
        if not lines:
            self._checks = {}
            self._show_allergy_status()
            return
        self.runner.run_read(
            self._call(pa.check_lines, self._patient_id, lines),
            lambda checks: self._checked(lines, checks, ask),
            self._error,
        )

    def _checked(
        self,
        lines: tuple[PrescriptionLine, ...],
        checks: tuple[pa.LineAllergyCheck, ...],
        ask: bool,
    ) -> None:
        self._checks = dict(zip(lines, checks, strict=True))
        row = self.lines_list.currentRow()
        self.lines_list.blockSignals(True)
        self._refresh_lines()
        if 0 <= row < len(self._lines):
            self.lines_list.setCurrentRow(row)
        self.lines_list.blockSignals(False)
        check = self.check_of(row)
        self.confirm_button.setEnabled(check is not None and check.blocked)
        self._show_allergy_status()
        if ask:
            blocked = self.blocked_rows()
            if blocked and self.confirm_dialog is None:
                # Select the held line without loading it into the form being typed.
                self.lines_list.blockSignals(True)
                self.lines_list.setCurrentRow(blocked[0])
                self.lines_list.blockSignals(False)
                self.confirm_button.setEnabled(True)
                self.confirm_selected()

    def blocked_rows(self) -> list[int]:
        return [row for row in range(len(self._lines)) if (c := self.check_of(row)) and c.blocked]

    def _show_allergy_status(self) -> None:
        if not self._lines:
            self.allergy_status.clear()
            self.allergy_status.setStyleSheet("")
            return
        notes: list[str] = []
        blocked = self.blocked_rows()
        for row in blocked:
            check = self.check_of(row)
            assert check is not None
            for match in check.unconfirmed:
                notes.append(self.tr("⚠ Ligne {0} bloquée — ").format(row + 1) + match.message)
        if blocked:
            notes.append(
                self.tr(
                    "Retirez la ligne ou choisissez « Prescrire malgré l'allergie… » avec un motif."
                )
            )
        known = [self.check_of(row) for row in range(len(self._lines))]
        if not blocked and all(c is not None for c in known):
            if any(c is not None and c.recorded for c in known):
                notes.append(self.tr("Allergies et intolérances comparées à chaque ligne."))
            else:
                notes.append(
                    self.tr("Aucune allergie ni intolérance enregistrée : rien à comparer.")
                )
        uncoded = next((c.uncoded for c in known if c is not None), ())
        notes += [f"⚠ {text}" for text in uncoded]
        self.allergy_status.setText("\n".join(notes))
        self.allergy_status.setStyleSheet(_WARNING_STYLE if blocked else "")

    def confirm_selected(self) -> None:
        row = self.lines_list.currentRow()
        check = self.check_of(row)
        if check is None or not check.blocked:
            return
        line = self._lines[row]
        dialog = AllergyConfirmDialog(describe(line), check.unconfirmed, self)
        dialog.sig_confirmed.connect(lambda reason: self._confirm(line, reason))
        dialog.rejected.connect(lambda: self._drop(line))
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))
        self.confirm_dialog = dialog
        dialog.open()

    def _dialog_closed(self, dialog: AllergyConfirmDialog) -> None:
        if self.confirm_dialog is dialog:
            self.confirm_dialog = None

    def _confirm(self, line: PrescriptionLine, reason: str) -> None:
        dialog = self.confirm_dialog
        self.runner.run_write(
            self._call(pa.confirm_despite_allergy, self._patient_id, line, reason),
            lambda confirmed: self._confirmed(line, confirmed),
            dialog.show_error if dialog is not None else self._error,
        )

    def _confirmed(self, line: PrescriptionLine, confirmed: PrescriptionLine) -> None:
        if self.confirm_dialog is not None:
            self.confirm_dialog.accept()
        if line in self._lines:
            self._lines[self._lines.index(line)] = confirmed
            self._issued_id = None
        self._refresh_lines()
        self._recheck(ask=True)

    def _drop(self, line: PrescriptionLine) -> None:
        """« Retirer la ligne »: the line matching the allergy leaves the prescription."""
        if line in self._lines:
            self._lines.remove(line)
            self._issued_id = None
        self._refresh_lines()
        self._show_allergy_status()

    def _refresh_lines(self) -> None:
        self.lines_list.clear()
        bizone = self.bizone.isChecked()
        for number, line in enumerate(self._lines, start=1):
            prefix = ""
            if bizone:
                prefix = "[ALD] " if line.zone is Zone.ALD else "[hors ALD] "
            check = self._checks.get(line)
            suffix = ""
            if check is not None and check.blocked:
                prefix = "⚠ ALLERGIE — " + prefix
            elif line.allergy_confirmation is not None and check is not None and check.matches:
                suffix = f" — prescrit malgré l'allergie ({line.allergy_confirmation.reason})"
            item = QListWidgetItem(f"{number}. {prefix}{describe(line)}{suffix}")
            if check is not None and check.blocked:
                item.setForeground(QBrush(QColor("#b00020")))
            self.lines_list.addItem(item)
        has = bool(self._lines)
        for button in (self.replace_button, self.remove_button, self.up_button, self.down_button):
            button.setEnabled(has)
        self.save_template_button.setEnabled(has)

    def _form_line(self) -> PrescriptionLine | None:
        line = self.form.line()
        if not self.bizone.isChecked():
            line = replace(line, zone=Zone.OTHER)
        if line.kind is LineKind.FREE_TEXT and not line.text:
            self._error(self.tr("Saisissez le texte de la ligne."))
            return None
        if line.kind is LineKind.MEDICINE and not line.dci:
            self._error(self.tr("Saisissez le médicament (DCI)."))
            return None
        if line.kind is LineKind.MEDICINE and not line.dosage:
            self._error(self.tr("Saisissez la posologie."))
            return None
        self.error_label.clear_message()
        return line

    def add_line(self) -> None:
        line = self._form_line()
        if line is None:
            return
        self._lines.append(line)
        self._issued_id = None
        self._refresh_lines()
        self.form.clear()
        self.form_warning.hide()
        self._recheck(ask=True)

    def replace_line(self) -> None:
        row = self.lines_list.currentRow()
        line = self._form_line()
        if line is None or not 0 <= row < len(self._lines):
            return
        previous = self._lines[row]
        if previous.dci == line.dci:  # same medicine: the confirmation still applies
            line = replace(line, allergy_confirmation=previous.allergy_confirmation)
        self._lines[row] = line
        self._issued_id = None
        self._refresh_lines()
        self.lines_list.setCurrentRow(row)
        self._recheck(ask=True)

    def remove_line(self) -> None:
        row = self.lines_list.currentRow()
        if 0 <= row < len(self._lines):
            del self._lines[row]
            self._issued_id = None
            self._refresh_lines()
            self._show_allergy_status()

    def _move(self, step: int) -> None:
        row = self.lines_list.currentRow()
        target = row + step
        if 0 <= row < len(self._lines) and 0 <= target < len(self._lines):
            self._lines[row], self._lines[target] = self._lines[target], self._lines[row]
            self._refresh_lines()
            self.lines_list.setCurrentRow(target)

    def _row_selected(self, row: int) -> None:
        if 0 <= row < len(self._lines):
            self.form.load(self._lines[row])
        check = self.check_of(row)
        self.confirm_button.setEnabled(check is not None and check.blocked)

    def _bizone_toggled(self, on: bool) -> None:
        self.form.zone.setEnabled(on)
        self._refresh_lines()

    # --- templates and renewal ---

    def apply_template(self) -> None:
        index = self.templates.currentIndex()
        if 0 <= index < len(self._templates):
            template = self._templates[index]
            offered = (
                self.context is not None
                and self.context.has_ald
                and self.context.may_prescribe_bizone
            )
            self.bizone.setChecked(template.bizone and offered)
            self.set_lines(self._lines_for(template.lines))

    def _lines_for(self, lines: tuple[PrescriptionLine, ...]) -> tuple[PrescriptionLine, ...]:
        if self.bizone.isChecked():
            return lines
        return tuple(replace(line, zone=Zone.OTHER) for line in lines)

    def ask_template_name(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Modèle d'ordonnance"), self.tr("Nom :"))
        if ok:
            self.save_template(name)

    def save_template(self, name: str) -> None:
        self.runner.run_write(
            self._call(rx.save_template, name, self.lines(), self.bizone.isChecked()),
            lambda _t: self._load_templates(),
            self._error,
        )

    def renew_selected(self) -> None:
        prescription_id = self.previous.currentData()
        if prescription_id:
            self.runner.run_read(self._call(rx.renew, prescription_id), self._renewed, self._error)

    def reprint_selected(self) -> None:
        """Preview the selected earlier prescription as stored, to print it again."""
        prescription_id = self.previous.currentData()
        if prescription_id:
            open_stored_prescription(
                self._ctx,
                self,
                str(prescription_id),
                self._error,
                lambda dialog: setattr(self, "preview_dialog", dialog),
            )

    def _renewed(self, draft: rx.PrescriptionDraft) -> None:
        self._renews_id = draft.renews_id
        self.bizone.setChecked(draft.bizone)
        self.page_size.setCurrentIndex(max(0, self.page_size.findData(draft.page_size)))
        self.set_lines(draft.lines)

    # --- preview and print ---

    def draft(self) -> rx.PrescriptionDraft:
        weight = self.weight.value() or None
        return rx.PrescriptionDraft(
            patient_id=self._patient_id,
            lines=self.lines(),
            bizone=self.bizone.isChecked(),
            consultation_id=self._consultation_id,
            renews_id=self._renews_id,
            weight_kg=weight,
            page_size=str(self.page_size.currentData()),
        )

    def preview(self) -> None:
        self.error_label.clear_message()
        self.runner.run_read(self._call(rx.render_draft, self.draft()), self._show, self._error)

    def _show(self, rendered: rx.RenderedPrescription) -> None:
        self._issued_id = None
        self.preview_dialog = preview_pdf(
            self, self.tr("Ordonnance"), rendered.pdf, lambda how: self._printed(rendered, how)
        )

    def _printed(self, rendered: rx.RenderedPrescription, how: str) -> None:
        if self._issued_id is not None:  # printed again from the same preview
            self.runner.run_write(
                self._call(rx.record_reprint, self._issued_id, how), None, self._error
            )
            return
        self.runner.run_write(
            self._call(rx.issue_prescription, rendered.draft, how), self._stored, self._error
        )

    def _stored(self, issued: rx.IssuedPrescription) -> None:
        self._issued_id = issued.id
        self.issued.emit(issued.id)
        self.runner.run_read(
            self._call(rx.list_prescriptions, self._patient_id), self._previous_loaded, self._error
        )
