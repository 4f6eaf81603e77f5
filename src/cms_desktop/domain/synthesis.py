"""The fiche de synthèse (summary sheet) of a patient: its entries and their validation.

Each entry kind is a frozen dataclass; ``clean()`` returns a checked copy (control characters
dropped, lengths bounded, dates plausible) or raises SynthesisError with a French message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from cms_desktop.domain.prevention import ScreeningKind

__all__ = [
    "ALLERGY_KIND_LABELS",
    "HISTORY_KIND_LABELS",
    "RISK_KIND_LABELS",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "TOBACCO_STATUS_LABELS",
    "Allergy",
    "AllergyKind",
    "EntryStatus",
    "HistoryEntry",
    "HistoryKind",
    "LongTermTreatment",
    "Problem",
    "RiskFactor",
    "RiskKind",
    "ScreeningRecord",
    "Severity",
    "SynthesisEntry",
    "SynthesisError",
    "TobaccoStatus",
    "Vaccination",
    "clean_text",
    "normalize_diagnosis_code",
]

SHORT_TEXT = 200
LONG_TEXT = 4000


class SynthesisError(ValueError):
    """An entry that cannot be recorded; ``str()`` is a French message for the user."""


class HistoryKind(StrEnum):
    MEDICAL = "medical"
    SURGICAL = "surgical"
    FAMILY = "family"
    OBSTETRIC = "obstetric"


HISTORY_KIND_LABELS = {
    HistoryKind.MEDICAL: "Médical",
    HistoryKind.SURGICAL: "Chirurgical",
    HistoryKind.FAMILY: "Familial",
    HistoryKind.OBSTETRIC: "Obstétrical",
}


class AllergyKind(StrEnum):
    ALLERGY = "allergy"
    INTOLERANCE = "intolerance"


ALLERGY_KIND_LABELS = {AllergyKind.ALLERGY: "Allergie", AllergyKind.INTOLERANCE: "Intolérance"}


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    LIFE_THREATENING = "life_threatening"


SEVERITY_LABELS = {
    Severity.MILD: "Légère",
    Severity.MODERATE: "Modérée",
    Severity.SEVERE: "Sévère",
    Severity.LIFE_THREATENING: "Menace le pronostic vital",
}


class EntryStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


STATUS_LABELS = {EntryStatus.ACTIVE: "Actif", EntryStatus.RESOLVED: "Résolu"}


class RiskKind(StrEnum):
    TOBACCO = "tobacco"
    ALCOHOL = "alcohol"
    SEDENTARY = "sedentary"
    OCCUPATIONAL = "occupational"
    OTHER = "other"


RISK_KIND_LABELS = {
    RiskKind.TOBACCO: "Tabac",
    RiskKind.ALCOHOL: "Alcool",
    RiskKind.SEDENTARY: "Sédentarité",
    RiskKind.OCCUPATIONAL: "Exposition professionnelle",
    RiskKind.OTHER: "Autre",
}


class TobaccoStatus(StrEnum):
    NEVER = "never"
    CURRENT = "current"
    FORMER = "former"


TOBACCO_STATUS_LABELS = {
    TobaccoStatus.NEVER: "Non-fumeur",
    TobaccoStatus.CURRENT: "Fumeur actuel",
    TobaccoStatus.FORMER: "Ancien fumeur",
}

# CISP-2 (ICPC-2): chapter letter + two digits (K86). ICD-10 (CIM-10): letter + two digits,
# optionally a dot and up to four more characters (E11.9, S72.00); the dot may be omitted.
_CISP2 = re.compile(r"[A-Z]\d{2}")
_ICD10 = re.compile(r"[A-Z]\d{2}(?:\.?[0-9A-Z]{1,4})?")


def normalize_diagnosis_code(code: str) -> str:
    """Upper-case, trimmed CISP-2 or ICD-10 code ("" allowed); SynthesisError otherwise."""
    cleaned = code.strip().upper().replace(" ", "")
    if not cleaned:
        return ""
    if _CISP2.fullmatch(cleaned) or _ICD10.fullmatch(cleaned):
        return cleaned
    raise SynthesisError(
        f"Le code « {code.strip()[:20]} » n'est ni un code CISP-2 (ex. K86) "
        "ni un code CIM-10 (ex. E11.9)."
    )


def clean_text(value: str, label: str, limit: int = SHORT_TEXT, required: bool = False) -> str:
    """Drop control characters (keeping line breaks and tabs), bound the length."""
    if len(value) > limit:
        raise SynthesisError(
            f"Le champ « {label} » est trop long ({len(value)} caractères, {limit} au plus)."
        )
    cleaned = "".join(ch for ch in value.replace("\r\n", "\n") if ch in "\n\t" or ch >= " ")
    cleaned = cleaned.strip()
    if required and not cleaned:
        raise SynthesisError(f"Le champ « {label} » est obligatoire.")
    return cleaned


def _past_date(value: date | None, label: str, today: date) -> date | None:
    if value is None:
        return None
    if value > today:
        raise SynthesisError(f"La date « {label} » ({value:%d/%m/%Y}) est dans le futur.")
    if value.year < 1900:
        raise SynthesisError(f"La date « {label} » ({value:%d/%m/%Y}) n'est pas plausible.")
    return value


def _amount(value: float | None, label: str, high: float) -> float | None:
    if value is None:
        return None
    if not 0 <= value <= high:
        raise SynthesisError(f"{label} doit être comprise entre 0 et {high:g}.")
    return value


@dataclass(frozen=True)
class HistoryEntry:
    """A medical, surgical, family or obstetric history item; dated by day or by year."""

    kind: HistoryKind
    label: str
    code: str = ""
    on_date: date | None = None
    year: int | None = None
    note: str = ""

    def clean(self, today: date) -> HistoryEntry:
        if self.year is not None and not 1900 <= self.year <= today.year:
            raise SynthesisError(f"L'année {self.year} n'est pas plausible.")
        return replace(
            self,
            kind=HistoryKind(self.kind),
            label=clean_text(self.label, "Libellé", required=True),
            code=normalize_diagnosis_code(self.code),
            on_date=_past_date(self.on_date, "Date", today),
            year=self.on_date.year if self.on_date is not None else self.year,
            note=clean_text(self.note, "Note", LONG_TEXT),
        )


@dataclass(frozen=True)
class Allergy:
    substance: str
    kind: AllergyKind = AllergyKind.ALLERGY
    reaction: str = ""
    severity: Severity = Severity.MODERATE
    status: EntryStatus = EntryStatus.ACTIVE
    note: str = ""

    def clean(self, today: date) -> Allergy:
        return replace(
            self,
            substance=clean_text(self.substance, "Substance ou agent", required=True),
            kind=AllergyKind(self.kind),
            reaction=clean_text(self.reaction, "Réaction"),
            severity=Severity(self.severity),
            status=EntryStatus(self.status),
            note=clean_text(self.note, "Note", LONG_TEXT),
        )


@dataclass(frozen=True)
class LongTermTreatment:
    """A long-term medicine, named by its DCI (international non-proprietary name)."""

    medicine: str
    dosage: str = ""
    started_on: date | None = None
    prescriber: str = ""
    active: bool = True

    def clean(self, today: date) -> LongTermTreatment:
        return replace(
            self,
            medicine=clean_text(self.medicine, "Médicament (DCI)", required=True),
            dosage=clean_text(self.dosage, "Posologie"),
            started_on=_past_date(self.started_on, "Début", today),
            prescriber=clean_text(self.prescriber, "Prescripteur"),
        )


@dataclass(frozen=True)
class Vaccination:
    vaccine: str
    given_on: date
    lot: str = ""
    dose: str = ""
    given_by: str = ""

    def clean(self, today: date) -> Vaccination:
        given = _past_date(self.given_on, "Date de vaccination", today)
        assert given is not None
        return replace(
            self,
            vaccine=clean_text(self.vaccine, "Vaccin", required=True),
            given_on=given,
            lot=clean_text(self.lot, "Lot", 50),
            dose=clean_text(self.dose, "Dose / rang", 50),
            given_by=clean_text(self.given_by, "Vaccinateur"),
        )


@dataclass(frozen=True)
class RiskFactor:
    """Tobacco (status, pack-years), alcohol (units a week) or another exposure."""

    kind: RiskKind
    status: str = ""
    pack_years: float | None = None
    units_per_week: float | None = None
    note: str = ""

    def clean(self, today: date) -> RiskFactor:
        kind = RiskKind(self.kind)
        status = self.status.strip()
        if kind is RiskKind.TOBACCO:
            if status not in {s.value for s in TobaccoStatus}:
                raise SynthesisError(
                    "Précisez le statut tabagique (non-fumeur, fumeur actuel, ancien fumeur)."
                )
        elif self.pack_years is not None:
            raise SynthesisError("Les paquets-années ne concernent que le tabac.")
        if kind is not RiskKind.ALCOHOL and self.units_per_week is not None:
            raise SynthesisError("Les unités d'alcool par semaine ne concernent que l'alcool.")
        if kind in (RiskKind.OCCUPATIONAL, RiskKind.OTHER) and not self.note.strip():
            raise SynthesisError("Décrivez le facteur de risque dans la note.")
        return replace(
            self,
            kind=kind,
            status=clean_text(status, "Statut", 50),
            pack_years=_amount(self.pack_years, "La consommation (paquets-années)", 200),
            units_per_week=_amount(self.units_per_week, "La consommation (unités/semaine)", 300),
            note=clean_text(self.note, "Note", LONG_TEXT),
        )


@dataclass(frozen=True)
class ScreeningRecord:
    """A screening test done (feeds ``domain.prevention.due_screenings``)."""

    programme: ScreeningKind
    done_on: date
    result: str = ""

    def clean(self, today: date) -> ScreeningRecord:
        done = _past_date(self.done_on, "Date du dépistage", today)
        assert done is not None
        return replace(
            self,
            programme=ScreeningKind(self.programme),
            done_on=done,
            result=clean_text(self.result, "Résultat"),
        )


@dataclass(frozen=True)
class Problem:
    label: str
    code: str = ""
    status: EntryStatus = EntryStatus.ACTIVE
    since: date | None = None

    def clean(self, today: date) -> Problem:
        return replace(
            self,
            label=clean_text(self.label, "Problème", required=True),
            code=normalize_diagnosis_code(self.code),
            status=EntryStatus(self.status),
            since=_past_date(self.since, "Depuis", today),
        )


SynthesisEntry = (
    HistoryEntry
    | Allergy
    | LongTermTreatment
    | Vaccination
    | RiskFactor
    | ScreeningRecord
    | Problem
)
