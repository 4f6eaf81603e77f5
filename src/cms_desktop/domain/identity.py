"""Patient identity per the French identity-vigilance rules (RNIV): traits, status, documents.

Also the birth-date rules and the detection of likely duplicates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from cms_desktop.domain.names import normalize_name, phonetic_key

if TYPE_CHECKING:
    from cms_desktop.domain.nir import Nir

__all__ = [
    "DOCUMENT_LABELS",
    "DUPLICATE_REASON_LABELS",
    "HIGH_TRUST_DOCUMENTS",
    "MINOR_ONLY_DOCUMENTS",
    "SEX_LABELS",
    "STATUS_LABELS",
    "DuplicateReason",
    "IdentityDocument",
    "IdentityError",
    "IdentityStatus",
    "IdentityTraits",
    "Sex",
    "agreed",
    "duplicate_reason",
    "identity_problems",
    "is_high_trust_document",
    "is_likely_duplicate",
    "may_share_ins",
    "parse_french_date",
    "status_after_document_check",
    "status_after_ins_recovery",
    "validate_birth_date",
    "validate_identity_traits",
]

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class IdentityError(ValueError):
    """Identity traits that cannot be accepted; ``str()`` is a French message for the user."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


class Sex(StrEnum):
    """Sex trait. "I" (indéterminé) is the RNIV/INS value for a sex not determinable at birth."""

    MALE = "M"
    FEMALE = "F"
    UNDETERMINED = "I"


def agreed(sex: str, masculine: str, feminine: str, neutral: str) -> str:
    """The word agreed with the patient's sex (« né », « née »), inclusive only when the
    sex is not known (« né·e »)."""
    return {Sex.MALE.value: masculine, Sex.FEMALE.value: feminine}.get(str(sex), neutral)


SEX_LABELS: dict[Sex, str] = {
    Sex.MALE: "Masculin",
    Sex.FEMALE: "Féminin",
    Sex.UNDETERMINED: "Indéterminé",
}


class IdentityStatus(StrEnum):
    """Status of an identity (RNIV): how far it has been checked."""

    PROVISIONAL = "provisional"  # declared, nothing checked
    RECOVERED = "recovered"  # INS fetched from INSi, no identity document checked
    VALIDATED = "validated"  # checked against a high-trust document
    QUALIFIED = "qualified"  # recovered and validated: may carry the INS in exchanges


STATUS_LABELS: dict[IdentityStatus, str] = {
    IdentityStatus.PROVISIONAL: "Identité provisoire",
    IdentityStatus.RECOVERED: "Identité récupérée",
    IdentityStatus.VALIDATED: "Identité validée",
    IdentityStatus.QUALIFIED: "Identité qualifiée",
}


class IdentityDocument(StrEnum):
    """Document presented to check an identity."""

    PASSPORT = "passport"
    NATIONAL_ID_CARD = "national_id_card"
    RESIDENCE_PERMIT = "residence_permit"
    FAMILY_BOOK = "family_book"
    BIRTH_CERTIFICATE = "birth_certificate"
    DRIVING_LICENCE = "driving_licence"
    VITALE_CARD = "vitale_card"
    OTHER = "other"
    NONE = "none"


DOCUMENT_LABELS: dict[IdentityDocument, str] = {
    IdentityDocument.PASSPORT: "Passeport",
    IdentityDocument.NATIONAL_ID_CARD: "Carte nationale d'identité",
    IdentityDocument.RESIDENCE_PERMIT: "Titre de séjour",
    IdentityDocument.FAMILY_BOOK: "Livret de famille",
    IdentityDocument.BIRTH_CERTIFICATE: "Extrait d'acte de naissance",
    IdentityDocument.DRIVING_LICENCE: "Permis de conduire",
    IdentityDocument.VITALE_CARD: "Carte Vitale",
    IdentityDocument.OTHER: "Autre document",
    IdentityDocument.NONE: "Aucun document",
}

