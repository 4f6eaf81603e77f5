"""French social security number (NIR): parsing, key check and consistency with the identity.

Structure and key rule as published by INSEE (see FRENCH-RULES.md, "NIR").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cms_desktop.domain.identity import SEX_LABELS, Sex

__all__ = [
    "Nir",
    "NirError",
    "check_nir_against_identity",
    "compute_nir_key",
    "parse_nir",
]

# Separators people type or copy from a carte Vitale; removed before any check.
_SEPARATORS = re.compile(r"[\s.\-_/\u00a0\u202f]+")
_MALE_DIGITS = frozenset("137")
_FEMALE_DIGITS = frozenset("248")
# 3/4: foreigners being registered; 7/8: provisional (NIA) numbers.
_TEMPORARY_DIGITS = frozenset("3478")


class NirError(ValueError):
    """A NIR that cannot be accepted; ``str()`` is a French message for the user."""


def _clean(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def _check_characters(compact: str) -> None:
    for index, char in enumerate(compact):
        if char.isdigit() and char.isascii():
            continue
        # Corsica: "2A"/"2B" in place of the department digits (positions 6-7).
        if index == 6 and char in "AB" and compact[5] == "2":
            continue
        raise NirError(
            f"Le NIR contient un caractère non autorisé : « {char} » (position {index + 1})."
        )


def _numeric_value(first13: str) -> int:
    # INSEE rule: 2A counts as 19 and 2B as 18 in the key computation.
    return int(first13.replace("2A", "19").replace("2B", "18"))


def compute_nir_key(first13: str) -> int:
    """Return the key (1-97) of the 13 first NIR characters: 97 - (N mod 97)."""
    compact = _clean(first13)
    if len(compact) != 13:
        raise NirError(
            f"Le calcul de la clé du NIR demande les 13 premiers caractères ; {len(compact)} saisis."
        )
    _check_characters(compact)
    return 97 - _numeric_value(compact) % 97


def _department_length(compact: str) -> int:
    # Overseas (97x) and overseas territories (98x) use a 3-digit department, 2-digit commune.
    return 3 if compact[5:7] in ("97", "98") else 2


def _check_structure(compact: str) -> None:
    if compact[0] not in _MALE_DIGITS | _FEMALE_DIGITS:
        raise NirError(
            f"Le premier chiffre du NIR (sexe) doit être 1, 2, 3, 4, 7 ou 8, et non « {compact[0]} »."
        )
    month = int(compact[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        raise NirError(
            f"Le mois de naissance du NIR (« {compact[3:5]} ») est invalide : "
            "01 à 12, ou 20 à 42 et 50 à 99 lorsque le mois est inconnu."
        )
    department = compact[5:7]
    if department in ("2A", "2B", "99"):
        return
    if department in ("97", "98"):
        if compact[7] == "0":
            raise NirError(f"Le département d'outre-mer du NIR (« {compact[5:8]} ») est invalide.")
        return
    if not 1 <= int(department) <= 96:
        raise NirError(f"Le département de naissance du NIR (« {department} ») est invalide.")


@dataclass(frozen=True)
class Nir:
    """A valid NIR, kept in compact form (15 characters, key included)."""

    compact: str

    def __post_init__(self) -> None:
        if len(self.compact) != 15:
            raise NirError(
                f"Le NIR doit comporter 15 caractères, clé comprise ; {len(self.compact)} saisis."
            )
        _check_characters(self.compact)
        _check_structure(self.compact)
        expected = compute_nir_key(self.compact[:13])
        if self.compact[13:] != f"{expected:02d}":
            # Never the expected key: typed in, it would make a misread number "valid" and
            # defeat the key's purpose (identity vigilance: catch a misread card).
            raise NirError(
                "La clé du NIR ne correspond pas au numéro : relisez la carte Vitale ou "
                "l'attestation de droits, un chiffre a pu être mal lu ou mal saisi."
            )

    @property
    def sex_digit(self) -> str:
        return self.compact[0]

    @property
    def sex(self) -> Sex | None:
        """Sex encoded by the first digit (odd: male, even: female)."""
        # Every accepted first digit encodes a sex; the optional type leaves room for
        # future number kinds that would not.
        return Sex.MALE if self.sex_digit in _MALE_DIGITS else Sex.FEMALE

    @property
    def is_temporary(self) -> bool:
        """True for numbers of people being registered (3/4) and provisional ones (7/8)."""
        return self.sex_digit in _TEMPORARY_DIGITS

    @property
    def birth_year_2(self) -> int:
        """The two last digits of the birth year (the century is not encoded)."""
        return int(self.compact[1:3])

    @property
    def birth_month(self) -> int | None:
        """Month of birth, or None when INSEE recorded it as unknown (20-42, 50-99)."""
        month = int(self.compact[3:5])
        return month if 1 <= month <= 12 else None

    @property
    def department(self) -> str:
        """Department of birth: "75", "2A", "971", or "99" for people born abroad."""
        return self.compact[5 : 5 + _department_length(self.compact)]

    @property
    def commune(self) -> str:
        """INSEE commune code within the department, or the country code when born abroad."""
        return self.compact[5 + _department_length(self.compact) : 10]

    @property
    def is_born_abroad(self) -> bool:
        return self.department == "99"

    @property
    def order(self) -> str:
        return self.compact[10:13]

    @property
    def key(self) -> int:
        return int(self.compact[13:])

    @property
    def formatted(self) -> str:
        """Display form, as printed on a carte Vitale: "1 85 05 78 006 084 91"."""
        parts = (
            self.sex_digit,
            self.compact[1:3],
            self.compact[3:5],
            self.department,
            self.commune,
            self.order,
            self.compact[13:],
        )
        return " ".join(parts)

    def __str__(self) -> str:
        return self.formatted


def parse_nir(text: str) -> Nir:
    """Parse a NIR typed with or without spaces, dots or dashes; raise NirError if invalid."""
    compact = _clean(text)
    if not compact:
        raise NirError("Le NIR est vide.")
    if len(compact) == 13:
        raise NirError("Le NIR doit comporter 15 caractères : la clé (2 chiffres) manque.")
    return Nir(compact)


def check_nir_against_identity(nir: Nir, sex: Sex, birth_date: date) -> list[str]:
    """French warnings when the NIR contradicts the declared sex or birth date; [] if consistent.

    A contradiction makes the NIR suspicious (it may belong to a parent, or be mistyped):
    the user must confirm it, so these are warnings, not errors.
    """
    warnings: list[str] = []
    nir_sex = nir.sex
    if sex is not Sex.UNDETERMINED and nir_sex is not None and nir_sex is not sex:
        warnings.append(
            f"Le premier chiffre du NIR ({nir.sex_digit}) indique le sexe "
            f"« {SEX_LABELS[nir_sex].lower()} » alors que le sexe déclaré est "
            f"« {SEX_LABELS[sex].lower()} » : NIR à vérifier."
        )
    if nir.birth_year_2 != birth_date.year % 100:
        warnings.append(
            f"L'année de naissance du NIR ({nir.compact[1:3]}) ne correspond pas "
            f"à la date de naissance ({birth_date.year}) : NIR à vérifier."
        )
    nir_month = nir.birth_month
    if nir_month is not None and nir_month != birth_date.month:
        warnings.append(
            f"Le mois de naissance du NIR ({nir.compact[3:5]}) ne correspond pas "
            f"à la date de naissance ({birth_date.month:02d}/{birth_date.year}) : NIR à vérifier."
        )
    return warnings
