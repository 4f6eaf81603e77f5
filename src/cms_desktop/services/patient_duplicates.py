"""Likely duplicates of a patient (same NIR, or same birth date and close names) and merging.

A merge keeps everything of both records: the merged one is tombstoned and points at the
kept one, per-field rows are re-pointed, insert-only rows are reached through
``storage.patient_links.patient_group_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cms_desktop.domain.identity import (
    DUPLICATE_REASON_LABELS,
    DuplicateReason,
    IdentityTraits,
    Sex,
    agreed,
    duplicate_reason,
)
from cms_desktop.domain.nir import Nir
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ServiceError, ValidationFailed
from cms_desktop.services.patient_form import PatientForm, validate_form
from cms_desktop.services.patient_search import display_name
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Patient
from cms_desktop.storage.patient_links import repoint_rows

__all__ = [
    "MERGE_FILLED_FIELDS",
    "DuplicateCandidate",
    "DuplicateSuspected",
    "check_not_duplicate",
    "find_duplicates",
    "merge_patients",
]


@dataclass(frozen=True)
class DuplicateCandidate:
    id: str
    display_name: str
    birth_date: date
    reason: DuplicateReason
    reason_label: str
    sex: str = ""

    @property
    def born(self) -> str:
        return agreed(self.sex, "né", "née", "né·e")


class DuplicateSuspected(ServiceError):
    """The patient looks already registered; ``candidates`` lists the likely records."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = tuple(candidates)
        lines = [
            f"• {c.display_name}, {c.born} le {c.birth_date:%d/%m/%Y} ({c.reason_label.lower()})"
            for c in candidates
        ]
        super().__init__(
            "Ce patient semble déjà enregistré :\n"
            + "\n".join(lines)
            + "\nOuvrez le dossier existant, ou confirmez qu'il s'agit d'une autre personne."
        )


def _traits(p: Patient) -> IdentityTraits:
    return IdentityTraits(
        birth_name=p.birth_name,
        first_given_name=p.first_given_name,
        birth_date=p.birth_date,
        sex=Sex(p.sex),
        given_names=tuple(p.given_names.split()),
        used_name=p.used_name or None,
        used_given_name=p.used_given_name or None,
        nir=Nir(p.nir) if p.nir else None,
    )


def _candidates(
    session: Session, traits: IdentityTraits, exclude_id: str | None
) -> list[DuplicateCandidate]:
    conditions = [Patient.birth_date == traits.birth_date]
    if traits.nir is not None:
        conditions.append(Patient.nir == traits.nir.compact)
    query = select(Patient).where(
        or_(*conditions), Patient.deleted.is_(False), Patient.merged_into_id.is_(None)
    )
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    found = []
    for patient in session.scalars(query):
        reason = duplicate_reason(traits, _traits(patient))
        if reason is not None:
            found.append(
                DuplicateCandidate(
                    patient.id,
                    display_name(
                        patient.birth_name, patient.used_name, patient.first_given_name, patient.sex
                    ),
                    patient.birth_date,
                    reason,
                    DUPLICATE_REASON_LABELS[reason],
                    patient.sex,
                )
            )
    # Same NIR first: it is the strongest sign.
    return sorted(found, key=lambda c: (c.reason is not DuplicateReason.SAME_NIR, c.display_name))


@requires(Permission.PATIENT_IDENTITY_READ)
def find_duplicates(
    ws: Workspace, actor: Actor, form: PatientForm, exclude_id: str | None = None
) -> list[DuplicateCandidate]:
    """Records that are probably the person of ``form`` (raises ValidationFailed if invalid)."""
    actor.require(Permission.PATIENT_IDENTITY_READ)
    clean = validate_form(form, paris_today())
    with ws.store.read() as session:
        return _candidates(session, clean.traits, exclude_id)


def check_not_duplicate(
    session: Session, traits: IdentityTraits, exclude_id: str | None, confirmed: tuple[str, ...]
) -> None:
    """Raise DuplicateSuspected for candidates the user has not confirmed as other people."""
    unconfirmed = [c for c in _candidates(session, traits, exclude_id) if c.id not in confirmed]
    if unconfirmed:
        raise DuplicateSuspected(unconfirmed)


# Filled on the kept record when empty there: never the strict traits (birth name, first
# given name, birth date, sex) nor the identity status, which belong to the kept record.
MERGE_FILLED_FIELDS = (
    "used_name",
    "given_names",
    "used_given_name",
    "birth_place_code",
    "birth_place_label",
    "birth_country",
    "address",
    "postcode",
    "city",
    "phone_mobile",
    "phone_home",
    "email",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "gp_user_id",
    "gp_outside_name",
    "nir",
    "scheme",
    "c2s_until",
    "ame_until",
    "complementary_insurer",
    "complementary_number",
    "complementary_until",
)


def _live(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted or patient.merged_into_id is not None:
        raise NotFound("Dossier patient introuvable (ou déjà fusionné).")
    return patient


@requires(Permission.PATIENT_MERGE)
def merge_patients(ws: Workspace, actor: Actor, keep_id: str, merged_id: str) -> None:
    """Merge ``merged_id`` into ``keep_id``; audited with both ids."""
    actor.require(Permission.PATIENT_MERGE)
    if keep_id == merged_id:
        raise ValidationFailed("Choisissez deux dossiers différents à fusionner.")
    with ws.store.write() as session:
        keep = _live(session, keep_id)
        merged = _live(session, merged_id)
        filled = []
        for name in MERGE_FILLED_FIELDS:
            if not getattr(keep, name) and getattr(merged, name):
                # The médecin traitant is one or the other: never fill both halves.
                if name == "gp_outside_name" and keep.gp_user_id:
                    continue
                if name == "gp_user_id" and keep.gp_outside_name:
                    continue
                setattr(keep, name, getattr(merged, name))
                filled.append(name)
        repointed = repoint_rows(session, merged_id, keep_id)
        merged.merged_into_id = keep_id
        merged.deleted = True
        audit.append(
            session,
            ws.store.station_id,
            "patient_merged",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=keep_id,
            details={"merged_id": merged_id, "filled": filled, "repointed": repointed},
        )
