"""The public drug database (BDPM, ANSM): import of the official files on this station and
the completion of prescription lines with the DCI wording (« PARACÉTAMOL 500 mg, comprimé »).

Files: tab-separated, Windows-1252, no header (https://base-donnees-publique.medicaments.gouv.fr).
The reference is local to each station: it is not replicated through the op-log.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, and_, delete, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cms_desktop.domain.allergy_check import is_meaningful
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import no_actor, requires, requires_any
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import (
    BdpmComposition,
    BdpmImport,
    BdpmMedicine,
    BdpmPresentation,
)

MEDICINES_FILE = "CIS_bdpm.txt"
COMPOSITIONS_FILE = "CIS_COMPO_bdpm.txt"
PRESENTATIONS_FILE = "CIS_CIP_bdpm.txt"
ENCODING = "cp1252"
MAX_PROBLEMS = 200  # enough to fix a file; a wrong file must not flood the report
_CIS = re.compile(r"^\d{8}$")
_CIP13 = re.compile(r"^\d{13}$")


def search_key(text: str) -> str:
    """Accent-free, lower-case, single-spaced: « Paracétamol » and « PARACETAMOL » meet."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().replace("œ", "oe").split())


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, ligne {self.line} : {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    medicines: int
    compositions: int
    presentations: int
    problems: tuple[ImportProblem, ...]

    @property
    def summary(self) -> str:
        text = (
            f"{self.medicines} médicaments, {self.compositions} compositions et "
            f"{self.presentations} présentations importés"
        )
        if self.problems:
            text += f" ; {len(self.problems)} ligne(s) ignorée(s)"
        return text + "."


def _rows(
    path: Path, min_fields: int, problems: list[ImportProblem]
) -> list[tuple[int, list[str]]]:
    """Decoded, split lines with their 1-based numbers; malformed ones go to ``problems``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            f"Impossible de lire le fichier {path.name} : {exc.strerror or exc}."
        ) from None
    out: list[tuple[int, list[str]]] = []
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        chunk = chunk.rstrip(b"\r")
        if not chunk.strip():
            continue
        try:
            line = chunk.decode(ENCODING)
        except UnicodeDecodeError:
            _problem(problems, path.name, number, "caractères illisibles (Windows-1252 attendu)")
            continue
        fields = [field.strip() for field in line.split("\t")]
        if len(fields) < min_fields:
            _problem(
                problems,
                path.name,
                number,
                f"{len(fields)} colonne(s) au lieu d'au moins {min_fields}",
            )
            continue
        if not _CIS.match(fields[0]):
            _problem(problems, path.name, number, f"code CIS invalide « {fields[0][:20]} »")
            continue
        out.append((number, fields))
    return out


def _problem(problems: list[ImportProblem], file: str, line: int, reason: str) -> None:
    if len(problems) < MAX_PROBLEMS:
        problems.append(ImportProblem(file, line, reason))


def _find(folder: Path, name: str) -> Path | None:
    exact = folder / name
    if exact.is_file():
        return exact
    for candidate in folder.iterdir():
        if candidate.name.lower() == name.lower() and candidate.is_file():
            return candidate
    return None


def _read_folder(folder: Path) -> tuple[list[dict], list[dict], list[dict], list[ImportProblem]]:  # type: ignore[type-arg]
    if not folder.is_dir():
        raise ValidationFailed(f"Le dossier {folder} est introuvable.")
    medicines_path = _find(folder, MEDICINES_FILE)
    compositions_path = _find(folder, COMPOSITIONS_FILE)
    if medicines_path is None or compositions_path is None:
        raise ValidationFailed(
            f"Le dossier doit contenir les fichiers {MEDICINES_FILE} et {COMPOSITIONS_FILE} "
            "téléchargés depuis la base de données publique des médicaments."
        )
    problems: list[ImportProblem] = []
    medicines: dict[str, dict] = {}  # type: ignore[type-arg]
    for number, f in _rows(medicines_path, 5, problems):
        if not f[1]:
            _problem(problems, medicines_path.name, number, "dénomination manquante")
            continue
        if f[0] in medicines:
            _problem(problems, medicines_path.name, number, f"code CIS {f[0]} en double")
            continue
        medicines[f[0]] = {
            "cis": f[0],
            "name": f[1][:400],
            "name_key": search_key(f[1])[:400],
            "form": f[2][:200],
            "routes": ", ".join(r.strip() for r in f[3].split(";") if r.strip())[:200],
            "status": f[4][:100],
            "marketed": (f[6] if len(f) > 6 else "")[:100],
        }
    if not medicines:
        raise ValidationFailed(
            f"Aucun médicament lisible dans {medicines_path.name} : import annulé, "
            "la base précédente est conservée."
        )
    compositions: list[dict] = []  # type: ignore[type-arg]
    for number, f in _rows(compositions_path, 7, problems):
        if f[0] not in medicines:
            _problem(problems, compositions_path.name, number, f"médicament {f[0]} inconnu")
            continue
        if not f[3]:
            _problem(problems, compositions_path.name, number, "substance manquante")
            continue
        compositions.append(
            {
                "cis": f[0],
                "substance": f[3][:300],
                "substance_key": search_key(f[3])[:300],
                "strength": f[4][:200],
                "nature": f[6][:2].upper() or "SA",
                "link": (f[7] if len(f) > 7 else "")[:8],
            }
        )
    presentations: list[dict] = []  # type: ignore[type-arg]
    presentations_path = _find(folder, PRESENTATIONS_FILE)
    if presentations_path is not None:
        seen: set[str] = set()
        for number, f in _rows(presentations_path, 7, problems):
            if f[0] not in medicines or not _CIP13.match(f[6]) or f[6] in seen:
                _problem(problems, presentations_path.name, number, "présentation invalide")
                continue
            seen.add(f[6])
            presentations.append({"cip13": f[6], "cis": f[0], "label": f[2][:400]})
    return list(medicines.values()), compositions, presentations, problems


def _may_import(actor: Actor) -> None:
    if not actor.can(Permission.SETTINGS_MANAGE):
        actor.require(Permission.PRESCRIPTION_WRITE)


@requires_any(Permission.SETTINGS_MANAGE, Permission.PRESCRIPTION_WRITE)
def import_bdpm(ws: Workspace, actor: Actor, folder: Path | str) -> ImportReport:
    """Replace this station's reference with the files of ``folder``, all or nothing."""
    _may_import(actor)
    medicines, compositions, presentations, problems = _read_folder(Path(folder))
    with ws.store.write() as session:
        for table in (BdpmPresentation, BdpmComposition, BdpmMedicine):
            session.execute(delete(table))
        session.execute(insert(BdpmMedicine), medicines)
        if compositions:
            session.execute(insert(BdpmComposition), compositions)
        if presentations:
            session.execute(insert(BdpmPresentation), presentations)
        session.add(
            BdpmImport(
                imported_at=datetime.now(UTC),
                medicines=len(medicines),
                compositions=len(compositions),
                presentations=len(presentations),
                rejected=len(problems),
            )
        )
        audit.append(
            session,
            ws.store.station_id,
            "bdpm_import",
            user_id=actor.user_id,
            user_login=actor.login,
            details={
                "medicines": len(medicines),
                "compositions": len(compositions),
                "presentations": len(presentations),
                "rejected": len(problems),
            },
        )
    return ImportReport(len(medicines), len(compositions), len(presentations), tuple(problems))


@dataclass(frozen=True)
class MedicineHit:
    """A completion: the DCI wording to write on the line, and the brand it came from."""

    cis: str
    name: str  # brand name as in the BDPM: « DOLIPRANE 500 mg, comprimé »
    dci: str  # « PARACÉTAMOL » (« A + B » for a combination)
    strength: str  # « 500 mg »
    form: str  # « comprimé »
    routes: str  # « orale »
    label: str  # « PARACÉTAMOL 500 mg, comprimé »


def _active_substances(rows: list[BdpmComposition]) -> list[BdpmComposition]:
    """One substance per link: the therapeutic fraction (FT) when given, else the SA."""
    by_link: dict[str, list[BdpmComposition]] = defaultdict(list)
    for row in rows:
        by_link[row.link or row.substance].append(row)
    chosen = []
    for group in by_link.values():
        ft = [r for r in group if r.nature == "FT"]
        chosen.append((ft or group)[0])
    return chosen


def _hit(medicine: BdpmMedicine, compositions: list[BdpmComposition]) -> MedicineHit:
    active = _active_substances(compositions)
    dci = " + ".join(r.substance for r in active)
    strength = " + ".join(r.strength for r in active if r.strength)
    parts = " + ".join(f"{r.substance} {r.strength}".strip() for r in active)
    label = f"{parts}, {medicine.form}" if parts else medicine.name
    return MedicineHit(
        medicine.cis, medicine.name, dci, strength, medicine.form, medicine.routes, label
    )


def _prefix_range(column: InstrumentedAttribute[str], key: str) -> ColumnElement[bool]:
    # A range on the indexed key column: SQLite uses the index, LIKE would not.
    return and_(column >= key, column < key + "\uffff")


@requires(Permission.PRESCRIPTION_WRITE)
def search_medicines(ws: Workspace, actor: Actor, text: str, limit: int = 20) -> list[MedicineHit]:
    """Medicines whose name or DCI starts with ``text``; DCI matches first, one per wording."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    key = search_key(text)
    if len(key) < 2 or limit <= 0:
        return []
    with ws.store.read() as session:
        # One row per DCI wording (substance, strength, form): deduplicated by the database.
        by_dci = (
            session.execute(
                select(func.min(BdpmComposition.cis))
                .join(BdpmMedicine, BdpmMedicine.cis == BdpmComposition.cis)
                .where(_prefix_range(BdpmComposition.substance_key, key))
                .group_by(
                    BdpmComposition.substance_key, BdpmComposition.strength, BdpmMedicine.form
                )
                .order_by(BdpmComposition.substance_key, func.min(BdpmComposition.cis))
                .limit(limit)
            )
            .scalars()
            .all()
        )
        by_name = (
            session.execute(
                select(BdpmMedicine.cis)
                .where(_prefix_range(BdpmMedicine.name_key, key))
                .order_by(BdpmMedicine.name_key)
                .limit(limit * 2)
            )
            .scalars()
            .all()
        )
        return _hits(session, list(dict.fromkeys([*by_dci, *by_name])), limit)


def _hits(session: Session, cis_codes: list[str], limit: int) -> list[MedicineHit]:
    if not cis_codes:
        return []
    medicines = {
        m.cis: m
        for m in session.scalars(select(BdpmMedicine).where(BdpmMedicine.cis.in_(cis_codes)))
    }
    compositions: dict[str, list[BdpmComposition]] = defaultdict(list)
    for row in session.scalars(
        select(BdpmComposition)
        .where(BdpmComposition.cis.in_(cis_codes))
        .order_by(BdpmComposition.id)
    ):
        compositions[row.cis].append(row)
    out: dict[str, MedicineHit] = {}
    for cis in cis_codes:
        medicine = medicines.get(cis)
        if medicine is None:
            continue
        hit = _hit(medicine, compositions[cis])
        out.setdefault(search_key(hit.label), hit)
        if len(out) >= limit:
            break
    return list(out.values())


@no_actor("whether the public drug database is loaded")
def reference_loaded(ws: Workspace) -> bool:
    """True once a BDPM import has been made on this station (else: free text only)."""
    with ws.store.read() as session:
        return session.execute(select(BdpmMedicine.cis).limit(1)).first() is not None


# --- substances, for the allergy check at prescription ---


def _words_in(haystack: str, needle: str) -> bool:
    h, n = haystack.split(), needle.split()
    return bool(n) and any(h[i : i + len(n)] == n for i in range(len(h) - len(n) + 1))


def _with_partners(session: Session, rows: list[BdpmComposition]) -> list[BdpmComposition]:
    """``rows`` and the other row of the same link in the same medicine: the salt
    (« AMOXICILLINE TRIHYDRATÉE ») of a therapeutic fraction (« AMOXICILLINE ») and back."""
    if not rows:
        return []
    wanted = {(r.cis, r.link) for r in rows if r.link}
    partners = session.scalars(
        select(BdpmComposition).where(BdpmComposition.cis.in_({cis for cis, _ in wanted}))
    ).all()
    return rows + [p for p in partners if (p.cis, p.link) in wanted]


def _medicine_substances(session: Session, key: str) -> list[BdpmComposition]:
    """Every substance of the medicines whose name starts with ``key`` (a brand typed:
    « augmentin », « doliprane »)."""
    if len(key) < 4:
        return []
    cis = select(BdpmMedicine.cis).where(_prefix_range(BdpmMedicine.name_key, key)).limit(50)
    return list(session.scalars(select(BdpmComposition).where(BdpmComposition.cis.in_(cis))))


def allergen_substances(session: Session, text: str) -> set[str]:
    """Substance keys the BDPM gives for an allergy's recorded text: the substances whose
    name contains it as whole words with their salts or bases, else, for a brand name,
    the substances of that medicine. Empty when the BDPM knows nothing of it."""
    key = _plain(search_key(text))
    if len(key) < 3:
        return set()
    # The whole text (« amoxicilline trihydratée »), else each word that names something
    # (« allergie à l'amoxicilline » → « amoxicilline »).
    phrases = [key] + [w for w in key.split() if len(w) >= 5 and is_meaningful(w)]
    found: list[BdpmComposition] = []
    for phrase in phrases:
        longest = max(phrase.split(), key=len)
        candidates = session.scalars(
            select(BdpmComposition).where(BdpmComposition.substance_key.contains(longest))
        ).all()
        found = [r for r in candidates if _words_in(_plain(r.substance_key), phrase)]
        if found:
            break
    if not found:
        found = _medicine_substances(session, key)
    return {_plain(r.substance_key) for r in _with_partners(session, found)}


def line_substances(session: Session, dci: str, brand: str | None = None) -> tuple[str, ...]:
    """The substances of a prescription line, as written: each part of the DCI (« A + B »),
    with the salts or bases the BDPM links to it; for a line whose DCI the BDPM does not
    know (a brand typed in the DCI field), the substances of the medicine of that name."""
    parts = [p.strip() for p in dci.replace("/", "+").split("+") if p.strip()]
    names: dict[str, str] = {search_key(p): p for p in parts}
    exact = list(
        session.scalars(
            select(BdpmComposition).where(BdpmComposition.substance_key.in_(list(names)))
        )
    )
    rows = _with_partners(session, exact)
    if not exact:
        for typed in (dci, brand or ""):
            rows += _medicine_substances(session, search_key(typed))
    for row in rows:
        names.setdefault(row.substance_key, row.substance)
    return tuple(names.values())


def _plain(key: str) -> str:
    """A search key with punctuation as spaces (« besilate d'amlodipine » → words)."""
    return " ".join(re.findall(r"[a-z0-9]+", key))
