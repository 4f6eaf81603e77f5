"""The whole-centre archive for the 20-year retention of medical records (CSP R.1112-7),
and the archive of chosen patients' records (one patient, or every patient inactive for a
number of years) in the same self-describing format, read by the same reader.

Unlike a backup (which restores a workstation), an archive is meant to be *read* long
after this software is gone: see storage/archive_export.py. It holds clinical content
readable with its passphrase alone, so it is made by the medical director (who may export
records), never by the administrator, and the export is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms_desktop import __version__
from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.backups import audit_record, low_priority, os_reason
from cms_desktop.services.clinical_fields import open_bytes, open_text
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import archive_export, audit
from cms_desktop.storage.archive_export import ArchiveUnreadable
from cms_desktop.storage.models import (
    Appointment,
    Centre,
    Consultation,
    Document,
    Patient,
    PrescriptionRecord,
)
from cms_desktop.storage.patient_links import patient_group_ids

MIN_PASSPHRASE = 16


class ArchiveFailed(ServiceError):
    pass


@dataclass(frozen=True)
class ArchiveResult:
    path: str
    tables: int
    rows: int


def _check_passphrase(passphrase: str, confirmation: str) -> None:
    if passphrase != confirmation:
        raise ValidationFailed("Les deux saisies de la phrase de passe diffèrent.")
    # No lock-out protects an archive: its passphrase must resist an offline attack.
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationFailed(
            f"La phrase de passe de l'archive doit contenir au moins {MIN_PASSPHRASE} caractères."
        )
    try:
        check_password_strength(passphrase)
    except WeakPassword as exc:
        raise ValidationFailed(str(exc).replace("Le mot de passe", "La phrase de passe")) from None


def _about(ws: Workspace, actor: Actor, now: datetime) -> dict[str, str]:
    with ws.store.read() as session:
        centre = session.query(Centre).first()
        centre_name = centre.name if centre is not None else ""
    return {
        "centre_id": ws.centre_id,
        "centre_name": centre_name,
        "created_at": now.isoformat(),
        "created_by": actor.login,
        "app_version": __version__,
    }


@requires(Permission.EXPORT_RECORD)
def export_centre_archive(
    ws: Workspace, actor: Actor, folder: Path, passphrase: str, confirmation: str
) -> ArchiveResult:
    actor.require(Permission.EXPORT_RECORD)
    _check_passphrase(passphrase, confirmation)
    if not folder.is_dir():
        raise ArchiveFailed(f"Dossier introuvable : {folder}.")
    now = datetime.now(UTC).replace(microsecond=0)
    about = _about(ws, actor, now)
    name = f"cms-archive-{ws.centre_id.replace('-', '')[:8]}-{now:%Y%m%dT%H%M%SZ}.cmsarchive"
    try:
        facts = low_priority(
            lambda: archive_export.export(
                ws.store.engine, folder, name, passphrase, about, openers=_openers(ws)
            )
        )
    except OSError as exc:
        raise ArchiveFailed(f"L'archive n'a pas pu être écrite ({os_reason(exc)}).") from None
    audit_record(ws, actor, "centre_archive_exported", {"file": Path(facts.path).name})
    return ArchiveResult(facts.path, len(facts.row_counts), sum(facts.row_counts.values()))


def _openers(ws: Workspace) -> tuple[archive_export.TextOpener, archive_export.BytesOpener]:
    """The archive holds clinical content in clear, under its passphrase (#17): opened
    here with the session's clinical keys (the director holds them); without them the
    export stops with the French message naming whom to ask."""
    keys = dict(ws.clinical_keys)

    def text(table: str, row_id: str, field: str, stored: str) -> str:
        return open_text(keys, table, row_id, field, stored)

    def data(table: str, row_id: str, field: str, stored: bytes) -> bytes:
        return open_bytes(keys, table, row_id, field, stored)

    return text, data


@dataclass(frozen=True)
class InactivePatient:
    id: str
    label: str  # « DUPONT Jean — 05/03/1950 »
    last_activity: date | None  # None: nothing recorded but the identity


def _last_activity(session: Session) -> dict[str, datetime]:
    """Each patient's latest consultation, appointment, prescription, document or change
    of identity (a record is inactive when none of them is recent)."""
    last: dict[str, datetime] = {}
    sources = (
        select(Consultation.patient_id, func.max(Consultation.seen_at)).group_by(
            Consultation.patient_id
        ),
        select(Appointment.patient_id, func.max(Appointment.start_at)).group_by(
            Appointment.patient_id
        ),
        select(PrescriptionRecord.patient_id, func.max(PrescriptionRecord.created_at)).group_by(
            PrescriptionRecord.patient_id
        ),
        select(Document.patient_id, func.max(Document.created_at)).group_by(Document.patient_id),
        select(Patient.id, Patient.updated_at),
    )
    for statement in sources:
        for patient_id, at in session.execute(statement):
            if patient_id is None or at is None:
                continue
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            if patient_id not in last or at > last[patient_id]:
                last[patient_id] = at
    return last


@requires(Permission.EXPORT_RECORD)
def inactive_patients(
    ws: Workspace, actor: Actor, years: int, now: datetime | None = None
) -> list[InactivePatient]:
    """Patients (not merged into another record) with nothing recorded for ``years`` years."""
    actor.require(Permission.EXPORT_RECORD)
    if years < 1:
        raise ValidationFailed("Indiquez un nombre d'années d'inactivité d'au moins 1.")
    moment = now or datetime.now(UTC)
    try:
        limit = moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        limit = moment.replace(year=moment.year - years, day=28)
    with ws.store.read() as session:
        last = _last_activity(session)
        patients = session.scalars(
            select(Patient)
            .where(Patient.merged_into_id.is_(None), Patient.deleted.is_(False))
            .order_by(Patient.birth_name, Patient.first_given_name)
        ).all()
        found = []
        for p in patients:
            at = last.get(p.id)
            if at is None or at < limit:
                given = p.used_given_name or p.first_given_name
                label = f"{(p.used_name or p.birth_name).upper()} {given} — {p.birth_date:%d/%m/%Y}"
                found.append(InactivePatient(p.id, label, at.date() if at else None))
    return found


@requires(Permission.EXPORT_RECORD)
def export_patient_archive(
    ws: Workspace,
    actor: Actor,
    folder: Path,
    patient_ids: list[str],
    passphrase: str,
    confirmation: str,
) -> ArchiveResult:
    """The whole records of ``patient_ids`` (and of the records merged into them) in one
    archive of the whole-centre format; each patient's record gets an audit entry."""
    actor.require(Permission.EXPORT_RECORD)
    if not patient_ids:
        raise ValidationFailed("Aucun patient à archiver.")
    _check_passphrase(passphrase, confirmation)
    if not folder.is_dir():
        raise ArchiveFailed(f"Dossier introuvable : {folder}.")
    with ws.store.read() as session:
        group: list[str] = []
        for patient_id in dict.fromkeys(patient_ids):
            patient = session.get(Patient, patient_id)
            if patient is None:
                raise ValidationFailed(f"Patient introuvable : {patient_id}.")
            if patient.merged_into_id:
                raise ValidationFailed(
                    f"Le dossier {patient_id} a été fusionné dans {patient.merged_into_id} : "
                    "archivez ce dernier (il comprend le dossier fusionné)."
                )
            group += patient_group_ids(session, patient_id)
    now = datetime.now(UTC).replace(microsecond=0)
    about = {
        **_about(ws, actor, now),
        "scope": "patients",
        "patient_count": str(len(set(patient_ids))),
    }
    name = (
        f"cms-archive-patients-{ws.centre_id.replace('-', '')[:8]}-{now:%Y%m%dT%H%M%SZ}"
        f"{archive_export.SUFFIX}"
    )
    try:
        facts = low_priority(
            lambda: archive_export.export(
                ws.store.engine,
                folder,
                name,
                passphrase,
                about,
                list(dict.fromkeys(group)),
                _openers(ws),
            )
        )
    except OSError as exc:
        raise ArchiveFailed(f"L'archive n'a pas pu être écrite ({os_reason(exc)}).") from None
    with ws.store.write() as session:
        for patient_id in dict.fromkeys(patient_ids):
            audit.append(
                session,
                ws.store.station_id,
                "patient_archive_exported",
                user_id=actor.user_id,
                user_login=actor.login,
                target_type="patient",
                target_id=patient_id,
                details={"file": Path(facts.path).name},
            )
    return ArchiveResult(facts.path, len(facts.row_counts), sum(facts.row_counts.values()))


@dataclass(frozen=True)
class ArchiveContents:
    about: dict[str, str]
    tables: list[tuple[str, str, int]]  # name, description, rows


def describe_archive(path: Path, passphrase: str) -> ArchiveContents:
    """No login: an archive must be readable when the centre's software is gone."""
    try:
        with archive_export.open_archive(path, passphrase) as conn:
            about, tables = archive_export.describe(conn)
    except ArchiveUnreadable as exc:
        raise ArchiveFailed(str(exc)) from None
    return ArchiveContents(about, tables)


def archive_rows(path: Path, passphrase: str, table: str) -> Iterator[dict[str, Any]]:
    try:
        with archive_export.open_archive(path, passphrase) as conn:
            yield from archive_export.rows(conn, table)
    except ArchiveUnreadable as exc:
        raise ArchiveFailed(str(exc)) from None