# RNIV: only these validate an identity. A carte Vitale or a driving licence does not.
HIGH_TRUST_DOCUMENTS = frozenset(
    {
        IdentityDocument.PASSPORT,
        IdentityDocument.NATIONAL_ID_CARD,
        IdentityDocument.RESIDENCE_PERMIT,
    }
)
# RNIV: the family book or a birth certificate validates the identity of a minor only.
MINOR_ONLY_DOCUMENTS = frozenset({IdentityDocument.FAMILY_BOOK, IdentityDocument.BIRTH_CERTIFICATE})


def is_high_trust_document(document: IdentityDocument, *, is_minor: bool = False) -> bool:
    """True when the document may validate an identity."""
    return document in HIGH_TRUST_DOCUMENTS or (is_minor and document in MINOR_ONLY_DOCUMENTS)


def status_after_document_check(
    current: IdentityStatus, document: IdentityDocument, *, is_minor: bool = False
) -> IdentityStatus:
    """Status once the document has been checked: raised only by a high-trust document."""
    if not is_high_trust_document(document, is_minor=is_minor):
        return current
    if current is IdentityStatus.PROVISIONAL:
        return IdentityStatus.VALIDATED
    if current is IdentityStatus.RECOVERED:
        return IdentityStatus.QUALIFIED
    return current


def status_after_ins_recovery(current: IdentityStatus) -> IdentityStatus:
    """Status once the INS has been fetched from the national INSi service."""
    if current is IdentityStatus.PROVISIONAL:
        return IdentityStatus.RECOVERED
    if current is IdentityStatus.VALIDATED:
        return IdentityStatus.QUALIFIED
    return current


def may_share_ins(status: IdentityStatus) -> bool:
    """Only a qualified identity may carry the INS in exchanges and documents."""
    return status is IdentityStatus.QUALIFIED


_FRENCH_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")


def parse_french_date(text: str) -> date:
    """Parse "dd/mm/yyyy" (or "d/m/yyyy"); raise IdentityError with a French message."""
    match = _FRENCH_DATE.fullmatch(text)
    if match is None:
        raise IdentityError(
            f"Date « {text.strip()} » non reconnue : format attendu jj/mm/aaaa (par exemple 05/03/1980)."
        )
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise IdentityError(f"La date « {text.strip()} » n'existe pas.") from None


def validate_birth_date(birth_date: date, today: date) -> date:
    """Return the birth date if plausible: not in the future, not before 1900."""
    if birth_date > today:
        raise IdentityError("La date de naissance ne peut pas être dans le futur.")
    if birth_date < EARLIEST_BIRTH_DATE:
        raise IdentityError("La date de naissance ne peut pas être antérieure au 01/01/1900.")
    return birth_date


@dataclass(frozen=True)
class IdentityTraits:
    """Strict traits (RNIV) plus the used names, kept apart from the birth ones."""

    birth_name: str
    first_given_name: str
    birth_date: date
    sex: Sex
    given_names: tuple[str, ...] = ()
    birth_place_code: str | None = None  # INSEE code of the commune, or 99xxx for a country
    used_name: str | None = None
    used_given_name: str | None = None
    nir: Nir | None = None


_INSEE_PLACE_CODE = re.compile(r"(?:\d{2}|2A|2B)\d{3}")
_NAME_ALLOWED = re.compile(r"[^\W\d_]+(?:[ '’\-]+[^\W\d_]+)*")


