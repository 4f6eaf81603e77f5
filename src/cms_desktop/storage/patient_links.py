"""Merged patient records: the group of ids that make up one patient, and re-pointing rows.

A merge tombstones the merged record with ``merged_into_id``; rows of insert-only tables
(signed consultations…) keep their old ``patient_id`` for ever, so their readers ask for
``patient_group_ids`` instead of a single id.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cms_desktop.storage.models import Base, Patient, Replicated, Replication


def patient_group_ids(session: Session, patient_id: str) -> list[str]:
    """The id plus every record merged into it, transitively (the given id first)."""
    group = [patient_id]
    frontier = [patient_id]
    while frontier:
        children = session.scalars(
            select(Patient.id).where(Patient.merged_into_id.in_(frontier))
        ).all()
        frontier = [c for c in children if c not in group]
        group.extend(frontier)
    return group


def surviving_id(session: Session, patient_id: str) -> str:
    """The record a (possibly merged) id now lives in: follows ``merged_into_id``."""
    current, seen = patient_id, {patient_id}
    while True:
        target = session.scalar(select(Patient.merged_into_id).where(Patient.id == current))
        if target is None or target in seen:
            return current
        seen.add(target)
        current = target


def per_field_patient_references() -> list[tuple[type[Replicated], str]]:
    """(model, attribute) of every per-field replicated column referencing ``patients.id``.

    Walks the metadata, so the tables other features add later are covered too.
    Insert-only tables are left out (their rows cannot change) as is ``patients`` itself.
    """
    found: list[tuple[type[Replicated], str]] = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = mapper.local_table
        if not isinstance(table, Table) or table.name == "patients":
            continue
        if not issubclass(cls, Replicated) or cls.__replication__ is not Replication.PER_FIELD:
            continue
        for column in table.columns:
            if any(fk.target_fullname == "patients.id" for fk in column.foreign_keys):
                attr = mapper.get_property_by_column(column).key
                found.append((cls, attr))
    return sorted(found, key=lambda item: (getattr(item[0], "__tablename__", ""), item[1]))


def repoint_rows(session: Session, from_id: str, to_id: str) -> dict[str, int]:
    """Move every per-field row of ``from_id`` to ``to_id`` through the ORM (so each change
    is in the op-log); returns the count per table."""
    counts: dict[str, int] = {}
    for cls, attr in per_field_patient_references():
        column = getattr(cls, attr)
        rows = session.scalars(select(cls).where(column == from_id)).all()
        for row in rows:
            setattr(row, attr, to_id)
        if rows:
            counts[f"{getattr(cls, '__tablename__', '')}.{attr}"] = len(rows)
    return counts


__all__ = ["patient_group_ids", "per_field_patient_references", "repoint_rows", "surviving_id"]
