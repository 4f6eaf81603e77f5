"""The clinical record: opening it (audited), consultation drafts, signing and amendments.

Only roles with ``clinical.read`` / ``clinical.write`` get here: the check is in each
function, so reception is refused whatever screen or script calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.measurements import MeasurementError, VitalSigns
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.signed_acts import CONSULTATION, SignatureStatus
from cms_desktop.domain.synthesis import SynthesisError, normalize_diagnosis_code
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_fields import (
    open_json,
    open_text,
    seal_json,
    seal_text,
    writing_key,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.signatures import key_ring, sign_row, status_of
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.clinical_crypto import ClinicalKey, is_sealed
from cms_desktop.storage.models import Consultation, ConsultationDraft, Patient, User, new_id

MAX_TEXT = 100_000  # characters per field: a long letter fits, a pasted 10 MB file does not
TEXT_FIELDS = ("reason", "examination", "diagnosis", "diagnosis_code", "treatment", "conclusion")
# Stored column -> domain.measurements.VitalSigns field.
VITAL_FIELDS = {
    "weight_kg": "weight_kg",
    "height_cm": "height_cm",
    "systolic": "systolic_mmhg",
    "diastolic": "diastolic_mmhg",
    "heart_rate": "heart_rate_bpm",
    "temperature_c": "temperature_c",
    "glucose_g_l": "glucose_g_per_l",
    "hba1c_pct": "hba1c_percent",
    "spo2_pct": "spo2_percent",
}


@dataclass(frozen=True)
class NoteContent:
    reason: str = ""
    examination: str = ""
    diagnosis: str = ""
    diagnosis_code: str = ""
    treatment: str = ""
    conclusion: str = ""
    weight_kg: float | None = None
    height_cm: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    heart_rate: float | None = None
    temperature_c: float | None = None
    glucose_g_l: float | None = None
    hba1c_pct: float | None = None
    spo2_pct: float | None = None


@dataclass(frozen=True)
class ConsultationView:
    id: str
    seen_at: datetime
    author_name: str
    content: NoteContent
    signed: bool
    amends_id: str | None = None
    amended_by: tuple[str, ...] = ()
    # Signed notes only: verified, altered after signing, or signed before 0017.
    signature: SignatureStatus | None = None


@dataclass(frozen=True)
class ClinicalRecord:
    patient_id: str
    display_name: str
    consultations: tuple[ConsultationView, ...] = field(default_factory=tuple)
    my_drafts: tuple[ConsultationView, ...] = field(default_factory=tuple)


def _clean_text(value: str, label: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValidationFailed(
            f"Le champ « {label} » est trop long ({len(value):,} caractères, "
            f"{MAX_TEXT:,} au plus).".replace(",", " ")
        )
    # Control characters (other than line breaks and tabs) are dropped, not stored.
    return "".join(ch for ch in value if ch in "\n\t" or ch >= " " or ch == "\r").replace(
        "\r\n", "\n"
    )


def _validate(content: NoteContent) -> NoteContent:
    labels = {
        "reason": "Motif",
        "examination": "Examen clinique",
        "diagnosis": "Diagnostic",
        "diagnosis_code": "Code diagnostic",
        "treatment": "Traitement",
        "conclusion": "Conclusion",
    }
    cleaned = {name: _clean_text(getattr(content, name), labels[name]) for name in TEXT_FIELDS}
    vitals = {name: getattr(content, name) for name in VITAL_FIELDS}
    try:
        VitalSigns(**{VITAL_FIELDS[name]: value for name, value in vitals.items()})
    except MeasurementError as exc:
        raise ValidationFailed(str(exc)) from None
    try:
        cleaned["diagnosis_code"] = normalize_diagnosis_code(cleaned["diagnosis_code"])
    except SynthesisError as exc:
        raise ValidationFailed(str(exc)) from None
    return replace(
        content,
        reason=cleaned["reason"],
        examination=cleaned["examination"],
        diagnosis=cleaned["diagnosis"],
        diagnosis_code=cleaned["diagnosis_code"],
        treatment=cleaned["treatment"],
        conclusion=cleaned["conclusion"],
    )


def note_content(
    keys: Mapping[str, ClinicalKey], row: ConsultationDraft | Consultation
) -> NoteContent:
    """The note's content in clear, in memory (never written back to ``row``): its fields
    opened with the session's clinical keys, or as stored for a note written before them."""
    table = row.__tablename__
    values: dict[str, object] = {
        name: open_text(keys, table, row.id, name, getattr(row, name)) for name in TEXT_FIELDS
    }
    vitals = open_json(keys, table, row.id, "vitals", row.vitals) if row.vitals else None
    for name in VITAL_FIELDS:
        if isinstance(vitals, dict):
            value = vitals.get(name)
            values[name] = float(value) if isinstance(value, (int, float)) else None
        else:
            values[name] = getattr(row, name)  # a note written before the clinical key
    return NoteContent(**values)  # type: ignore[arg-type]