def _name_problem(label: str, value: str | None, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        return f"Le {label} est obligatoire." if required else None
    if _NAME_ALLOWED.fullmatch(text) is None:
        return f"Le {label} ne doit contenir que des lettres, espaces, tirets et apostrophes."
    return None


def identity_problems(traits: IdentityTraits, today: date) -> list[str]:
    """Every reason (in French) why these traits cannot be recorded; [] when acceptable.

    The NIR's consistency with sex and birth date is checked apart, by
    ``nir.check_nir_against_identity``: it yields warnings to confirm, not refusals.
    """
    problems = [
        p
        for p in (
            _name_problem("nom de naissance", traits.birth_name, required=True),
            _name_problem("premier prénom de naissance", traits.first_given_name, required=True),
            _name_problem("nom utilisé", traits.used_name, required=False),
            _name_problem("prénom utilisé", traits.used_given_name, required=False),
        )
        if p is not None
    ]
    problems.extend(
        f"Le prénom de naissance « {g} » ne doit contenir que des lettres, espaces, tirets et apostrophes."
        for g in traits.given_names
        if _NAME_ALLOWED.fullmatch(g.strip()) is None
    )
    # RNIV: the first given name is the first of the list of given names of birth.
    if (
        traits.given_names
        and traits.first_given_name.strip()
        and normalize_name(traits.given_names[0]) != normalize_name(traits.first_given_name)
    ):
        problems.append(
            "Le premier prénom de naissance doit être le premier de la liste des prénoms de naissance."
        )
    try:
        validate_birth_date(traits.birth_date, today)
    except IdentityError as error:
        problems.extend(error.problems)
    code = traits.birth_place_code
    if code is not None and _INSEE_PLACE_CODE.fullmatch(code.strip().upper()) is None:
        problems.append(
            f"Le code INSEE du lieu de naissance « {code} » est invalide (5 caractères, par exemple 75056 ou 2A004)."
        )
    return problems


def validate_identity_traits(traits: IdentityTraits, today: date) -> None:
    """Raise IdentityError listing every problem of the traits; return if acceptable."""
    problems = identity_problems(traits, today)
    if problems:
        raise IdentityError(problems)


class DuplicateReason(StrEnum):
    """Why two identities look like the same person."""

    SAME_NIR = "same_nir"
    SAME_BIRTH_DATE_AND_NAMES = "same_birth_date_and_names"


DUPLICATE_REASON_LABELS: dict[DuplicateReason, str] = {
    DuplicateReason.SAME_NIR: "Même NIR",
    DuplicateReason.SAME_BIRTH_DATE_AND_NAMES: "Même date de naissance, nom et prénom proches",
}


def _names_match(a: list[str], b: list[str]) -> bool:
    norm_a = {normalize_name(n) for n in a} - {""}
    norm_b = {normalize_name(n) for n in b} - {""}
    if norm_a & norm_b:
        return True
    keys_a = {phonetic_key(n) for n in norm_a} - {""}
    keys_b = {phonetic_key(n) for n in norm_b} - {""}
    return bool(keys_a & keys_b)


def _family_names(traits: IdentityTraits) -> list[str]:
    return [n for n in (traits.birth_name, traits.used_name) if n]


def _given_names(traits: IdentityTraits) -> list[str]:
    return [n for n in (traits.first_given_name, traits.used_given_name) if n]


def duplicate_reason(candidate: IdentityTraits, existing: IdentityTraits) -> DuplicateReason | None:
    """Why ``candidate`` is probably ``existing`` again, or None.

    Same NIR; or same birth date, a family name (birth or used, either way round) that
    matches after normalisation or by phonetic key, and a matching first given name.
    """
    if candidate.nir is not None and existing.nir is not None and candidate.nir == existing.nir:
        return DuplicateReason.SAME_NIR
    if (
        candidate.birth_date == existing.birth_date
        and _names_match(_family_names(candidate), _family_names(existing))
        and _names_match(_given_names(candidate), _given_names(existing))
    ):
        return DuplicateReason.SAME_BIRTH_DATE_AND_NAMES
    return None


def is_likely_duplicate(candidate: IdentityTraits, existing: IdentityTraits) -> bool:
    """True when the two identities should be shown to the user as a possible duplicate."""
    return duplicate_reason(candidate, existing) is not None
