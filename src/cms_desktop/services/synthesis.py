"""The fiche de synthèse through the services: read it whole, add, update and end entries.

Clinicians only (``clinical.read`` / ``clinical.write``). Every write is audited with ids
only; ending an entry resolves it, stops it or tombstones it, never erases it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.prevention import ScreeningKind
from cms_desktop.domain.synthesis import (
    Allergy,
    AllergyKind,
    EntryStatus,
    HistoryEntry,
    HistoryKind,
    LongTermTreatment,
    Problem,
    RiskFactor,
    RiskKind,
    ScreeningRecord,
    Severity,
    SynthesisEntry,
    SynthesisError,
    Vaccination,
)
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import _patient_ids, live_patient
from cms_desktop.services.clinical_fields import open_text, seal_text, writing_key
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.clinical_crypto import ClinicalKey, is_sealed
from cms_desktop.storage.models import (
    AllergyRow,
    HistoryRow,
    ProblemRow,
    RiskFactorRow,
    ScreeningRow,
    TreatmentRow,
    VaccinationRow,
    new_id,
)

__all__ = [
    "Section",
    "Synthesis",
    "SynthesisItem",
    "add_entry",
    "end_entry",
    "read_synthesis",
    "read_synthesis_in",
    "remove_entry",
    "update_entry",
]


class Section(StrEnum):
    HISTORY = "history"
    ALLERGIES = "allergies"
    TREATMENTS = "treatments"
    VACCINATIONS = "vaccinations"
    RISK_FACTORS = "risk_factors"
    SCREENINGS = "screenings"
    PROBLEMS = "problems"


_ROW: dict[Section, Any] = {
    Section.HISTORY: HistoryRow,
    Section.ALLERGIES: AllergyRow,
    Section.TREATMENTS: TreatmentRow,
    Section.VACCINATIONS: VaccinationRow,
    Section.RISK_FACTORS: RiskFactorRow,
    Section.SCREENINGS: ScreeningRow,
    Section.PROBLEMS: ProblemRow,
}
SYNTHESIS_ROWS = _ROW  # section → its model, for the demo builder

_SECTION_OF: dict[type[Any], Section] = {
    HistoryEntry: Section.HISTORY,
    Allergy: Section.ALLERGIES,
    LongTermTreatment: Section.TREATMENTS,
    Vaccination: Section.VACCINATIONS,
    RiskFactor: Section.RISK_FACTORS,
    ScreeningRecord: Section.SCREENINGS,
    Problem: Section.PROBLEMS,
}
_ENTRY_OF = {section: cls for cls, section in _SECTION_OF.items()}
# The free-text fields of each section, sealed under the clinical key (#17). Codes chosen
# from a list (kind, severity, status of an allergy or problem, programme), dates and
# numbers stay under the database key only: they sort and filter, and say little alone.
SEALED_FIELDS: dict[Section, tuple[str, ...]] = {
    Section.HISTORY: ("label", "code", "note"),
    Section.ALLERGIES: ("substance", "reaction", "note"),
    Section.TREATMENTS: ("medicine", "dosage", "prescriber"),
    Section.VACCINATIONS: ("vaccine", "lot", "dose", "given_by"),
    Section.RISK_FACTORS: ("status", "note"),
    Section.SCREENINGS: ("result",),
    Section.PROBLEMS: ("label", "code"),
}
# Stored codes back to their enums when rows are read.
_ENUM_FIELDS: dict[str, Any] = {
    "severity": Severity,
    "programme": ScreeningKind,
}
_KIND_ENUM: dict[Section, Any] = {
    Section.HISTORY: HistoryKind,
    Section.ALLERGIES: AllergyKind,
    Section.RISK_FACTORS: RiskKind,
}


@dataclass(frozen=True)
class SynthesisItem:
    id: str
    entry: Any  # the domain.synthesis dataclass of its section
    updated_at: datetime


@dataclass(frozen=True)
class Synthesis:
    patient_id: str
    history: tuple[SynthesisItem, ...] = ()
    allergies: tuple[SynthesisItem, ...] = ()
    treatments: tuple[SynthesisItem, ...] = ()
    vaccinations: tuple[SynthesisItem, ...] = ()
    risk_factors: tuple[SynthesisItem, ...] = ()
    screenings: tuple[SynthesisItem, ...] = ()
    problems: tuple[SynthesisItem, ...] = ()

    @property
    def active_allergies(self) -> tuple[SynthesisItem, ...]:
        return tuple(i for i in self.allergies if i.entry.status is EntryStatus.ACTIVE)

    def last_screenings(self) -> dict[ScreeningKind, date | None]:
        last: dict[ScreeningKind, date | None] = {}
        for item in self.screenings:
            kind, done = item.entry.programme, item.entry.done_on
            previous = last.get(kind)
            last[kind] = done if previous is None or done > previous else previous
        return last


def _to_entry(section: Section, row: Any, keys: Mapping[str, ClinicalKey]) -> Any:
    cls = _ENTRY_OF[section]
    values = {f.name: getattr(row, f.name) for f in fields(cls)}
    for name in SEALED_FIELDS[section]:  # opened in memory, never written back to the row
        values[name] = open_text(keys, row.__tablename__, row.id, name, values[name])
    for name, enum in _ENUM_FIELDS.items():
        if name in values:
            values[name] = enum(values[name])
    if "status" in values and section in (Section.ALLERGIES, Section.PROBLEMS):
        values["status"] = EntryStatus(values["status"])
    if section in _KIND_ENUM:
        values["kind"] = _KIND_ENUM[section](values["kind"])
    return cls(**values)


def _sort_key(section: Section, item: SynthesisItem) -> tuple[Any, ...]:
    entry = item.entry
    if section is Section.VACCINATIONS:
        return (-entry.given_on.toordinal(),)
    if section is Section.SCREENINGS:
        return (-entry.done_on.toordinal(),)
    if section is Section.HISTORY:
        return (str(entry.kind), -(entry.year or 0), entry.label)
    return (item.updated_at,)


def read_synthesis_in(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> Synthesis:
    """The whole synthesis read in an open session (no permission check: callers do it),
    its sealed fields opened with ``keys`` (the session's clinical keys)."""
    ids = _patient_ids(session, patient_id)
    sections: dict[str, tuple[SynthesisItem, ...]] = {}
    for section, model in _ROW.items():
        rows = session.scalars(
            select(model).where(model.patient_id.in_(ids), model.deleted.is_(False))
        ).all()
        items = [SynthesisItem(r.id, _to_entry(section, r, keys), r.updated_at) for r in rows]
        items.sort(key=lambda i, s=section: _sort_key(s, i))  # type: ignore[misc]
        sections[section.value] = tuple(items)
    return Synthesis(patient_id, **sections)


@requires(Permission.CLINICAL_READ)
def read_synthesis(ws: Workspace, actor: Actor, patient_id: str) -> Synthesis:
    actor.require(Permission.CLINICAL_READ)
    with ws.store.read() as session:
        live_patient(session, patient_id)
        return read_synthesis_in(session, patient_id, ws.clinical_keys)


def _clean(entry: SynthesisEntry) -> tuple[Section, SynthesisEntry]:
    section = _SECTION_OF.get(type(entry))
    if section is None:
        raise ValidationFailed("Type d'élément de synthèse inconnu.")
    try:
        return section, entry.clean(paris_today())
    except SynthesisError as exc:
        raise ValidationFailed(str(exc)) from None
    except ValueError:
        # A stored code that is not one of the enum's values.
        raise ValidationFailed("Une valeur choisie n'est pas reconnue.") from None


def _values(entry: SynthesisEntry) -> dict[str, Any]:
    return {
        f.name: (str(v) if isinstance(v := getattr(entry, f.name), StrEnum) else v)
        for f in fields(entry)
    }


def _audit(
    ws: Workspace, session: Session, actor: Actor, action: str, row: Any, section: Section
) -> None:
    audit.append(
        session,
        ws.store.station_id,
        action,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="synthesis_entry",
        target_id=row.id,
        details={"section": section.value, "patient_id": row.patient_id},
    )


@requires(Permission.CLINICAL_WRITE)
def add_entry(ws: Workspace, actor: Actor, patient_id: str, entry: SynthesisEntry) -> str:
    """Add an entry to the patient's synthesis; returns its id. Nothing stored if invalid."""
    actor.require(Permission.CLINICAL_WRITE)
    section, clean = _clean(entry)
    key = writing_key(ws)
    with ws.store.write() as session:
        live_patient(session, patient_id)
        values = _values(clean)
        row = _ROW[section](id=new_id(), patient_id=patient_id, author_id=actor.user_id)
        table = row.__tablename__
        for name, value in values.items():
            sealed = name in SEALED_FIELDS[section]
            setattr(row, name, seal_text(key, table, row.id, name, value) if sealed else value)
        session.add(row)
        session.flush()
        _audit(ws, session, actor, "synthesis_entry_added", row, section)
        return str(row.id)


def _row(session: Session, section: Section, entry_id: str) -> Any:
    row = session.get(_ROW[section], entry_id)
    if row is None or row.deleted:
        raise NotFound("Élément de synthèse introuvable.")
    return row


@requires(Permission.CLINICAL_WRITE)
def update_entry(ws: Workspace, actor: Actor, entry_id: str, entry: SynthesisEntry) -> None:
    """Replace the entry's values; only changed fields are written (and replicated)."""
    actor.require(Permission.CLINICAL_WRITE)
    section, clean = _clean(entry)
    key = writing_key(ws)
    with ws.store.write() as session:
        row = _row(session, section, entry_id)
        changed = False
        table = row.__tablename__
        for name, value in _values(clean).items():
            stored = getattr(row, name)
            if name in SEALED_FIELDS[section]:
                # Compared in clear; a new ciphertext only for a changed text, and for a
                # text written before the clinical key (sealed now).
                before = open_text(ws.clinical_keys, table, row.id, name, stored)
                if before != value or (stored and not is_sealed(stored)):
                    setattr(row, name, seal_text(key, table, row.id, name, value))
                    changed = True
            elif stored != value:
                setattr(row, name, value)
                changed = True
        if changed:
            session.flush()
            _audit(ws, session, actor, "synthesis_entry_updated", row, section)


@requires(Permission.CLINICAL_WRITE)
def end_entry(ws: Workspace, actor: Actor, section: Section, entry_id: str) -> None:
    """Resolve an allergy or a problem, stop a treatment, tombstone any other entry."""
    actor.require(Permission.CLINICAL_WRITE)
    section = Section(section)
    with ws.store.write() as session:
        row = _row(session, section, entry_id)
        if section in (Section.ALLERGIES, Section.PROBLEMS):
            row.status = EntryStatus.RESOLVED.value
        elif section is Section.TREATMENTS:
            row.active = False
        else:
            row.deleted = True
        session.flush()
        _audit(ws, session, actor, "synthesis_entry_ended", row, section)


@requires(Permission.CLINICAL_WRITE)
def remove_entry(ws: Workspace, actor: Actor, section: Section, entry_id: str) -> None:
    """Tombstone an entry recorded by mistake (it stays in the store and its history)."""
    actor.require(Permission.CLINICAL_WRITE)
    section = Section(section)
    with ws.store.write() as session:
        row = _row(session, section, entry_id)
        row.deleted = True
        session.flush()
        _audit(ws, session, actor, "synthesis_entry_removed", row, section)
