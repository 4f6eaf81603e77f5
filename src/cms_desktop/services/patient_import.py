"""Import of a patient list exported by older software (CSV, columns in docs/IMPORT_PATIENTS.md).

Valid rows are imported, each invalid row is reported with its line number and the
French reason, a likely duplicate of a patient already known is reported and skipped, so
running the same file twice imports nothing new.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from cms_desktop.domain.names import normalize_name
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.patient_duplicates import DuplicateSuspected, check_not_duplicate
from cms_desktop.services.patient_form import COVERAGE_FIELDS, PatientForm, validate_form
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Patient

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "ImportReport",
    "ImportUnreadable",
    "RowProblem",
    "import_patients_csv",
]

# CSV header (normalised: case, accents, spaces and hyphens ignored) -> PatientForm field.
COLUMNS: dict[str, str] = {
    "nom_naissance": "birth_name",
    "nom_usage": "used_name",
    "prenom": "first_given_name",
    "prenoms": "given_names",
    "prenom_usage": "used_given_name",
    "date_naissance": "birth_date",
    "sexe": "sex",
    "code_lieu_naissance": "birth_place_code",
    "lieu_naissance": "birth_place_label",
    "pays_naissance": "birth_country",
    "adresse": "address",
    "code_postal": "postcode",
    "ville": "city",
    "tel_portable": "phone_mobile",
    "tel_fixe": "phone_home",
    "courriel": "email",
    "contact_nom": "contact_name",
    "contact_lien": "contact_relation",
    "contact_tel": "contact_phone",
    "medecin_traitant": "gp_outside_name",
    "nir": "nir",
    "regime": "scheme",
    "c2s_fin": "c2s_until",
    "ame_fin": "ame_until",
    "complementaire": "complementary_insurer",
    "complementaire_numero": "complementary_number",
    "complementaire_fin": "complementary_until",
}
REQUIRED = ("nom_naissance", "prenom", "date_naissance", "sexe")
MAX_BYTES = 50 * 1024 * 1024
_FORM_FIELDS = {f.name for f in fields(PatientForm)}


class ImportUnreadable(ServiceError):
    """The file cannot be read as a patient list at all (nothing imported)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    invalid: tuple[RowProblem, ...]
    duplicates: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...]
    encoding: str
    delimiter: str

    @property
    def summary(self) -> str:
        return (
            f"{self.imported} patient(s) importé(s), {len(self.duplicates)} doublon(s) "
            f"non importé(s), {len(self.invalid)} ligne(s) invalide(s)."
        )


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Windows-1252 decodes almost any byte: it is the fallback of older French software.
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def _header_key(name: str) -> str:
    # "Nom de naissance", "nom d'usage" -> nom_naissance, nom_usage.
    return "_".join(w for w in normalize_name(name).lower().split() if w not in ("de", "d", "du"))


def _delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") >= first_line.count(",") else ","


def _rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot read stops the whole import in French
    (raised inside the write transaction, so nothing of the file is kept)."""
    try:
        yield from reader
    except csv.Error:
        limit = csv.field_size_limit() // 1024
        raise ImportUnreadable(
            f"Ligne {reader.line_num} illisible : un champ dépasse {limit} Ko ou un guillemet "
            "n'est pas refermé. Rien n'a été importé : corrigez le fichier et recommencez."
        ) from None


@requires(Permission.PATIENT_IDENTITY_WRITE, note="coverage columns: patient.coverage.write")
def import_patients_csv(ws: Workspace, actor: Actor, data: bytes) -> ImportReport:
    actor.require(Permission.PATIENT_IDENTITY_WRITE)
    if len(data) > MAX_BYTES:
        raise ImportUnreadable("Le fichier dépasse 50 Mo : découpez-le en plusieurs fichiers.")
    if b"\x00" in data[:4096]:
        raise ImportUnreadable("Ce fichier n'est pas un fichier texte CSV.")
    text, encoding = _decode(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportUnreadable("Le fichier est vide : la première ligne doit nommer les colonnes.")
    delimiter = _delimiter(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _rows(reader)
    header = [_header_key(h) for h in next(rows, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportUnreadable(
            "Colonne(s) obligatoire(s) absente(s) de la première ligne : "
            + ", ".join(missing)
            + f" (séparateur détecté : « {delimiter} »)."
        )
    ignored = tuple(h for h in header if h not in COLUMNS)
    index = {COLUMNS[h]: i for i, h in enumerate(header) if h in COLUMNS}
    today = paris_today()
    imported = 0
    invalid: list[RowProblem] = []
    duplicates: list[RowProblem] = []
    coverage_allowed = actor.can(Permission.PATIENT_COVERAGE_WRITE)
    with ws.store.write() as session:
        for row in rows:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                invalid.append(RowProblem(line, "plus de colonnes que la ligne d'en-tête."))
                continue
            values: dict[str, Any] = {
                f: (row[i] if i < len(row) else "") for f, i in index.items() if f in _FORM_FIELDS
            }
            form = PatientForm(**values)
            try:
                clean = validate_form(form, today)
            except ValidationFailed as exc:
                invalid.append(RowProblem(line, str(exc).replace("\n", " ; ")))
                continue
            if not coverage_allowed and any(clean.values[f] for f in COVERAGE_FIELDS):
                invalid.append(
                    RowProblem(line, "votre rôle ne permet pas d'importer la couverture sociale.")
                )
                continue
            try:
                check_not_duplicate(session, clean.traits, None, ())
            except DuplicateSuspected as exc:
                first = exc.candidates[0]
                duplicates.append(
                    RowProblem(
                        line,
                        f"doublon probable de {first.display_name}, né(e) le "
                        f"{first.birth_date:%d/%m/%Y} ({first.reason_label.lower()}) : "
                        "non importée.",
                    )
                )
                continue
            patient = Patient(**clean.values)
            session.add(patient)
            session.flush()
            imported += 1
            audit.append(
                session,
                ws.store.station_id,
                "patient_created",
                user_id=actor.user_id,
                user_login=actor.login,
                target_type="patient",
                target_id=patient.id,
                details={"import_line": line},
            )
        audit.append(
            session,
            ws.store.station_id,
            "patients_imported",
            user_id=actor.user_id,
            user_login=actor.login,
            details={
                "imported": imported,
                "invalid": len(invalid),
                "duplicates": len(duplicates),
            },
        )
    return ImportReport(imported, tuple(invalid), tuple(duplicates), ignored, encoding, delimiter)
