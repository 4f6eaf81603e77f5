"""Add or edit one entry of the fiche de synthèse: a form built from the section's field list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from cms_desktop.domain.identity import IdentityError, parse_french_date
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.prevention import SCREENING_LABELS, ScreeningKind
from cms_desktop.domain.synthesis import (
    ALLERGY_KIND_LABELS,
    HISTORY_KIND_LABELS,
    RISK_KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TOBACCO_STATUS_LABELS,
    Allergy,
    HistoryEntry,
    HistoryKind,
    LongTermTreatment,
    Problem,
    RiskFactor,
    RiskKind,
    ScreeningRecord,
    Vaccination,
)
from cms_desktop.services import synthesis
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.synthesis import Section
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.record.format import fmt_date, fmt_number, read_number


def _tr(text: str) -> str:
    return QCoreApplication.translate("EntryDialog", text)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text, long, date, year, number, bool, choice
    choices: dict[Any, str] | None = None


SECTION_TITLES = {
    Section.HISTORY: "Antécédents",
    Section.ALLERGIES: "Allergies et intolérances",
    Section.TREATMENTS: "Traitements au long cours",
    Section.VACCINATIONS: "Vaccinations",
    Section.RISK_FACTORS: "Facteurs de risque",
    Section.SCREENINGS: "Dépistages réalisés",
    Section.PROBLEMS: "Liste des problèmes",
}

FORMS: dict[Section, tuple[type[Any], tuple[Field, ...]]] = {
    Section.HISTORY: (
        HistoryEntry,
        (
            Field("kind", "Type", "choice", dict(HISTORY_KIND_LABELS)),
            Field("label", "Libellé", "text"),
            Field("code", "Code CISP-2 / CIM-10", "text"),
            Field("on_date", "Date (jj/mm/aaaa)", "date"),
            Field("year", "ou année", "year"),
            Field("note", "Note", "long"),
        ),
    ),
    Section.ALLERGIES: (
        Allergy,
        (
            Field("substance", "Substance ou agent", "text"),
            Field("kind", "Type", "choice", dict(ALLERGY_KIND_LABELS)),
            Field("reaction", "Réaction", "text"),
            Field("severity", "Sévérité", "choice", dict(SEVERITY_LABELS)),
            Field("status", "Statut", "choice", dict(STATUS_LABELS)),
            Field("note", "Note", "long"),
        ),
    ),
    Section.TREATMENTS: (
        LongTermTreatment,
        (
            Field("medicine", "Médicament (DCI)", "text"),
            Field("dosage", "Posologie", "text"),
            Field("started_on", "Début (jj/mm/aaaa)", "date"),
            Field("prescriber", "Prescripteur", "text"),
            Field("active", "En cours", "bool"),
        ),
    ),
    Section.VACCINATIONS: (
        Vaccination,
        (
            Field("vaccine", "Vaccin", "text"),
            Field("given_on", "Date (jj/mm/aaaa)", "date"),
            Field("lot", "Lot", "text"),
            Field("dose", "Dose / rang", "text"),
            Field("given_by", "Vaccinateur", "text"),
        ),
    ),
    Section.RISK_FACTORS: (
        RiskFactor,
        (
            Field("kind", "Type", "choice", dict(RISK_KIND_LABELS)),
            Field("status", "Statut tabagique", "choice", {"": "—", **TOBACCO_STATUS_LABELS}),
            Field("pack_years", "Paquets-années", "number"),
            Field("units_per_week", "Unités d'alcool / semaine", "number"),
            Field("note", "Note", "long"),
        ),
    ),
    Section.SCREENINGS: (
        ScreeningRecord,
        (
            Field("programme", "Programme", "choice", dict(SCREENING_LABELS)),
            Field("done_on", "Réalisé le (jj/mm/aaaa)", "date"),
            Field("result", "Résultat", "text"),
        ),
    ),
    Section.PROBLEMS: (
        Problem,
        (
            Field("label", "Problème", "text"),
            Field("code", "Code CISP-2 / CIM-10", "text"),
            Field("status", "Statut", "choice", dict(STATUS_LABELS)),
            Field("since", "Depuis (jj/mm/aaaa)", "date"),
        ),
    ),
}

_DEFAULTS: dict[Section, Any] = {
    Section.HISTORY: HistoryEntry(HistoryKind.MEDICAL, ""),
    Section.ALLERGIES: Allergy(""),
    Section.TREATMENTS: LongTermTreatment(""),
    Section.VACCINATIONS: Vaccination("", paris_today()),
    Section.RISK_FACTORS: RiskFactor(RiskKind.TOBACCO),
    Section.SCREENINGS: ScreeningRecord(ScreeningKind.COLORECTAL, paris_today()),
    Section.PROBLEMS: Problem(""),
}


def _read_date(text: str, label: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_french_date(text.strip())
    except IdentityError as exc:
        raise ValidationFailed(f"{label} : {exc}") from None


class EntryDialog(ServiceDialog):
    """Enter validates and saves; the dialog stays open with a French message on errors."""

    def __init__(
        self,
        ctx: AreaContext,
        patient_id: str,
        section: Section,
        entry_id: str | None = None,
        entry: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        title = SECTION_TITLES[section]
        super().__init__(
            _tr(("Modifier — " if entry_id else "Ajouter — ") + title),
            _tr("Enregistrer"),
            ctx.runner,
            parent,
        )
        self._ctx, self._patient_id, self._section, self._entry_id = (
            ctx,
            patient_id,
            section,
            entry_id,
        )
        self._cls, self._fields = FORMS[section]
        self.widgets: dict[str, QWidget] = {}
        current = entry if entry is not None else _DEFAULTS[section]
        for f in self._fields:
            widget = self._widget(f, getattr(current, f.name))
            widget.setObjectName(f.name)
            self.widgets[f.name] = widget
            self.form.addRow(_tr(f.label), widget)
        if self._fields:
            self.widgets[self._fields[0].name].setFocus()

    def _widget(self, f: Field, value: Any) -> QWidget:
        if f.kind == "choice":
            combo = QComboBox(self)
            for code, label in (f.choices or {}).items():
                combo.addItem(label, code)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        if f.kind == "bool":
            box = QCheckBox(self)
            box.setChecked(bool(value))
            return box
        if f.kind == "long":
            text = QPlainTextEdit(self)
            text.setTabChangesFocus(True)
            text.setPlainText(value or "")
            text.setMaximumHeight(90)
            return text
        edit = QLineEdit(self)
        if f.kind == "date":
            edit.setPlaceholderText("jj/mm/aaaa")
            edit.setText(fmt_date(value))
        elif f.kind in ("number", "year"):
            edit.setText(fmt_number(value))
        else:
            edit.setText(value or "")
        return edit

    def entry(self) -> Any:
        values: dict[str, Any] = {}
        for f in self._fields:
            w = self.widgets[f.name]
            if isinstance(w, QComboBox):
                values[f.name] = w.currentData()
            elif isinstance(w, QCheckBox):
                values[f.name] = w.isChecked()
            elif isinstance(w, QPlainTextEdit):
                values[f.name] = w.toPlainText()
            elif isinstance(w, QLineEdit):
                text = w.text()
                if f.kind == "date":
                    values[f.name] = _read_date(text, f.label)
                elif f.kind == "number":
                    values[f.name] = read_number(text, f.label)
                elif f.kind == "year":
                    number = read_number(text, "L'année")
                    values[f.name] = None if number is None else int(number)
                else:
                    values[f.name] = text
        if {"given_on", "done_on"} & values.keys() and None in (
            values.get("given_on", 0),
            values.get("done_on", 0),
        ):
            raise ValidationFailed(_tr("Saisissez la date (jj/mm/aaaa)."))
        known = {f.name for f in fields(self._cls)}
        return replace(_DEFAULTS[self._section], **{k: v for k, v in values.items() if k in known})

    def prepare(self) -> Callable[[], Any]:
        entry = self.entry()
        ctx, pid, entry_id = self._ctx, self._patient_id, self._entry_id
        if entry_id is None:
            return lambda: synthesis.add_entry(ctx.workspace, ctx.actor, pid, entry)
        return lambda: synthesis.update_entry(ctx.workspace, ctx.actor, entry_id, entry)
