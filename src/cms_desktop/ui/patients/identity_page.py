"""The « Identité et couverture » page: every identity, contact, GP, coverage and ALD field.

Saving goes through the services (validation messages shown above the form, nothing lost
of what was typed); a suspected duplicate opens the duplicate dialog.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.identity import DOCUMENT_LABELS, SEX_LABELS, IdentityDocument, Sex
from cms_desktop.domain.permissions import Permission
from cms_desktop.services import patients, users
from cms_desktop.services.patient_form import AldForm, PatientForm
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.patients.dialogs import DuplicateDialog, MergeDialog
from cms_desktop.ui.widgets import ErrorLabel

STATUS_CHOICES = (("provisional", "Identité provisoire"), ("validated", "Identité validée"))
SCHEMES = (
    "",
    "Régime général",
    "Régime local Alsace-Moselle",
    "MSA (agricole)",
    "Régime des fonctionnaires",
    "Étudiant",
    "Autre régime",
)
# (form field, label, placeholder) of the plain text fields, by group.
IDENTITY_FIELDS = (
    ("birth_name", "Nom de naissance *", ""),
    ("used_name", "Nom utilisé", ""),
    ("first_given_name", "Premier prénom de naissance *", ""),
    ("given_names", "Prénoms de naissance", "tous les prénoms, séparés par des espaces"),
    ("used_given_name", "Prénom utilisé", ""),
    ("birth_date", "Date de naissance *", "jj/mm/aaaa"),
)
BIRTH_FIELDS = (
    ("birth_place_code", "Code INSEE du lieu de naissance", "ex. 75056, 2A004, 99134"),
    ("birth_place_label", "Commune de naissance", ""),
    ("birth_country", "Pays de naissance", "si né(e) à l'étranger"),
)
CONTACT_FIELDS = (
    ("address", "Adresse", ""),
    ("postcode", "Code postal", ""),
    ("city", "Ville", ""),
    ("phone_mobile", "Téléphone portable", "06 12 34 56 78"),
    ("phone_home", "Téléphone fixe", ""),
    ("email", "Courriel", ""),
    ("contact_name", "Personne à prévenir", ""),
    ("contact_relation", "Lien", "ex. fille, conjoint"),
    ("contact_phone", "Téléphone de la personne à prévenir", ""),
)
COVERAGE_FIELDS = (
    ("nir", "NIR (n° de sécurité sociale)", "1 85 05 78 006 084 91"),
    ("c2s_until", "C2S jusqu'au", "jj/mm/aaaa"),
    ("ame_until", "AME jusqu'au", "jj/mm/aaaa"),
    ("complementary_insurer", "Complémentaire santé", ""),
    ("complementary_number", "N° d'adhérent", ""),
    ("complementary_until", "Complémentaire jusqu'au", "jj/mm/aaaa"),
)
ALD_HEADERS = ("Libellé", "N° ALD", "Début", "Fin")
_OUTSIDE = "__outside__"


class IdentityPage(QWidget):
    saved = Signal(str)
    dirty_changed = Signal(bool)
    title_changed = Signal(str)
    open_requested = Signal(str)

    def __init__(
        self, ctx: AreaContext, patient_id: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.patient_id = patient_id
        self.version = ""
        self.dirty = False
        self.title = ""
        self._loading = False
        self.edits: dict[str, QLineEdit] = {}
        self.error_label = ErrorLabel(self)
        self.heading = QLabel(self.tr("Nouveau patient") if patient_id is None else "", self)
        self.heading.setObjectName("pageTitle")
        body = QWidget(self)
        grid = QGridLayout(body)
        grid.addWidget(self._identity_group(body), 0, 0, 2, 1)
        grid.addWidget(self._contact_group(body), 0, 1)
        grid.addWidget(self._gp_group(body), 1, 1)
        grid.addWidget(self._coverage_group(body), 2, 0)
        grid.addWidget(self._ald_group(body), 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.save_button = QPushButton(self.tr("Enregistrer (Ctrl+S)"), self)
        self.save_button.setDefault(True)
        # Not connected to save() directly: clicked(bool) would land in ``confirmed``.
        self.save_button.clicked.connect(self._save_clicked)
        self.merge_button = QPushButton(self.tr("Fusionner…"), self)
        self.merge_button.setToolTip(
            self.tr("Fusionner un doublon dans ce dossier (directeur médical)")
        )
        self.merge_button.clicked.connect(self.merge)
        self.merge_button.setVisible(
            ctx.actor.can(Permission.PATIENT_MERGE) and patient_id is not None
        )
        bar = QHBoxLayout()
        bar.addWidget(self.merge_button)
        bar.addStretch(1)
        bar.addWidget(self.save_button)
        box = QVBoxLayout(self)
        box.addWidget(self.heading)
        box.addWidget(self.error_label)
        box.addWidget(scroll, 1)
        box.addLayout(bar)
        shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self._save_clicked)
        coverage_editable = ctx.actor.can(Permission.PATIENT_COVERAGE_WRITE)
        for name, _label, _hint in COVERAGE_FIELDS:
            self.edits[name].setReadOnly(not coverage_editable)
        self.scheme.setEnabled(coverage_editable)
        # An ALD's label and number name a disease (#17): typed by a clinician (on a row
        # reception recorded), hidden from reception; its dates are reception's.
        self._ald_dates_editable = coverage_editable
        self._ald_label_editable = ctx.actor.can(Permission.CLINICAL_WRITE)
        self.ald_table.setEnabled(coverage_editable or self._ald_label_editable)
        self._ald_add.setEnabled(coverage_editable)
        self._ald_remove.setEnabled(coverage_editable)
        self.setFocusProxy(self.edits["birth_name"])
        self._load_practitioners()
        if patient_id is not None:
            self.reload()

    # -- building ---------------------------------------------------------------------------
    def _line(self, form: QFormLayout, name: str, label: str, hint: str) -> None:
        edit = QLineEdit(self)
        edit.setPlaceholderText(hint)
        edit.textEdited.connect(self._touched)
        self.edits[name] = edit
        form.addRow(label, edit)

    def _group(self, title: str, parent: QWidget) -> tuple[QGroupBox, QFormLayout]:
        group = QGroupBox(title, parent)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return group, form

    def _combo(self, items: Any, form: QFormLayout, label: str) -> QComboBox:
        combo = QComboBox(self)
        for value, text in items:
            combo.addItem(text, value)
        combo.activated.connect(self._touched)
        form.addRow(label, combo)
        return combo

    def _identity_group(self, parent: QWidget) -> QGroupBox:
        group, form = self._group(self.tr("Identité"), parent)
        for name, label, hint in IDENTITY_FIELDS:
            self._line(form, name, label, hint)
        self.sex = self._combo([(s.value, SEX_LABELS[s]) for s in Sex], form, "Sexe *")
        # No default sex: a new patient's is chosen, not left at the first item.
        self.sex.setPlaceholderText(self.tr("— à choisir —"))
        self.sex.setCurrentIndex(-1)
        for name, label, hint in BIRTH_FIELDS:
            self._line(form, name, label, hint)
        self.status = self._combo(STATUS_CHOICES, form, "Statut de l'identité")
        self.document = self._combo(
            [("", "—")] + [(d.value, DOCUMENT_LABELS[d]) for d in IdentityDocument],
            form,
            "Document présenté",
        )
        self._line(form, "identity_checked_on", "Vérifiée le", "jj/mm/aaaa")
        return group

    def _contact_group(self, parent: QWidget) -> QGroupBox:
        group, form = self._group(self.tr("Coordonnées"), parent)
        for name, label, hint in CONTACT_FIELDS:
            self._line(form, name, label, hint)
        return group

    def _gp_group(self, parent: QWidget) -> QGroupBox:
        group, form = self._group(self.tr("Médecin traitant"), parent)
        self.gp = QComboBox(self)
        self.gp.addItem("—", None)
        self.gp.activated.connect(self._touched)
        self.gp.currentIndexChanged.connect(self._gp_changed)
        form.addRow(self.tr("Médecin traitant"), self.gp)
        self._line(form, "gp_outside_name", "Médecin extérieur", "Dr Nom, ville")
        # A patient without a médecin traitant at the centre can wait for one.
        self.waiting_list_button = QPushButton(
            self.tr("Inscrire sur la liste d'attente médecin traitant"), group
        )
        self.waiting_list_button.clicked.connect(self.register_on_waiting_list)
        self.waiting_list_label = QLabel(group)
        self.waiting_list_label.setObjectName("hint")
        self.waiting_list_label.setWordWrap(True)
        form.addRow("", self.waiting_list_button)
        form.addRow("", self.waiting_list_label)
        self.waiting_list_button.setVisible(False)
        return group

    def _update_waiting_list_button(self) -> None:
        self.waiting_list_button.setVisible(
            self.patient_id is not None
            and self._ctx.actor.can(Permission.AGENDA_WRITE)
            and self.gp.currentData() is None
        )

    def register_on_waiting_list(self) -> None:
        from cms_desktop.services.agenda import waiting_list

        if self.patient_id is None:
            return
        ws, actor, pid = self._ctx.workspace, self._ctx.actor, self.patient_id
        self._ctx.runner.run_write(
            lambda: waiting_list.register_patient(ws, actor, pid),
            self._registered,
            self.error_label.show_message,
        )

    def _registered(self, entry: object) -> None:
        registered_on = getattr(entry, "registered_on", None)
        when = f" le {registered_on:%d/%m/%Y}" if registered_on is not None else ""
        self.error_label.clear_message()
        self.waiting_list_label.setText(
            self.tr("Inscrit(e) sur la liste d'attente médecin traitant%1.").replace("%1", when)
        )

    def _coverage_group(self, parent: QWidget) -> QGroupBox:
        group, form = self._group(self.tr("Couverture sociale"), parent)
        self._line(form, *COVERAGE_FIELDS[0])
        self.nir_checked = QCheckBox(self.tr("NIR vérifié (même s'il ne correspond pas)"), self)
        self.nir_checked.toggled.connect(self._touched)
        form.addRow("", self.nir_checked)
        self.scheme = QComboBox(self)
        self.scheme.setEditable(True)
        self.scheme.addItems(SCHEMES)
        self.scheme.editTextChanged.connect(self._touched)
        form.addRow(self.tr("Régime"), self.scheme)
        for name, label, hint in COVERAGE_FIELDS[1:]:
            self._line(form, name, label, hint)
        return group

    def _ald_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Affections de longue durée (ALD)"), parent)
        self.ald_table = QTableWidget(0, len(ALD_HEADERS), group)
        self.ald_table.setHorizontalHeaderLabels(ALD_HEADERS)
        self.ald_table.verticalHeader().hide()
        self.ald_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.ald_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.ald_table.itemChanged.connect(self._touched)
        add = self._ald_add = QPushButton(self.tr("Ajouter une ALD"), group)
        add.clicked.connect(lambda: self._add_ald_row(AldForm("")))
        remove = self._ald_remove = QPushButton(self.tr("Retirer la ligne"), group)
        remove.clicked.connect(self._remove_ald_row)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box = QVBoxLayout(group)
        box.addWidget(self.ald_table)
        box.addLayout(buttons)
        hint = QLabel(
            self.tr(
                "Dates jj/mm/aaaa ; une ALD terminée garde sa date de fin. Libellé et n° : "
                "saisis par un soignant."
            ),
            group,
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        box.addWidget(hint)
        return group

    def _add_ald_row(self, ald: AldForm) -> None:
        row = self.ald_table.rowCount()
        self.ald_table.insertRow(row)
        label = self.tr("(réservé aux soignants)") if ald.hidden else ald.label
        for column, value in enumerate((label, ald.code, ald.start_date, ald.end_date)):
            item = QTableWidgetItem(value)
            if column == 0:
                item.setData(Qt.ItemDataRole.UserRole, ald.id)
                item.setData(Qt.ItemDataRole.UserRole + 1, ald.hidden)
            if column >= 2:
                editable = self._ald_dates_editable
            else:  # the label and number: a clinician's, and only where they can be read
                editable = self._ald_label_editable and not ald.hidden
            if not editable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.ald_table.setItem(row, column, item)
        self._touched()

    def _remove_ald_row(self) -> None:
        rows = sorted({i.row() for i in self.ald_table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.ald_table.removeRow(row)
        if rows:
            self._touched()

    # -- state ------------------------------------------------------------------------------
    def _touched(self, *_args: object) -> None:
        if self._loading or self.dirty:
            return
        self.dirty = True
        self.dirty_changed.emit(True)

    def _set_clean(self) -> None:
        if self.dirty:
            self.dirty = False
            self.dirty_changed.emit(False)

    def _gp_changed(self) -> None:
        self.edits["gp_outside_name"].setEnabled(self.gp.currentData() is None)

    def _load_practitioners(self) -> None:
        ws = self._ctx.workspace

        def fill(found: list[users.UserInfo]) -> None:
            current = self.gp.currentData()
            for info in found:
                self.gp.addItem(info.full_name, info.id)
            self._select(self.gp, current)

        self._ctx.runner.run_read(lambda: users.list_practitioners(ws), fill)

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    def reload(self) -> None:
        if self.patient_id is None:
            return
        ws, actor, pid = self._ctx.workspace, self._ctx.actor, self.patient_id
        self._ctx.runner.run_read(
            lambda: patients.get_patient(ws, actor, pid), self.show_view, self._failed
        )

    def show_view(self, view: patients.PatientView) -> None:
        self._loading = True
        try:
            self.patient_id, self.version = view.id, view.version
            self.fill_form(view.form)
            self.heading.setText(
                f"{view.display_name} — {view.birth_date:%d/%m/%Y} ({view.age} ans)"
            )
        finally:
            self._loading = False
        self.merge_button.setVisible(self._ctx.actor.can(Permission.PATIENT_MERGE))
        self._update_waiting_list_button()
        self.error_label.clear_message()
        self._set_clean()
        self.title = view.display_name
        self.title_changed.emit(view.display_name)

    def fill_form(self, form: PatientForm) -> None:
        for name, edit in self.edits.items():
            edit.setText(str(getattr(form, name) or ""))
        self._select(self.sex, form.sex)
        self._select(self.status, form.identity_status)
        self._select(self.document, form.identity_document)
        self._select(self.gp, form.gp_user_id)
        self.scheme.setEditText(form.scheme)
        self.nir_checked.setChecked(form.nir_mismatch_confirmed)
        self.ald_table.setRowCount(0)
        for ald in form.alds:
            self._add_ald_row(ald)

    def current_form(self) -> PatientForm:
        values: dict[str, Any] = {name: edit.text() for name, edit in self.edits.items()}
        values.update(
            sex=self.sex.currentData() or "",
            identity_status=self.status.currentData() or "provisional",
            identity_document=self.document.currentData() or "",
            gp_user_id=self.gp.currentData(),
            scheme=self.scheme.currentText(),
            nir_mismatch_confirmed=self.nir_checked.isChecked(),
            alds=tuple(self._ald_rows()),
        )
        if values["gp_user_id"] is not None:
            values["gp_outside_name"] = ""
        known = {f.name for f in fields(PatientForm)}
        return PatientForm(**{k: v for k, v in values.items() if k in known})

    def _ald_rows(self) -> list[AldForm]:
        rows = []
        for row in range(self.ald_table.rowCount()):
            items = [self.ald_table.item(row, c) for c in range(len(ALD_HEADERS))]
            label, code, start, end = (item.text() if item else "" for item in items)
            first = items[0]
            ald_id = first.data(Qt.ItemDataRole.UserRole) if first else None
            hidden = bool(first.data(Qt.ItemDataRole.UserRole + 1)) if first else False
            if hidden:
                rows.append(AldForm("", "", start, end, id=ald_id, hidden=True))
            elif any(cell.strip() for cell in (label, code, start, end)):
                rows.append(AldForm(label, code, start, end, id=ald_id))
        return rows

    # -- actions ----------------------------------------------------------------------------
    def _save_clicked(self) -> None:
        self.save()

    def save(self, confirmed: tuple[str, ...] = ()) -> None:
        form = self.current_form()
        ws, actor, pid, version = (
            self._ctx.workspace,
            self._ctx.actor,
            self.patient_id,
            self.version,
        )

        def call() -> object:
            try:
                if pid is None:
                    return patients.create_patient(ws, actor, form, confirmed)
                patients.update_patient(ws, actor, pid, form, version, confirmed)
                return pid
            except patients.DuplicateSuspected as suspected:
                return suspected  # the user chooses: handled on the UI thread

        self.save_button.setEnabled(False)
        self._ctx.runner.run_write(call, self._saved, self._failed)

    def _saved(self, result: object) -> None:
        self.save_button.setEnabled(True)
        if isinstance(result, patients.DuplicateSuspected):
            self.error_label.show_message(
                self.tr("Doublon possible : choisissez dans la fenêtre ouverte.")
            )
            self.ask_duplicates(result)
            return
        assert isinstance(result, str)
        self.patient_id = result
        self._set_clean()
        self.saved.emit(result)
        self.reload()

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.error_label.show_message(message)

    def ask_duplicates(self, suspected: patients.DuplicateSuspected) -> None:
        dialog = DuplicateDialog(list(suspected.candidates), self)
        self.duplicate_dialog = dialog
        dialog.open_chosen.connect(self.open_requested)
        dialog.create_anyway.connect(lambda: self.save(tuple(c.id for c in suspected.candidates)))
        dialog.open()

    def merge(self) -> None:
        if self.patient_id is None:
            return
        dialog = MergeDialog(self._ctx, self.patient_id, self)
        self.merge_dialog = dialog
        dialog.merged.connect(self.reload)
        dialog.open()
