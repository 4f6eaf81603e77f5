"""What the user typed about a patient (``PatientForm``) and its validation into stored values.

Every problem is collected, then raised at once in one French ``ValidationFailed``, so
the user corrects everything in one pass and nothing is stored half-way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cms_desktop.domain.identity import (
    IdentityDocument,
    IdentityError,
    IdentityStatus,
    IdentityTraits,
    Sex,
    identity_problems,
    is_high_trust_document,
    parse_french_date,
)
from cms_desktop.domain.nir import Nir, NirError, check_nir_against_identity, parse_nir
from cms_desktop.domain.phone import PhoneError, format_phone_for_display, parse_phone
from cms_desktop.services.errors import ValidationFailed

__all__ = [
    "COVERAGE_FIELDS",
    "AldForm",
    "CleanAld",
    "CleanPatient",
    "PatientForm",
    "clean_text",
    "date_text",
    "validate_form",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z \-]{1,9}")
# The INS forbids statuses that need the national INSi service, which this app cannot call.
_ALLOWED_STATUSES = (IdentityStatus.PROVISIONAL, IdentityStatus.VALIDATED)


@dataclass(frozen=True)
class AldForm:
    """One ALD row as typed; ``id`` is set for a row already stored."""

    label: str
    code: str = ""
    start_date: str = ""
    end_date: str = ""
    id: str | None = None
    # The label and list number name a disease (#17): sealed under the clinical key, read
    # and typed by clinicians only. Hidden (True) for an account that cannot open them:
    # ``label`` and ``code`` are then "" and saving leaves the stored ones as they are.
    hidden: bool = False


@dataclass(frozen=True)
class PatientForm:
    """Identity, contact, médecin traitant and coverage as typed (dates dd/mm/yyyy)."""

    birth_name: str
    first_given_name: str
    birth_date: str
    sex: str
    used_name: str = ""
    given_names: str = ""  # every given name of birth, separated by spaces
    used_given_name: str = ""
    birth_place_code: str = ""
    birth_place_label: str = ""
    birth_country: str = ""
    identity_status: str = IdentityStatus.PROVISIONAL.value
    identity_document: str = ""
    identity_checked_on: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    phone_mobile: str = ""
    phone_home: str = ""
    email: str = ""
    contact_name: str = ""
    contact_relation: str = ""
    contact_phone: str = ""
    gp_user_id: str | None = None
    gp_outside_name: str = ""
    nir: str = ""
    scheme: str = ""
    c2s_until: str = ""
    ame_until: str = ""
    complementary_insurer: str = ""
    complementary_number: str = ""
    complementary_until: str = ""
    alds: tuple[AldForm, ...] = field(default_factory=tuple)
    # The user checked a NIR that contradicts sex or birth date (e.g. a parent's number).
    nir_mismatch_confirmed: bool = False


@dataclass(frozen=True)
class CleanAld:
    label: str
    code: str
    start_date: date | None
    end_date: date | None
    id: str | None
    hidden: bool = False


@dataclass(frozen=True)
class CleanPatient:
    """Column values ready to store (``patients`` columns), plus the ALD rows."""

    values: dict[str, Any]
    alds: tuple[CleanAld, ...]
    traits: IdentityTraits


COVERAGE_FIELDS = (
    "nir",
    "scheme",
    "c2s_until",
    "ame_until",
    "complementary_insurer",
    "complementary_number",
    "complementary_until",
)

# (form field, French label, maximum length) — the lengths of the stored columns.
_TEXT_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("birth_name", "nom de naissance", 100),
    ("used_name", "nom utilisé", 100),
    ("first_given_name", "premier prénom de naissance", 100),
    ("given_names", "prénoms de naissance", 200),
    ("used_given_name", "prénom utilisé", 100),
    ("birth_place_code", "code du lieu de naissance", 5),
    ("birth_place_label", "lieu de naissance", 100),
    ("birth_country", "pays de naissance", 100),
    ("address", "adresse", 300),
    ("postcode", "code postal", 10),
    ("city", "ville", 100),
    ("email", "courriel", 200),
    ("contact_name", "personne à prévenir", 200),
    ("contact_relation", "lien de la personne à prévenir", 100),
    ("gp_outside_name", "médecin traitant extérieur", 200),
    ("scheme", "régime", 32),
    ("complementary_insurer", "complémentaire santé", 200),
    ("complementary_number", "numéro d'adhérent", 50),
)


def clean_text(value: str) -> str:
    """Control and format characters dropped, whitespace runs made one space, trimmed."""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in value
        if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    return re.sub(r"\s+", " ", kept).strip()


def date_text(value: date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def date(self, text: str, label: str, today: date, *, past: bool = False) -> date | None:
        if not text:
            return None
        try:
            value = parse_french_date(text)
        except IdentityError as exc:
            self.problems.append(f"{label} : {exc}")
            return None
        if past and value > today:
            self.problems.append(f"{label} : la date ne peut pas être dans le futur.")
        return value

    def phone(self, text: str, label: str) -> str:
        if not text:
            return ""
        try:
            return parse_phone(text).e164
        except PhoneError as exc:
            self.problems.append(f"{label} : {exc}")
            return ""


def _choice(value: str, enum: type[Any], label: str, problems: list[str]) -> Any:
    try:
        return enum(value)
    except ValueError:
        problems.append(f"{label} : valeur « {value} » inconnue.")
        return None


def _nir(text: str, problems: list[str]) -> Nir | None:
    if not text:
        return None
    try:
        return parse_nir(text)
    except NirError as exc:
        problems.append(f"NIR : {exc}")
        return None


def validate_form(form: PatientForm, today: date) -> CleanPatient:
    """Check everything; raise ValidationFailed listing every problem, in French."""
    c = _Collector()
    text = {name: clean_text(str(getattr(form, name))) for name, _label, _n in _TEXT_FIELDS}
    for name, label, limit in _TEXT_FIELDS:
        if len(text[name]) > limit:
            c.problems.append(f"Le champ « {label} » est trop long ({limit} caractères au plus).")
    birth_date = c.date(clean_text(form.birth_date), "Date de naissance", today)
    if not clean_text(form.birth_date):
        c.problems.append("La date de naissance est obligatoire.")
    if clean_text(form.sex):
        sex = _choice(clean_text(form.sex).upper(), Sex, "Sexe", c.problems)
    else:  # never a default: reception chooses (a wrong « Masculin » went unnoticed)
        sex = None
        c.problems.append("Le sexe est obligatoire.")
    status = _choice(
        clean_text(form.identity_status) or "provisional", IdentityStatus, "Statut", c.problems
    )
    document_text = clean_text(form.identity_document)
    document = (
        _choice(document_text, IdentityDocument, "Document d'identité", c.problems)
        if document_text
        else None
    )
    checked_on = c.date(
        clean_text(form.identity_checked_on), "Date de vérification", today, past=True
    )
    given = tuple(text["given_names"].split())
    first = text["first_given_name"] or (given[0] if given else "")
    nir = _nir(clean_text(form.nir), c.problems)
    traits = IdentityTraits(
        birth_name=text["birth_name"],
        first_given_name=first,
        birth_date=birth_date or today,
        sex=sex or Sex.UNDETERMINED,
        given_names=given,
        birth_place_code=text["birth_place_code"].upper() or None,
        used_name=text["used_name"] or None,
        used_given_name=text["used_given_name"] or None,
        nir=nir,
    )
    problems = identity_problems(traits, today)
    if birth_date is None:  # the placeholder date says nothing: drop what it would yield
        problems = [p for p in problems if "date de naissance" not in p.lower()]
    c.problems.extend(problems)
    if status is not None and status not in _ALLOWED_STATUSES:
        c.problems.append(
            "Les statuts « récupérée » et « qualifiée » demandent le téléservice INSi : "
            "choisissez « provisoire » ou « validée »."
        )
    if status is IdentityStatus.VALIDATED:
        minor = birth_date is not None and (today - birth_date).days < 18 * 365.25
        if document is None or not is_high_trust_document(document, is_minor=minor):
            c.problems.append(
                "Une identité validée exige un document à haut niveau de confiance "
                "(passeport, carte nationale d'identité, titre de séjour ; livret de famille "
                "ou acte de naissance pour un mineur)."
            )
    if nir is not None and birth_date is not None and sex is not None:
        warnings = check_nir_against_identity(nir, sex, birth_date)
        if warnings and not form.nir_mismatch_confirmed:
            c.problems.extend(warnings)
            c.problems.append(
                "Si ce NIR est bien le bon (par exemple celui d'un parent ouvrant droit), "
                "cochez « NIR vérifié » pour l'enregistrer."
            )
    if text["email"] and not _EMAIL.fullmatch(text["email"]):
        c.problems.append(f"Le courriel « {text['email']} » est invalide.")
    if text["postcode"] and not _POSTCODE.fullmatch(text["postcode"]):
        c.problems.append(f"Le code postal « {text['postcode']} » est invalide.")
    phones = {
        "phone_mobile": c.phone(clean_text(form.phone_mobile), "Téléphone portable"),
        "phone_home": c.phone(clean_text(form.phone_home), "Téléphone fixe"),
        "contact_phone": c.phone(clean_text(form.contact_phone), "Téléphone du contact"),
    }
    gp_user_id = clean_text(form.gp_user_id or "") or None
    if gp_user_id and text["gp_outside_name"]:
        c.problems.append(
            "Le médecin traitant est soit un praticien du centre, soit un médecin extérieur, "
            "pas les deux."
        )
    coverage_dates = {
        name: c.date(clean_text(getattr(form, name)), label, today)
        for name, label in (
            ("c2s_until", "Fin de la C2S"),
            ("ame_until", "Fin de l'AME"),
            ("complementary_until", "Fin de la complémentaire"),
        )
    }
    alds = tuple(_ald(row, index, c, today) for index, row in enumerate(form.alds, start=1))
    if c.problems:
        raise ValidationFailed("\n".join(dict.fromkeys(c.problems)))
    assert birth_date is not None and sex is not None and status is not None
    values: dict[str, Any] = {
        **text,
        "first_given_name": first,
        "given_names": " ".join(given),
        "birth_place_code": text["birth_place_code"].upper(),
        "birth_date": birth_date,
        "sex": sex.value,
        "identity_status": status.value,
        "identity_document": document.value if document else "",
        "identity_checked_on": checked_on,
        "gp_user_id": gp_user_id,
        "nir": nir.compact if nir else "",
        **phones,
        **coverage_dates,
    }
    return CleanPatient(values, alds, traits)


def _ald(row: AldForm, index: int, c: _Collector, today: date) -> CleanAld:
    label = clean_text(row.label)
    code = clean_text(row.code)
    where = f"ALD n° {index}"
    if row.hidden:
        label = code = ""  # kept as stored: this account does not see them
    # No label required: reception records the ALD and its dates from the paperwork, a
    # clinician types its label (a diagnosis, sealed under the clinical key).
    if not (label or code or row.hidden or clean_text(row.start_date)):
        c.problems.append(f"{where} : indiquez au moins la date de début.")
    if len(label) > 200:
        c.problems.append(f"{where} : le libellé est trop long (200 caractères au plus).")
    if len(code) > 8:
        c.problems.append(f"{where} : le code est trop long (8 caractères au plus).")
    start = c.date(clean_text(row.start_date), f"{where}, début", today)
    end = c.date(clean_text(row.end_date), f"{where}, fin", today)
    if start and end and end < start:
        c.problems.append(f"{where} : la date de fin précède la date de début.")
    return CleanAld(label, code, start, end, row.id, row.hidden)


def phone_text(e164: str) -> str:
    """Stored E.164 number shown as the user would type it."""
    return format_phone_for_display(e164) if e164 else ""