def _content(ws: Workspace, row: ConsultationDraft | Consultation) -> NoteContent:
    return note_content(ws.clinical_keys, row)


def seal_note(
    key: ClinicalKey, row: ConsultationDraft | Consultation, content: NoteContent
) -> None:
    """Store ``content`` in ``row`` (whose id is set) encrypted under ``key``: each text
    field on its own, the measurements as one JSON object, the REAL columns left NULL."""
    table = row.__tablename__
    for name in TEXT_FIELDS:
        setattr(row, name, seal_text(key, table, row.id, name, getattr(content, name)))
    vitals = {name: getattr(content, name) for name in VITAL_FIELDS}
    for name in VITAL_FIELDS:
        setattr(row, name, None)
    measured = {name: value for name, value in vitals.items() if value is not None}
    row.vitals = seal_json(key, table, row.id, "vitals", measured) if measured else None


def _patient(session: object, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)  # type: ignore[attr-defined]
    if not isinstance(patient, Patient) or patient.deleted:
        raise NotFound("Patient introuvable.")
    return patient


@requires(Permission.CLINICAL_READ)
def open_clinical_record(ws: Workspace, actor: Actor, patient_id: str) -> ClinicalRecord:
    """The patient's consultations (with amendments) and the actor's drafts; audited."""
    actor.require(Permission.CLINICAL_READ)
    with ws.store.write() as session:
        patient = _patient(session, patient_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        keys = key_ring(session)
        signed = session.scalars(
            select(Consultation)
            .where(Consultation.patient_id == patient_id)
            .order_by(Consultation.seen_at.desc())
        ).all()
        amended_by: dict[str, list[str]] = {}
        for c in signed:
            if c.amends_id:
                amended_by.setdefault(c.amends_id, []).append(c.id)
        drafts = session.scalars(
            select(ConsultationDraft).where(
                ConsultationDraft.patient_id == patient_id,
                ConsultationDraft.author_id == actor.user_id,
                ConsultationDraft.deleted.is_(False),
            )
        ).all()
        audit.append(
            session,
            ws.store.station_id,
            "clinical_record_opened",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
        )
        name = f"{patient.used_name or patient.birth_name} {patient.first_given_name}"
        return ClinicalRecord(
            patient_id,
            name,
            tuple(
                ConsultationView(
                    c.id,
                    c.seen_at,
                    names.get(c.author_id, ""),
                    _content(ws, c),
                    True,
                    c.amends_id,
                    tuple(amended_by.get(c.id, ())),
                    status_of(CONSULTATION, c, keys, ws.clinical_keys),
                )
                for c in signed
            ),
            tuple(
                ConsultationView(d.id, d.seen_at, actor.full_name, _content(ws, d), False)
                for d in drafts
            ),
        )


ALREADY_SIGNED = (
    "Cette consultation a déjà été signée : elle ne peut plus être modifiée ni signée à "
    "nouveau. Une correction se fait par un avenant."
)


def _own_draft(session: Session, actor: Actor, draft_id: str) -> ConsultationDraft:
    """The actor's live draft; a signed one is refused with its own message."""
    draft = session.get(ConsultationDraft, draft_id)
    if draft is None or draft.author_id != actor.user_id:
        raise NotFound("Brouillon introuvable.")
    if draft.deleted:
        signed = session.scalar(select(Consultation.id).where(Consultation.draft_id == draft_id))
        if signed is not None:
            raise ValidationFailed(ALREADY_SIGNED)
        raise NotFound("Brouillon introuvable.")
    return draft


@requires(Permission.CLINICAL_WRITE)
def save_draft(
    ws: Workspace,
    actor: Actor,
    patient_id: str,
    content: NoteContent,
    draft_id: str | None = None,
    seen_at: datetime | None = None,
) -> str:
    """Create or update the actor's draft; returns its id. Nothing is stored if invalid.

    ``seen_at`` (when the patient was seen) defaults to now for a new draft.
    """
    actor.require(Permission.CLINICAL_WRITE)
    clean = _validate(content)
    if seen_at is not None and seen_at > datetime.now(UTC):
        raise ValidationFailed("La date de la consultation ne peut pas être dans le futur.")
    key = writing_key(ws)
    with ws.store.write() as session:
        _patient(session, patient_id)
        if draft_id is None:
            draft = ConsultationDraft(
                id=new_id(),
                patient_id=patient_id,
                author_id=actor.user_id,
                seen_at=seen_at or datetime.now(UTC),
            )
            seal_note(key, draft, clean)
            session.add(draft)
        else:
            found = _own_draft(session, actor, draft_id)
            draft = found
            if seen_at is not None and draft.seen_at != seen_at:
                draft.seen_at = seen_at
            _reseal_draft(ws, key, draft, clean)
        session.flush()
        return draft.id


def _sealed(value: object) -> bool:
    return value is None or value == "" or is_sealed(value)


def _reseal_draft(
    ws: Workspace, key: ClinicalKey, draft: ConsultationDraft, clean: NoteContent
) -> None:
    """Store ``clean`` in the draft, sealed. A field whose text did not change keeps its
    ciphertext (no new value to replicate); plaintext of a draft written before the
    clinical key is sealed now."""
    old = _content(ws, draft)
    before = {name: getattr(draft, name) for name in (*TEXT_FIELDS, "vitals")}
    clear_vitals = any(getattr(draft, name) is not None for name in VITAL_FIELDS)
    seal_note(key, draft, clean)
    for name in TEXT_FIELDS:
        if getattr(old, name) == getattr(clean, name) and _sealed(before[name]):
            setattr(draft, name, before[name])
    same_vitals = all(getattr(old, n) == getattr(clean, n) for n in VITAL_FIELDS)
    if same_vitals and not clear_vitals and _sealed(before["vitals"]):
        draft.vitals = before["vitals"]


@requires(Permission.CONSULTATION_SIGN)
def sign_draft(ws: Workspace, actor: Actor, draft_id: str) -> str:
    """Turn the draft into an immutable signed consultation; returns the consultation id."""
    actor.require(Permission.CONSULTATION_SIGN)
    key = writing_key(ws)
    with ws.store.write() as session:
        draft = _own_draft(session, actor, draft_id)
        content = _content(ws, draft)
        if not (
            content.reason.strip() or content.conclusion.strip() or content.examination.strip()
        ):
            raise ValidationFailed(
                "Une consultation signée doit comporter au moins un motif, "
                "un examen ou une conclusion."
            )
        note = Consultation(
            id=new_id(),
            patient_id=draft.patient_id,
            author_id=actor.user_id,
            seen_at=draft.seen_at,
            signed_at=datetime.now(UTC),
            draft_id=draft.id,
        )
        # Sealed for this row (the associated data names the table, row and field), then
        # signed over the ciphertext as stored: ``check`` verifies without the clinical key.
        seal_note(key, note, content)
        sign_row(ws, actor, CONSULTATION, note)  # the author's own key, over what is stored
        session.add(note)
        draft.deleted = True
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "consultation_signed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="consultation",
            target_id=note.id,
        )
        return note.id


@requires(Permission.CONSULTATION_SIGN)
def amend(ws: Workspace, actor: Actor, consultation_id: str, content: NoteContent) -> str:
    """A signed correction that points at the consultation it corrects (which stays)."""
    actor.require(Permission.CONSULTATION_SIGN)
    clean = _validate(content)
    key = writing_key(ws)
    with ws.store.write() as session:
        original = session.get(Consultation, consultation_id)
        if original is None:
            raise NotFound("Consultation introuvable.")
        note = Consultation(
            id=new_id(),
            patient_id=original.patient_id,
            author_id=actor.user_id,
            seen_at=original.seen_at,
            signed_at=datetime.now(UTC),
            amends_id=original.id,
        )
        seal_note(key, note, clean)
        sign_row(ws, actor, CONSULTATION, note)
        session.add(note)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "consultation_amended",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="consultation",
            target_id=note.id,
            details={"amends": original.id},
        )
        return note.id
