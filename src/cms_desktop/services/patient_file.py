"""Opening a patient's file (audited) and the measurement curves drawn from signed notes.

Opening is a handful of indexed queries, whatever the size of the centre:
- ``consultations``: ``ix_consultations_patient_seen`` (patient_id, seen_at) gives the last
  20 notes in order without a sort (``SEARCH consultations USING INDEX
  ix_consultations_patient_seen (patient_id=?)``), ``ix_consultations_amends`` their amendments;
- every synthesis table: ``ix_synthesis_<table>_patient``; drafts: ``ix_consultation_drafts_patient``.
``tests/integration/test_patient_file.py`` checks these plans with EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cms_desktop.domain.identity import SEX_LABELS, Sex, agreed
from cms_desktop.domain.measurements import bmi
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.prevention import ScreeningDue, due_screenings
from cms_desktop.domain.signed_acts import CONSULTATION
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.allergy_status import AllergyStatus, allergy_status_in
from cms_desktop.services.clinical_common import _patient_ids, display_name, live_patient
from cms_desktop.services.records import ConsultationView, note_content
from cms_desktop.services.signatures import key_ring, status_of
from cms_desktop.services.synthesis import Synthesis, SynthesisItem, read_synthesis_in
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import Consultation, ConsultationDraft, User

__all__ = [
    "LAST_CONSULTATIONS",
    "SERIES_LABELS",
    "PatientFile",
    "PatientHeader",
    "last_consultations_query",
    "measurement_series",
    "open_patient_file",
]

LAST_CONSULTATIONS = 20

# Series key -> (French label, unit). Blood pressure is two series drawn on one chart.
SERIES_LABELS: dict[str, tuple[str, str]] = {
    "weight": ("Poids", "kg"),
    "bmi": ("IMC", "kg/m²"),
    "systolic": ("PA systolique", "mmHg"),
    "diastolic": ("PA diastolique", "mmHg"),
    "heart_rate": ("Fréquence cardiaque", "/min"),
    "temperature": ("Température", "°C"),
    "spo2": ("SpO2", "%"),
    "glucose": ("Glycémie", "g/L"),
    "hba1c": ("HbA1c", "%"),
}
_SERIES_COLUMNS = {
    "weight": "weight_kg",
    "systolic": "systolic",
    "diastolic": "diastolic",
    "heart_rate": "heart_rate",
    "temperature": "temperature_c",
    "spo2": "spo2_pct",
    "glucose": "glucose_g_l",
    "hba1c": "hba1c_pct",
}


@dataclass(frozen=True)
class PatientHeader:
    patient_id: str
    display_name: str
    birth_date: date
    age: int
    sex: Sex

    @property
    def summary(self) -> str:
        return (
            f"{self.display_name} — {SEX_LABELS.get(self.sex, '')}, {self.age} ans "
            f"({agreed(self.sex, 'né', 'née', 'né·e')} le {self.birth_date:%d/%m/%Y})"
        )


@dataclass(frozen=True)
class PatientFile:
    header: PatientHeader
    synthesis: Synthesis
    active_allergies: tuple[SynthesisItem, ...]
    screenings: tuple[ScreeningDue, ...]
    consultations: tuple[ConsultationView, ...]  # last 20 notes, each followed by its amendments
    my_drafts: tuple[ConsultationView, ...]
    allergy_status: AllergyStatus


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def last_consultations_query(
    ids: list[str], limit: int = LAST_CONSULTATIONS
) -> Select[Consultation]:
    """The last original (non-amendment) notes of these patient ids, newest first."""
    return (
        select(Consultation)
        .where(Consultation.patient_id.in_(ids), Consultation.amends_id.is_(None))
        .order_by(Consultation.seen_at.desc())
        .limit(limit)
    )


def _consultations(
    session: Session, ids: list[str], names: dict[str, str], secrets: Mapping[str, ClinicalKey]
) -> tuple[ConsultationView, ...]:
    notes = session.scalars(last_consultations_query(ids)).all()
    keys = key_ring(session)
    amendments = (
        session.scalars(
            select(Consultation)
            .where(Consultation.amends_id.in_([n.id for n in notes]))
            .order_by(Consultation.signed_at)
        ).all()
        if notes
        else []
    )
    by_original: dict[str, list[Consultation]] = {}
    for a in amendments:
        by_original.setdefault(a.amends_id or "", []).append(a)
    views: list[ConsultationView] = []
    for note in notes:
        fixes = by_original.get(note.id, [])
        views.append(
            ConsultationView(
                note.id,
                note.seen_at,
                names.get(note.author_id, ""),
                note_content(secrets, note),
                True,
                None,
                tuple(a.id for a in fixes),
                status_of(CONSULTATION, note, keys, secrets),
            )
        )
        views.extend(
            ConsultationView(
                a.id,
                a.seen_at,
                names.get(a.author_id, ""),
                note_content(secrets, a),
                True,
                a.amends_id,
                signature=status_of(CONSULTATION, a, keys, secrets),
            )
            for a in fixes
        )
    return tuple(views)


@requires(Permission.CLINICAL_READ)
def open_patient_file(
    ws: Workspace,
    actor: Actor,
    patient_id: str,
    today: date | None = None,
    *,
    reload: bool = False,
) -> PatientFile:
    """Header, synthesis, active allergies, due screenings, last notes and the actor's drafts.

    Audited as ``clinical_record_opened`` (one entry per opening); ``reload=True`` is the
    screen refreshing a file it already opened after the actor's own change (not audited
    again, the change itself is).
    """
    actor.require(Permission.CLINICAL_READ)
    today = today or paris_today()
    with ws.store.write() as session:
        patient = live_patient(session, patient_id)
        ids = _patient_ids(session, patient_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        synthesis = read_synthesis_in(session, patient_id, ws.clinical_keys)
        drafts = session.scalars(
            select(ConsultationDraft)
            .where(
                ConsultationDraft.patient_id.in_(ids),
                ConsultationDraft.author_id == actor.user_id,
                ConsultationDraft.deleted.is_(False),
            )
            .order_by(ConsultationDraft.seen_at.desc())
        ).all()
        header = PatientHeader(
            patient.id,
            display_name(patient),
            patient.birth_date,
            _age(patient.birth_date, today),
            Sex(patient.sex),
        )
        screenings = tuple(
            due_screenings(header.sex, patient.birth_date, synthesis.last_screenings(), today)
        )
        result = PatientFile(
            header,
            synthesis,
            synthesis.active_allergies,
            screenings,
            _consultations(session, ids, names, ws.clinical_keys),
            tuple(
                ConsultationView(
                    d.id, d.seen_at, actor.full_name, note_content(ws.clinical_keys, d), False
                )
                for d in drafts
            ),
            allergy_status_in(session, synthesis),
        )
        if reload:
            return result
        audit.append(
            session,
            ws.store.station_id,
            "clinical_record_opened",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
        )
        return result


@requires(Permission.CLINICAL_READ)
def measurement_series(
    ws: Workspace, actor: Actor, patient_id: str
) -> dict[str, list[tuple[datetime, float]]]:
    """Each measurement over time from signed notes (an amendment replaces what it corrects).

    BMI uses the note's height, or the last height measured before it.
    """
    actor.require(Permission.CLINICAL_READ)
    with ws.store.read() as session:
        live_patient(session, patient_id)
        ids = _patient_ids(session, patient_id)
        rows = session.scalars(
            select(Consultation)
            .where(Consultation.patient_id.in_(ids))
            .order_by(Consultation.seen_at, Consultation.signed_at)
        ).all()
    latest: dict[str, Consultation] = {}
    for row in rows:  # in signing order: the last amendment of a note wins
        latest[row.amends_id or row.id] = row
    series: dict[str, list[tuple[datetime, float]]] = {key: [] for key in SERIES_LABELS}
    height: float | None = None
    for row in sorted(latest.values(), key=lambda r: r.seen_at):
        at = row.seen_at if row.seen_at.tzinfo else row.seen_at.replace(tzinfo=UTC)
        content = note_content(ws.clinical_keys, row)  # decrypted in memory, one patient
        for key, column in _SERIES_COLUMNS.items():
            value = getattr(content, column)
            if value is not None:
                series[key].append((at, float(value)))
        height = content.height_cm if content.height_cm is not None else height
        value = bmi(content.weight_kg, height)
        if value is not None:
            series["bmi"].append((at, value))
    return series
