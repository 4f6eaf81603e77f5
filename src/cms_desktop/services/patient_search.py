"""Search as you type: names (any word, by prefix), birth date (full or partial), NIR, phone.

The work is one indexed SQL statement (``storage.patient_index``); this layer parses the
query, checks the permission and shapes the rows, and stays cheap on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cms_desktop.domain.identity import STATUS_LABELS, IdentityStatus
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.patient_search import parse_query
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.phone import format_phone_for_display
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import patient_index

__all__ = ["MAX_QUERY", "PatientHit", "display_name", "mask_nir", "search_patients"]

MAX_QUERY = 200  # characters: a pasted page is cut, not searched


@dataclass(frozen=True)
class PatientHit:
    id: str
    display_name: str
    birth_date: date
    age: int
    sex: str
    nir_masked: str
    phone: str
    identity_status: str
    status_label: str

    @property
    def birth_date_text(self) -> str:
        return self.birth_date.strftime("%d/%m/%Y")


def display_name(birth_name: str, used_name: str, first_given_name: str, sex: str) -> str:
    """ "MARTIN (née DUPONT) Claire"; "DUPONT Jean" when there is no other used name."""
    birth = birth_name.upper()
    used = (used_name or "").upper()
    if used and used != birth:
        born = "née" if sex == "F" else "né"
        return f"{used} ({born} {birth}) {first_given_name}"
    return f"{birth} {first_given_name}"


def mask_nir(nir: str) -> str:
    """Sex, year and month of birth, and the key: enough to tell two people apart on a
    screen others may see, not enough to reuse the number."""
    if len(nir) != 15:
        return ""
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} •• ••• ••• {nir[13:]}"


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _phone(e164: str) -> str:
    # French mobiles and landlines are stored as +33 and 9 digits: formatting them by hand
    # is 100x cheaper than phonenumbers, which still formats every other number.
    if len(e164) == 12 and e164.startswith("+33") and e164[3:].isdigit():
        national = "0" + e164[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return format_phone_for_display(e164) if e164 else ""


@requires(Permission.PATIENT_IDENTITY_READ)
def search_patients(ws: Workspace, actor: Actor, query: str, limit: int = 50) -> list[PatientHit]:
    """Patients matching every word of ``query`` (tombstoned and merged ones excluded)."""
    actor.require(Permission.PATIENT_IDENTITY_READ)
    today = paris_today()
    terms = parse_query(query[:MAX_QUERY], today)
    if not terms:
        return []
    rows = patient_index.search(ws.store.engine, terms, max(1, min(limit, 500)))
    hits = []
    for pid, birth, used, first, _used_first, born, sex, nir, mobile, home, status in rows:
        birth_date = born if isinstance(born, date) else date.fromisoformat(str(born))
        hits.append(
            PatientHit(
                id=pid,
                display_name=display_name(birth, used, first, sex),
                birth_date=birth_date,
                age=_age(birth_date, today),
                sex=sex,
                nir_masked=mask_nir(nir),
                phone=_phone(mobile or home),
                identity_status=status,
                status_label=STATUS_LABELS[IdentityStatus(status)],
            )
        )
    return hits
