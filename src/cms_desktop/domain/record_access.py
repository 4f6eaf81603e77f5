"""A person's request to access a medical record: who may ask, and the legal deadlines.

Implements art. L.1111-7, L.1110-4 and R.1111-1 to R.1111-8 of the Code de la santé publique
(law of 4 March 2002).
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from cms_desktop.domain.paris_time import PARIS

__all__ = [
    "HEIR_REASON_LABELS",
    "REQUESTER_LABELS",
    "AccessRequest",
    "AccessWindow",
    "HeirReason",
    "RecordAccessError",
    "RequesterKind",
    "access_deadline",
    "access_request_problems",
    "add_months",
    "is_overdue",
    "may_deliver",
    "next_reference",
    "station_code",
    "validate_access_request",
]

REFLECTION_DELAY = timedelta(hours=48)
STANDARD_DELAY_DAYS = 8
EXTENDED_DELAY_MONTHS = 2
OLD_INFORMATION_YEARS = 5


class RecordAccessError(ValueError):
    """A request that must be refused; ``str()`` lists the reasons in French, one a line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(problems))


class RequesterKind(StrEnum):
    PATIENT = "patient"
    LEGAL_REPRESENTATIVE = "legal_representative"  # parents of a minor, guardian
    DESIGNATED_DOCTOR = "designated_doctor"  # a doctor the requester designated
    HEIR = "heir"  # heir, cohabitant or civil partner of a deceased patient (L.1110-4 V)


REQUESTER_LABELS: dict[RequesterKind, str] = {
    RequesterKind.PATIENT: "Le patient",
    RequesterKind.LEGAL_REPRESENTATIVE: "Représentant légal",
    RequesterKind.DESIGNATED_DOCTOR: "Médecin désigné",
    RequesterKind.HEIR: "Ayant droit, concubin ou partenaire de PACS",
}


class HeirReason(StrEnum):
    """The only three purposes for which heirs may obtain information (L.1110-4 V)."""

    CAUSES_OF_DEATH = "causes_of_death"
    DEFEND_MEMORY = "defend_memory"
    ASSERT_RIGHTS = "assert_rights"


HEIR_REASON_LABELS: dict[HeirReason, str] = {
    HeirReason.CAUSES_OF_DEATH: "Connaître les causes de la mort",
    HeirReason.DEFEND_MEMORY: "Défendre la mémoire du défunt",
    HeirReason.ASSERT_RIGHTS: "Faire valoir ses droits",
}


@dataclass(frozen=True)
class AccessRequest:
    """A request as received; the flags record what the staff checked."""

    requester_kind: RequesterKind
    received_at: datetime  # timezone-aware, stored in UTC
    written: bool
    identity_document_checked: bool
    quality_proof_checked: bool = False  # proof of being the representative or the heir
    heir_reason: HeirReason | None = None
    patient_deceased: bool = False
    patient_objected_to_heirs: bool = False


def access_request_problems(request: AccessRequest) -> list[str]:
    """Every reason (in French) to refuse the request; [] when it may be processed."""
    problems: list[str] = []
    kind = request.requester_kind
    if not request.written:
        problems.append("La demande d'accès au dossier doit être faite par écrit.")
    if not request.identity_document_checked:
        problems.append("Un justificatif d'identité du demandeur doit être vérifié.")
    if kind is RequesterKind.LEGAL_REPRESENTATIVE and not request.quality_proof_checked:
        problems.append("Le justificatif de la qualité de représentant légal doit être vérifié.")
    if kind is RequesterKind.PATIENT and request.patient_deceased:
        problems.append("Le patient est décédé : seuls ses ayants droit peuvent demander l'accès.")
    if kind is RequesterKind.HEIR:
        if not request.patient_deceased:
            problems.append(
                "Un ayant droit ne peut demander l'accès qu'au dossier d'un patient décédé."
            )
        if not request.quality_proof_checked:
            problems.append("Le justificatif de la qualité d'ayant droit doit être vérifié.")
        if request.heir_reason is None:
            problems.append(
                "L'ayant droit doit indiquer le motif de sa demande : connaître les causes de la "
                "mort, défendre la mémoire du défunt ou faire valoir ses droits."
            )
        if request.patient_objected_to_heirs:
            problems.append(
                "Le patient s'est opposé de son vivant à la communication de son dossier "
                "à ses ayants droit."
            )
    return problems


