"""Prescription (*ordonnance*) lines and the rules a pharmacy checks before dispensing.

Implements the mentions of art. R.5132-3 CSP (DCI since L.5121-1-2), the non-substitution
justifications (MTE, EFG, CIF; art. L.5125-23 CSP, arrêté of 12 November 2019), the bizone ALD
form and, for narcotics, the quantities written in letters (art. R.5132-29 CSP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cms_desktop.domain.allergy_check import AllergyConfirmation

CHILD_AGE_LIMIT = 18  # weight is expected on a child's prescription
EFG_AGE_LIMIT = 6  # EFG justification: child under 6 with no suitable generic form
MAX_WORDS_NUMBER = 999_999


class PrescriptionError(ValueError):
    """A prescription that a pharmacy would refuse; ``str()`` is the French reason."""


class LineKind(StrEnum):
    MEDICINE = "medicine"
    FREE_TEXT = "free_text"  # care, lab test, medical device


class NonSubstitution(StrEnum):
    """Justification that must follow the mention « non substituable »."""

    MTE = "MTE"  # narrow therapeutic margin
    EFG = "EFG"  # child under 6, no generic in a suitable form
    CIF = "CIF"  # formal, documented contra-indication to an excipient


class Zone(StrEnum):
    """Zone of a bizone prescription (*ordonnance bizone*)."""

    ALD = "ald"  # upper zone: treatment of the recognised long-term condition
    OTHER = "other"  # lower zone: unrelated illnesses


@dataclass(frozen=True)
class PrescriptionLine:
    """One line of a prescription: a medicine, or free text (care, lab test, device).

    ``non_substitutable`` is ``None`` for a substitutable medicine; otherwise the
    justification code. A non-empty value that is not one of MTE, EFG, CIF (for instance ``""``
    when the box was ticked without a reason) is kept as given and refused by validation.
    """

    kind: LineKind = LineKind.MEDICINE
    dci: str = ""
    brand: str | None = None
    strength: str = ""
    form: str = ""
    dosage: str = ""
    route: str = ""
    duration: str | None = None
    quantity: int | None = None
    quantity_unit: str = ""
    renewals: int = 0
    non_substitutable: NonSubstitution | str | None = None
    is_narcotic: bool = False
    zone: Zone = Zone.OTHER
    text: str = ""
    # Set when the prescriber kept the line despite a recorded allergy (never printed).
    allergy_confirmation: AllergyConfirmation | None = None

    def __post_init__(self) -> None:
        code = self.non_substitutable
        if isinstance(code, str) and not isinstance(code, NonSubstitution):
            normalised = code.strip().upper()
            if normalised in NonSubstitution.__members__:
                object.__setattr__(self, "non_substitutable", NonSubstitution(normalised))

    @property
    def non_substitution(self) -> NonSubstitution | None:
        """The valid justification, if any."""
        code = self.non_substitutable
        return code if isinstance(code, NonSubstitution) else None


@dataclass(frozen=True)
class Prescription:
    lines: tuple[PrescriptionLine, ...]
    issued_on: date
    bizone: bool = False

    def lines_in(self, zone: Zone) -> tuple[PrescriptionLine, ...]:
        return tuple(line for line in self.lines if line.zone is zone)


def age_in_years(birth_date: date, on: date) -> int:
    """Age in completed years on ``on`` (a person born 29 February ages on 1 March)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_in_months(birth_date: date, on: date) -> int:
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if on.day < birth_date.day:
        months -= 1
    return months


def weight_required(birth_date: date, on: date) -> bool:
    """The weight must be printed on a child's prescription (R.5132-3 CSP)."""
    return age_in_years(birth_date, on) < CHILD_AGE_LIMIT


_DIGIT = re.compile(r"\d")


