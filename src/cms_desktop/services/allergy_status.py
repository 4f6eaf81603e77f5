"""Allergies stated or unknown: « Aucune allergie connue » is a clinician's statement,
dated and signed, never the mere absence of entries (then « Allergies non renseignées »).

A statement holds until an allergy entry is recorded or changed after it, or until a
clinician withdraws it (tombstone, replicated like any per-field row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import _patient_ids, live_patient
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.synthesis import Synthesis, read_synthesis_in
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import AllergyStatementRow, User

__all__ = [
    "AllergyState",
    "AllergyStatus",
    "allergy_status_in",
    "state_no_known_allergy",
    "withdraw_no_known_allergy",
]


class AllergyState(StrEnum):
    ALLERGIES = "allergies"  # at least one active allergy or intolerance
    NONE_KNOWN = "none_known"  # a clinician stated « Aucune allergie connue »
    NOT_STATED = "not_stated"  # nobody said: « Allergies non renseignées »


@dataclass(frozen=True)
class AllergyStatus:
    state: AllergyState
    stated_on: date | None = None
    stated_by: str = ""


def _statements(session: Session, patient_id: str) -> list[AllergyStatementRow]:
    ids = _patient_ids(session, patient_id)
    return list(
        session.scalars(
            select(AllergyStatementRow).where(
                AllergyStatementRow.patient_id.in_(ids), AllergyStatementRow.deleted.is_(False)
            )
        )
    )


def allergy_status_in(session: Session, synthesis: Synthesis) -> AllergyStatus:
    """The record's allergy state (no permission check: the caller read the synthesis)."""
    if synthesis.active_allergies:
        return AllergyStatus(AllergyState.ALLERGIES)
    latest_entry: datetime | None = max(
        (item.updated_at for item in synthesis.allergies), default=None
    )
    statements = sorted(_statements(session, synthesis.patient_id), key=lambda r: r.created_at)
    if not statements:
        return AllergyStatus(AllergyState.NOT_STATED)
    last = statements[-1]
    if latest_entry is not None and latest_entry > last.created_at:
        # An allergy was recorded (then resolved) after the statement: ask again.
        return AllergyStatus(AllergyState.NOT_STATED)
    author = session.get(User, last.author_id) if last.author_id else None
    return AllergyStatus(
        AllergyState.NONE_KNOWN, last.stated_on, author.full_name if author else ""
    )


@requires(Permission.CLINICAL_WRITE)
def state_no_known_allergy(ws: Workspace, actor: Actor, patient_id: str) -> None:
    """Record that the patient has no known allergy, today, by the actor (audited)."""
    actor.require(Permission.CLINICAL_WRITE)
    with ws.store.write() as session:
        live_patient(session, patient_id)
        if read_synthesis_in(session, patient_id, ws.clinical_keys).active_allergies:
            raise ValidationFailed(
                "Des allergies actives sont enregistrées : clôturez-les d'abord si elles "
                "sont erronées."
            )
        row = AllergyStatementRow(
            patient_id=patient_id, author_id=actor.user_id, stated_on=paris_today()
        )
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "no_known_allergy_stated", patient_id)


@requires(Permission.CLINICAL_WRITE)
def withdraw_no_known_allergy(ws: Workspace, actor: Actor, patient_id: str) -> None:
    """Back to « Allergies non renseignées » (the statements are tombstoned, audited)."""
    actor.require(Permission.CLINICAL_WRITE)
    with ws.store.write() as session:
        live_patient(session, patient_id)
        rows = _statements(session, patient_id)
        for row in rows:
            row.deleted = True
        if rows:
            session.flush()
            _audit(ws, session, actor, "no_known_allergy_withdrawn", patient_id)


def _audit(ws: Workspace, session: Session, actor: Actor, action: str, patient_id: str) -> None:
    audit.append(
        session,
        ws.store.station_id,
        action,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="patient",
        target_id=patient_id,
    )
