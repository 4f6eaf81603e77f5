"""The allergy check of prescription lines against the patient's recorded allergies and
intolerances (rules in ``domain.allergy_check``), and the prescriber's confirmation.

Every path that puts a line on a prescription (typing, BDPM completion, template, renewal)
ends in the same service call to render or print it, and that call refuses a line whose
match is not confirmed: the editor shows the warning, the service holds the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cms_desktop.domain.allergy_check import (
    AllergyConfirmation,
    AllergyMatch,
    AllergyProfile,
    allergy_profile,
    clean_reason,
    line_matches,
    missing_confirmation,
)
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.prescription import LineKind, PrescriptionLine
from cms_desktop.domain.synthesis import ALLERGY_KIND_LABELS, Allergy
from cms_desktop.services import medicines
from cms_desktop.services.access import internal, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.printing_common import get_patient
from cms_desktop.services.synthesis import read_synthesis_in
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.clinical_crypto import ClinicalKey

ACTION_CONFIRMED = "prescription_allergy_confirmed"


@dataclass(frozen=True)
class LineAllergyCheck:
    """What the check found for one line: the matches, and whether the line's confirmation
    covers them. ``uncoded`` and ``recorded`` describe the patient's allergies, so that a
    line without a match is never read as « checked » when nothing could be checked."""

    matches: tuple[AllergyMatch, ...]
    unconfirmed: tuple[AllergyMatch, ...]
    uncoded: tuple[str, ...]  # « Latex : allergie non codée : vérifiez vous-même »
    recorded: bool  # at least one active allergy or intolerance is recorded

    @property
    def blocked(self) -> bool:
        return bool(self.unconfirmed)


def allergy_profiles(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> tuple[AllergyProfile, ...]:
    """The patient's active allergies and intolerances, resolved through the BDPM and the
    table of classes."""
    profiles = []
    for item in read_synthesis_in(session, patient_id, keys).active_allergies:
        entry: Allergy = item.entry
        known = medicines.allergen_substances(session, entry.substance)
        profiles.append(
            allergy_profile(entry.substance, ALLERGY_KIND_LABELS[entry.kind].lower(), known)
        )
    return tuple(profiles)


def _check(
    session: Session, profiles: tuple[AllergyProfile, ...], line: PrescriptionLine
) -> LineAllergyCheck:
    matches: tuple[AllergyMatch, ...] = ()
    if line.kind is LineKind.MEDICINE and line.dci.strip():
        substances = medicines.line_substances(session, line.dci, line.brand)
        matches = line_matches(profiles, substances)
    return LineAllergyCheck(
        matches,
        missing_confirmation(matches, line.allergy_confirmation),
        tuple(p.uncoded_notice for p in profiles if not p.coded),
        bool(profiles),
    )


@requires(Permission.PRESCRIPTION_WRITE)
def check_lines(
    ws: Workspace, actor: Actor, patient_id: str, lines: tuple[PrescriptionLine, ...]
) -> tuple[LineAllergyCheck, ...]:
    """One check per line, in order."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    with ws.store.read() as session:
        get_patient(session, patient_id)
        profiles = allergy_profiles(session, patient_id, ws.clinical_keys)
        return tuple(_check(session, profiles, line) for line in lines)


def uncoded_allergies(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> tuple[str, ...]:
    profiles = allergy_profiles(session, patient_id, keys)
    return tuple(p.uncoded_notice for p in profiles if not p.coded)


@requires(Permission.PRESCRIPTION_WRITE)
def confirm_despite_allergy(
    ws: Workspace, actor: Actor, patient_id: str, line: PrescriptionLine, reason: str
) -> PrescriptionLine:
    """The line with the prescriber's confirmation (reason, who, when, which allergies);
    audited. Refused without a reason; a line that matches nothing is returned unchanged."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    try:
        text = clean_reason(reason)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    with ws.store.write() as session:
        get_patient(session, patient_id)
        check = _check(session, allergy_profiles(session, patient_id, ws.clinical_keys), line)
        if not check.matches:
            return replace(line, allergy_confirmation=None)
        confirmation = AllergyConfirmation(
            reason=text,
            allergies=tuple(dict.fromkeys(m.allergy for m in check.matches)),
            by=actor.login,
            by_name=actor.full_name,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        audit.append(
            session,
            ws.store.station_id,
            ACTION_CONFIRMED,
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
            details={"patient_id": patient_id, "allergies": len(confirmation.allergies)},
        )
        return replace(line, allergy_confirmation=confirmation)


@internal("preview and print check prescription.write first")
def require_confirmed(
    session: Session,
    actor: Actor,
    patient_id: str,
    lines: tuple[PrescriptionLine, ...],
    keys: Mapping[str, ClinicalKey],
) -> None:
    """Raise ValidationFailed naming the first line whose allergy match is not confirmed
    by this prescriber."""
    profiles = allergy_profiles(session, patient_id, keys)
    for number, line in enumerate(lines, start=1):
        confirmation = line.allergy_confirmation
        if confirmation is not None and confirmation.by != actor.login:
            line = replace(line, allergy_confirmation=None)
        check = _check(session, profiles, line)
        if check.blocked:
            raise ValidationFailed(
                f"Ligne {number} ({line.dci.upper()}) : {check.unconfirmed[0].message} "
                "Confirmez la prescription avec un motif avant de l'imprimer."
            )


def without_confirmations(lines: tuple[PrescriptionLine, ...]) -> tuple[PrescriptionLine, ...]:
    """Lines reused in a template or a renewal: a confirmation belongs to the prescription
    it was given for; the prescriber confirms again."""
    return tuple(replace(line, allergy_confirmation=None) for line in lines)