def _line_errors(
    number: int, line: PrescriptionLine, issued_on: date, birth_date: date | None
) -> str | None:
    prefix = f"Ligne {number} : "
    if line.renewals < 0:
        return prefix + "le nombre de renouvellements ne peut pas être négatif"
    if line.kind is LineKind.FREE_TEXT:
        return None if line.text.strip() else prefix + "texte de la prescription manquant"
    if not line.dci.strip():
        return prefix + "dénomination commune (DCI) manquante"
    if not line.dosage.strip():
        return prefix + "posologie manquante"
    if not (line.duration or "").strip() and line.quantity is None:
        return prefix + "durée du traitement ou nombre d'unités manquant"
    if line.quantity is not None and line.quantity <= 0:
        return prefix + "le nombre d'unités doit être positif"
    if line.non_substitutable is not None:
        code = line.non_substitution
        if code is None:
            return prefix + "« non substituable » exige une justification (MTE, EFG ou CIF)"
        if code is NonSubstitution.EFG:
            if birth_date is None:
                return prefix + "la justification EFG exige la date de naissance du patient"
            if age_in_years(birth_date, issued_on) >= EFG_AGE_LIMIT:
                return prefix + "la justification EFG est réservée aux enfants de moins de 6 ans"
    if line.is_narcotic:
        # R.5132-29 CSP: units per intake, number of intakes and strength in letters.
        if _DIGIT.search(line.dosage):
            return prefix + "stupéfiant : la posologie doit être écrite en toutes lettres"
        if _DIGIT.search(line.strength):
            return prefix + "stupéfiant : le dosage doit être écrit en toutes lettres"
        if line.quantity is not None and line.quantity > MAX_WORDS_NUMBER:
            return prefix + "stupéfiant : quantité trop grande"
    return None


def validate_prescription(
    p: Prescription, patient_has_ald: bool, patient_birth_date: date | None = None
) -> None:
    """Raise :class:`PrescriptionError` with the first French reason the pharmacy would give."""
    if not p.lines:
        raise PrescriptionError("L'ordonnance ne contient aucune ligne")
    if p.bizone and not patient_has_ald:
        raise PrescriptionError(
            "Ordonnance bizone impossible : le patient n'a pas d'affection de longue durée"
        )
    if patient_birth_date is not None and patient_birth_date > p.issued_on:
        raise PrescriptionError("La date de naissance du patient est postérieure à l'ordonnance")
    for number, line in enumerate(p.lines, start=1):
        error = _line_errors(number, line, p.issued_on, patient_birth_date)
        if error is None and not p.bizone and line.zone is Zone.ALD:
            error = (
                f"Ligne {number} : une ligne liée à l'affection de longue durée "
                "exige une ordonnance bizone"
            )
        if error is not None:
            raise PrescriptionError(error)


# --- numbers in letters (traditional spelling, as pharmacists read it) ---

_UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
]
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix…, quatre-vingt-dix…: base 20
        base = "soixante" if tens == 7 else "quatre-vingt"
        rest = 10 + unit
        joiner = " et " if n == 71 else "-"
        return base + joiner + _UNITS[rest]
    if tens == 8:
        return "quatre-vingts" if unit == 0 else "quatre-vingt-" + _UNITS[unit]
    word = _TENS[tens]
    if unit == 0:
        return word
    return word + (" et un" if unit == 1 else "-" + _UNITS[unit])


def _below_1000(n: int, before_mille: bool = False) -> str:
    hundreds, rest = divmod(n, 100)
    parts: list[str] = []
    if hundreds:
        if hundreds == 1:
            parts.append("cent")
        else:
            plural = rest == 0 and not before_mille
            parts.append(_UNITS[hundreds] + (" cents" if plural else " cent"))
    if rest or not hundreds:
        word = _below_100(rest)
        if before_mille and word.endswith("quatre-vingts"):
            word = word[:-1]  # « quatre-vingt mille »
        parts.append(word)
    return " ".join(parts)


def number_in_words(n: int) -> str:
    """French words for 0 ≤ n ≤ 999 999: 21 → « vingt et un », 80 → « quatre-vingts »."""
    if not 0 <= n <= MAX_WORDS_NUMBER:
        raise ValueError(f"Nombre hors limites pour l'écriture en lettres : {n}")
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _below_1000(rest)
    head = "mille" if thousands == 1 else _below_1000(thousands, before_mille=True) + " mille"
    return head if rest == 0 else head + " " + _below_1000(rest)
