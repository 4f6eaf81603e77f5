"""Sync conflicts for people: list them with both values side by side, and settle one.

Settling writes the chosen value as an ordinary local change (so it reaches every station)
and marks the conflict resolved, which replicates too. Values are only shown to someone
allowed to change that kind of data: the table's declared data kind decides (an allergy's
note to clinicians, an appointment to the agenda's writers), never the value stored with
the conflict nor a default, so the administrator sees no patient data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.hlc import HlcTimestamp
from cms_desktop.domain.oplog import JsonValue
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import any_role, no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import display_name
from cms_desktop.services.clinical_fields import ClinicalKeyUnavailable, open_text
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.clinical_crypto import ClinicalKey, is_sealed
from cms_desktop.storage.codec import decode_value
from cms_desktop.storage.models import OpLogRow, Patient, SyncConflict, SyncStation, User, utcnow
from cms_desktop.sync.tables import table_info

TABLE_LABELS = {
    "patients": "Identité du patient",
    "patient_ald": "ALD du patient",
    "users": "Compte utilisateur",
    "centre": "Centre",
    "rooms": "Salle",
    "consultation_drafts": "Brouillon de consultation",
    "synthesis_history": "Antécédent",
    "synthesis_allergies": "Allergie",
    "synthesis_treatments": "Traitement au long cours",
    "synthesis_vaccinations": "Vaccination",
    "synthesis_risk_factors": "Facteur de risque",
    "synthesis_screenings": "Dépistage",
    "synthesis_problems": "Problème de santé",
    "appointments": "Rendez-vous",
}
HIDDEN = "(masqué)"
SEALED_UNREAD = "(chiffré : la clé du dossier médical n'a pas encore été transmise à votre compte)"


class ConflictChoice(StrEnum):
    SHOWN = "shown"  # keep the value every station displays now
    KEPT = "kept"  # restore the value that was set aside


@dataclass(frozen=True)
class ConflictView:
    id: str
    entity: str
    entity_label: str
    row_id: str
    field: str
    shown_value: str
    kept_value: str
    shown_origin: str
    kept_origin: str
    shown_version: str
    kept_version: str
    detected_at: datetime
    resolved_at: datetime | None
    resolution: str
    can_resolve: bool
    # Which record (« ADAM Rémy, né·e le 10/02/1948 »): a person cannot choose between two
    # phone numbers without knowing whose they are. Hidden like the values.
    record_label: str = ""
    # Where and when each value was typed (« Cabinet 2, 06/12/2026 00:41 »).
    shown_source: str = ""
    kept_source: str = ""


def _opened(ws: Workspace, conflict: SyncConflict, value: JsonValue) -> JsonValue:
    """A clinical value sealed under the clinical key (#17), opened in memory for someone
    allowed to see it; settling writes the stored (sealed) value back, never this text."""
    if not is_sealed(value):
        return value
    assert isinstance(value, str)
    try:
        return open_text(ws.clinical_keys, conflict.entity, conflict.row_id, conflict.field, value)
    except ClinicalKeyUnavailable:
        return SEALED_UNREAD


def _display(value: JsonValue, column: Any) -> str:
    if value is None or value == "":
        return "(vide)"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if column is not None and isinstance(value, str):
        try:
            decoded = decode_value(column, value)
        except ValueError:
            return value
        if isinstance(decoded, datetime):
            return paris_text(decoded)
        if isinstance(decoded, date):
            return decoded.strftime("%d/%m/%Y")
    return str(value)


def _shown(session_rows: list[tuple[str, str, str]], key: str) -> tuple[JsonValue, str, str]:
    """(value, version, origin) of the entry that sets the displayed value of ``key``."""
    best: tuple[JsonValue, str, str] = (None, "", "")
    for hlc, origin, values_json in session_rows:
        values = json.loads(values_json)
        if key in values and hlc > best[1]:
            best = (values[key], hlc, origin)
    return best


def _record_label(
    session: Session, entity: str, row_id: str, keys: Mapping[str, ClinicalKey]
) -> str:
    """The record a conflict is about, in words; "" if it cannot be named here."""
    info = table_info(entity)
    row = session.get(info.model, row_id) if info is not None else None
    if row is None:
        return ""
    patient = row if isinstance(row, Patient) else None
    patient_id = getattr(row, "patient_id", None)
    if patient is None and isinstance(patient_id, str):
        patient = session.get(Patient, patient_id)
    if patient is not None:
        born = f", né·e le {patient.birth_date:%d/%m/%Y}" if patient.birth_date else ""
        return f"{display_name(patient)}{born}"
    if isinstance(row, User):
        return f"{row.full_name} ({row.login})"
    name = getattr(row, "name", None)
    if is_sealed(name):  # a prescription template's name (#17)
        assert isinstance(name, str)
        try:
            return open_text(keys, entity, row_id, "name", name)
        except ClinicalKeyUnavailable:
            return SEALED_UNREAD
    return name if isinstance(name, str) else ""


def _source(stations: dict[str, str], origin: str, version: str) -> str:
    """« Cabinet 2, 06/12/2026 00:41 »: the station that typed a value and when (its HLC)."""
    if not version:
        return ""
    try:
        typed = datetime.fromtimestamp(HlcTimestamp.decode(version).wall_ms / 1000, UTC)
    except ValueError:
        return stations.get(origin, "")
    where = stations.get(origin, "poste inconnu")
    return f"{where}, {paris_text(typed)}"


def _may_resolve(actor: Actor, conflict: SyncConflict) -> bool:
    """Whether the actor may see this conflict's values and settle it: the permission of the
    table's data kind. A table this version does not know is shown to no one."""
    info = table_info(conflict.entity)
    return info is not None and actor.can(info.permission)


@any_role("values shown only to the permission of the table's data kind")
def list_conflicts(
    ws: Workspace, actor: Actor, include_resolved: bool = False
) -> list[ConflictView]:
    """Conflicts, newest first; values are hidden from those who may not settle them."""
    views: list[ConflictView] = []
    with ws.store.read() as session:
        stations = {ws.store.station_id: "ce poste"}
        stations.update(
            (station_id, name or station_id[:8])
            for station_id, name in session.execute(select(SyncStation.id, SyncStation.name))
        )
        query = select(SyncConflict).where(SyncConflict.deleted.is_(False))
        if not include_resolved:
            query = query.where(SyncConflict.resolved_at.is_(None))
        for conflict in session.scalars(query.order_by(SyncConflict.detected_at.desc())):
            allowed = _may_resolve(actor, conflict)
            info = table_info(conflict.entity)
            column = info.columns.get(conflict.field) if info else None
            history = session.execute(
                select(OpLogRow.hlc, OpLogRow.origin, OpLogRow.values_json).where(
                    OpLogRow.entity == conflict.entity,
                    OpLogRow.row_id == conflict.row_id,
                    OpLogRow.applied.is_(True),
                )
            ).all()
            value, version, origin = _shown([(h, o, v) for h, o, v in history], conflict.field)
            views.append(
                ConflictView(
                    id=conflict.id,
                    entity=conflict.entity,
                    entity_label=TABLE_LABELS.get(conflict.entity, conflict.entity),
                    row_id=conflict.row_id,
                    field=conflict.field,
                    shown_value=_display(_opened(ws, conflict, value), column)
                    if allowed
                    else HIDDEN,
                    kept_value=_display(
                        _opened(ws, conflict, json.loads(conflict.kept_value)), column
                    )
                    if allowed
                    else HIDDEN,
                    shown_origin=origin,
                    kept_origin=conflict.kept_origin,
                    shown_version=version,
                    kept_version=conflict.kept_version,
                    detected_at=conflict.detected_at,
                    resolved_at=conflict.resolved_at,
                    resolution=conflict.resolution,
                    can_resolve=allowed and conflict.resolved_at is None,
                    record_label=_record_label(
                        session, conflict.entity, conflict.row_id, ws.clinical_keys
                    )
                    if allowed
                    else HIDDEN,
                    shown_source=_source(stations, origin, version),
                    kept_source=_source(stations, conflict.kept_origin, conflict.kept_version),
                )
            )
    return views


@no_actor("a count for the status bar, no values")
def count_open_conflicts(ws: Workspace) -> int:
    with ws.store.read() as session:
        return len(
            session.scalars(
                select(SyncConflict.id).where(
                    SyncConflict.resolved_at.is_(None), SyncConflict.deleted.is_(False)
                )
            ).all()
        )


@requires(Permission.CLINICAL_WRITE, note="the permission of the conflict table's data kind")
def resolve_conflict(ws: Workspace, actor: Actor, conflict_id: str, choice: ConflictChoice) -> None:
    """Settle a conflict everywhere: the chosen value becomes a normal, replicated change."""
    with ws.store.write() as session:
        conflict = session.get(SyncConflict, conflict_id)
        if conflict is None or conflict.deleted:
            raise NotFound("Ce conflit de synchronisation n'existe pas (ou plus).")
        info = table_info(conflict.entity)
        if info is not None:
            actor.require(info.permission)
        if conflict.resolved_at is not None:
            raise ValidationFailed("Ce conflit a déjà été tranché, peut-être sur un autre poste.")
        if info is None or conflict.field not in info.columns:
            raise ValidationFailed(
                "Ce conflit concerne des données d'une version plus récente du logiciel : "
                "mettez ce poste à jour pour le trancher."
            )
        if ConflictChoice(choice) is ConflictChoice.KEPT:
            row = session.get(info.model, conflict.row_id)
            if row is None:
                raise NotFound("La fiche concernée par ce conflit est introuvable sur ce poste.")
            value = decode_value(info.columns[conflict.field], json.loads(conflict.kept_value))
            setattr(row, conflict.field, value)
        conflict.resolved_at = utcnow()
        conflict.resolution = str(choice)
        conflict.resolved_by = actor.user_id
        audit.append(
            session,
            ws.store.station_id,
            "sync_conflict_resolved",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type=conflict.entity,
            target_id=conflict.row_id,
            details={"field": conflict.field, "choice": str(choice), "conflict": conflict.id},
        )