def validate_access_request(request: AccessRequest) -> None:
    """Raise RecordAccessError with every reason to refuse; return if the request is valid."""
    problems = access_request_problems(request)
    if problems:
        raise RecordAccessError(problems)


def add_months(moment: datetime, months: int) -> datetime:
    """Same time, ``months`` calendar months later; the day is clamped to the month's end.

    31 December + 2 months = 28 February (29 in a leap year).
    """
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


@dataclass(frozen=True)
class AccessWindow:
    """When the record may be sent: not before ``not_before``, not after ``not_after``
    (the last instant of the legal last day, in Paris)."""

    not_before: datetime
    not_after: datetime
    extended: bool  # True when the 2-month delay applies

    @property
    def last_day(self) -> date:
        """The legal last day, on the Paris calendar."""
        return self.not_after.astimezone(PARIS).date()


def _five_years_before(day: date) -> date:
    year = day.year - OLD_INFORMATION_YEARS
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def access_deadline(received_at: datetime, oldest_information_date: date | None) -> AccessWindow:
    """The legal window to communicate the record (L.1111-7, R.1111-1).

    At the earliest 48 hours after receipt (time to reflect); at the latest within the 8 days
    that follow the day of receipt, or 2 calendar months (same day-of-month, clamped to the
    month's end) when the information dates from more than 5 years. Days are calendar days
    of the **Paris** calendar, whatever the zone of ``received_at`` or of the workstation: a
    request received on 25/03 at 23:30 in Paris (22:30 UTC) has 02/04 as its last day. The
    deadline is the end of that day. Weekends and public holidays count and do not extend it.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    # 48 hours is a duration: computed in UTC so a DST change does not shorten it.
    not_before = (received_at.astimezone(UTC) + REFLECTION_DELAY).astimezone(received_at.tzinfo)
    received_day = received_at.astimezone(PARIS).date()
    extended = oldest_information_date is not None and oldest_information_date < _five_years_before(
        received_day
    )
    if extended:
        last_day = add_months(
            datetime.combine(received_day, time(12), tzinfo=PARIS), EXTENDED_DELAY_MONTHS
        ).date()
    else:
        last_day = received_day + timedelta(days=STANDARD_DELAY_DAYS)
    not_after = datetime.combine(last_day, time.max, tzinfo=PARIS)
    return AccessWindow(not_before=not_before, not_after=not_after, extended=extended)


def may_deliver(window: AccessWindow, at: datetime) -> bool:
    """True once the 48-hour reflection delay has passed."""
    return at >= window.not_before


def is_overdue(window: AccessWindow, now: datetime, delivered_at: datetime | None = None) -> bool:
    """True when the record was, or still is not, delivered after the legal deadline."""
    moment = delivered_at if delivered_at is not None else now
    return moment > window.not_after


# --- references read out on the phone ---

# Crockford's base 32 without I, L, O, U: no letter can be heard or read as another or as a
# digit (« I » / « 1 », « O » / « 0 »).
_READABLE = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATION_CODE_LENGTH = 4


def station_code(station_id: str) -> str:
    """Four readable characters derived from the workstation's id (« K7P3 »): the same on
    every call, different between stations but for a 1-in-a-million chance (32⁴ codes)."""
    value = int.from_bytes(hashlib.sha256(station_id.encode()).digest()[:4], "big")
    chars = []
    for _ in range(STATION_CODE_LENGTH):
        value, digit = divmod(value, len(_READABLE))
        chars.append(_READABLE[digit])
    return "".join(chars)


def next_reference(year: int, station_id: str, existing: list[str]) -> str:
    """« DA-2026-K7P3-0012 »: the year, the code of the station that registers the request
    and that station's own counter for the year, so that two stations cut off from each
    other never hand out the same reference. ``existing`` are the references already given
    (all stations); the counter follows the highest one with this station's prefix."""
    prefix = f"DA-{year}-{station_code(station_id)}-"
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    numbers = [int(m.group(1)) for ref in existing if (m := pattern.fullmatch(ref))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"
