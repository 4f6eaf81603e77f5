"""Prescriptions: build from a draft, check every mandatory mention, print and keep the PDF
exactly as printed; renewals and each doctor's own templates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cms_desktop.domain.allergy_check import AllergyConfirmation
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.prescription import (
    LineKind,
    Prescription,
    PrescriptionError,
    PrescriptionLine,
    Zone,
    age_in_years,
    weight_required,
)
from cms_desktop.domain.signed_acts import PRESCRIPTION
from cms_desktop.printing.dto import PrintingError
from cms_desktop.printing.layout import PAGE_SIZES, PageSizeName
from cms_desktop.printing.prescription import render_prescription
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.allergy_status import AllergyState, AllergyStatus, allergy_status_in
from cms_desktop.services.clinical_fields import (
    TAMPERED_DOCUMENT,
    TAMPERED_TEXT,
    open_bytes,
    open_text,
    seal_text,
    writing_key,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.patients import ald_text
from cms_desktop.services.prescription_allergies import (
    require_confirmed,
    uncoded_allergies,
    without_confirmations,
)
from cms_desktop.services.printing_common import (
    Output,
    active_alds,
    audit_output,
    centre_info,
    display_name,
    get_patient,
    patient_info,
    prescriber_info,
)
from cms_desktop.services.records import note_content
from cms_desktop.services.signatures import sign_row
from cms_desktop.services.synthesis import SynthesisItem, read_synthesis_in
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, clinical_crypto
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import (
    Consultation,
    ConsultationDraft,
    PrescriptionRecord,
    PrescriptionTemplate,
    User,
    new_id,
)

TABLE = PrescriptionRecord.__tablename__
KIND_ORDONNANCE = "ordonnance"
KIND_BIZONE = "bizone"
MAX_LINES = 60
MAX_TEMPLATE_NAME = 120


@dataclass(frozen=True)
class PrescriptionDraft:
    """What the doctor is writing; ``issued_on`` is fixed when it is first rendered so that
    the preview and the stored PDF are the same bytes."""

    patient_id: str
    lines: tuple[PrescriptionLine, ...]
    bizone: bool = False
    consultation_id: str | None = None
    renews_id: str | None = None
    weight_kg: float | None = None  # typed on the prescription; else the latest recorded
    page_size: str = "A5"
    issued_on: date | None = None


_NOT_STATED = AllergyStatus(AllergyState.NOT_STATED)


@dataclass(frozen=True)
class PrescribingContext:
    """What the editor shows and needs before the first line: ALD, child, weight."""

    patient_id: str
    display_name: str
    birth_date: date
    age_years: int
    has_ald: bool
    ald_labels: tuple[str, ...]
    weight_required: bool
    latest_weight_kg: float | None
    allergies: tuple[SynthesisItem, ...] = ()  # active allergies and intolerances
    uncoded_allergies: tuple[str, ...] = ()  # « Latex : allergie non codée : vérifiez… »
    # Stated « aucune allergie connue » or never asked: the banner tells them apart.
    allergy_status: AllergyStatus = _NOT_STATED
    # The prescriber's account has the bizone (ALD) right: the editor offers the form.
    may_prescribe_bizone: bool = False


@dataclass(frozen=True)
class RenderedPrescription:
    draft: PrescriptionDraft  # with issued_on set
    pdf: bytes


@dataclass(frozen=True)
class PrescriptionSummary:
    id: str
    issued_on: date
    issued_at: datetime
    kind: str
    author_name: str
    summary: str  # first lines, for lists
    line_count: int
    renews_id: str | None


@dataclass(frozen=True)
class TemplateView:
    id: str
    name: str
    bizone: bool
    lines: tuple[PrescriptionLine, ...]


# --- lines <-> JSON (stable string codes, never positions) ---


def line_to_dict(line: PrescriptionLine) -> dict[str, Any]:
    data = asdict(line)
    data["kind"] = line.kind.value
    data["zone"] = line.zone.value
    code = line.non_substitutable
    data["non_substitutable"] = None if code is None else str(code)
    return data


def line_from_dict(data: dict[str, Any]) -> PrescriptionLine:
    known = {k: v for k, v in data.items() if k in PrescriptionLine.__dataclass_fields__}
    known["kind"] = LineKind(known.get("kind", LineKind.MEDICINE.value))
    known["zone"] = Zone(known.get("zone", Zone.OTHER.value))
    confirmation = known.get("allergy_confirmation")
    if isinstance(confirmation, dict):
        fields = AllergyConfirmation.__dataclass_fields__
        values = {k: v for k, v in confirmation.items() if k in fields}
        values["allergies"] = tuple(values.get("allergies", ()))
        known["allergy_confirmation"] = AllergyConfirmation(**values)
    else:
        known["allergy_confirmation"] = None
    return PrescriptionLine(**known)


def lines_to_json(lines: tuple[PrescriptionLine, ...]) -> str:
    return json.dumps([line_to_dict(line) for line in lines], ensure_ascii=False, sort_keys=True)


def lines_from_json(text: str) -> tuple[PrescriptionLine, ...]:
    return tuple(line_from_dict(item) for item in json.loads(text or "[]"))


# --- context and rendering ---


def latest_weight(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> float | None:
    """The weight of the latest consultation (signed or draft) that recorded one. The
    measurements are sealed (#17): notes with any are opened newest first, in memory."""
    found: list[tuple[datetime, float]] = []
    models: tuple[type[Consultation] | type[ConsultationDraft], ...] = (
        Consultation,
        ConsultationDraft,
    )
    for model in models:
        query = select(model).where(
            model.patient_id == patient_id,
            or_(model.weight_kg.is_not(None), model.vitals.is_not(None)),
        )
        if model is ConsultationDraft:
            query = query.where(model.deleted.is_(False))
        for row in session.scalars(query.order_by(model.seen_at.desc())):
            assert isinstance(row, (Consultation, ConsultationDraft))
            weight = note_content(keys, row).weight_kg
            if weight is not None:
                found.append((row.seen_at, float(weight)))
                break
    return max(found)[1] if found else None


@requires(Permission.PRESCRIPTION_WRITE)
def prescribing_context(ws: Workspace, actor: Actor, patient_id: str) -> PrescribingContext:
    actor.require(Permission.PRESCRIPTION_WRITE)
    today = paris_today()
    with ws.store.write() as session:
        patient = get_patient(session, patient_id)
        alds = active_alds(session, patient_id, today)
        # Allergies, ALD and weight are clinical content: reading them is audited, from the
        # record's tab as from Impressions.
        audit.append(
            session,
            ws.store.station_id,
            "prescribing_context_read",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
        )
        synthesis = read_synthesis_in(session, patient_id, ws.clinical_keys)
        return PrescribingContext(
            patient_id,
            display_name(patient),
            patient.birth_date,
            age_in_years(patient.birth_date, today),
            bool(alds),
            tuple(ald_text(ws.clinical_keys, a)[0] for a in alds),
            weight_required(patient.birth_date, today),
            latest_weight(session, patient_id, ws.clinical_keys),
            synthesis.active_allergies,
            uncoded_allergies(session, patient_id, ws.clinical_keys),
            allergy_status_in(session, synthesis),
            _may_prescribe_bizone(session, actor),
        )


NO_BIZONE_RIGHT = (
    "Votre compte n'a pas le droit de prescrire sur une ordonnance bizone (ALD) : "
    "rédigez une ordonnance simple ou demandez ce droit à l'administrateur du centre."
)


def _may_prescribe_bizone(session: Session, actor: Actor) -> bool:
    user = session.get(User, actor.user_id)
    return user is not None and bool(user.may_prescribe_bizone)


def _page_size(value: str) -> PageSizeName:
    if value not in PAGE_SIZES or value == "A6":
        raise ValidationFailed("Format de page inconnu : choisissez A4 ou A5.")
    return value  # type: ignore[return-value]


def _render(
    session: Session, actor: Actor, draft: PrescriptionDraft, keys: Mapping[str, ClinicalKey]
) -> RenderedPrescription:
    if len(draft.lines) > MAX_LINES:
        raise ValidationFailed(f"Une ordonnance compte au plus {MAX_LINES} lignes.")
    if draft.bizone and not _may_prescribe_bizone(session, actor):
        raise ValidationFailed(NO_BIZONE_RIGHT)
    issued_on = draft.issued_on or paris_today()
    draft = replace(draft, issued_on=issued_on)
    patient = get_patient(session, draft.patient_id)
    require_confirmed(session, actor, draft.patient_id, draft.lines, keys)
    weight = draft.weight_kg
    if weight is None:
        weight = latest_weight(session, draft.patient_id, keys)
    if weight is not None and not 0 < weight < 400:
        raise ValidationFailed("Poids du patient invalide.")
    needs_weight = weight_required(patient.birth_date, issued_on)
    if needs_weight and weight is None:
        raise ValidationFailed(
            "Le poids de l'enfant est obligatoire sur l'ordonnance : saisissez-le dans la "
            "consultation ou sur l'ordonnance."
        )
    info = patient_info(session, patient, issued_on, weight if needs_weight else None)
    prescription = Prescription(draft.lines, issued_on, bizone=draft.bizone)
    try:
        pdf = render_prescription(
            centre_info(session),
            prescriber_info(session, actor),
            info,
            prescription,
            _page_size(draft.page_size),
        )
    except (PrescriptionError, PrintingError) as exc:
        raise ValidationFailed(str(exc)) from None
    return RenderedPrescription(draft, pdf)


@requires(Permission.PRESCRIPTION_WRITE)
def render_draft(ws: Workspace, actor: Actor, draft: PrescriptionDraft) -> RenderedPrescription:
    """The PDF for the preview; nothing is stored until it is printed or exported."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    with ws.store.read() as session:
        return _render(session, actor, draft, ws.clinical_keys)


@dataclass(frozen=True)
class IssuedPrescription:
    id: str
    pdf: bytes


@requires(Permission.PRESCRIPTION_WRITE, Permission.PRINT_CLINICAL)
def issue_prescription(
    ws: Workspace, actor: Actor, draft: PrescriptionDraft, how: Output | str = Output.PRINT
) -> IssuedPrescription:
    """Render, store the PDF exactly as printed and audit the print (or export)."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    actor.require(Permission.PRINT_CLINICAL)
    with ws.store.write() as session:
        rendered = _render(session, actor, draft, ws.clinical_keys)
        final = rendered.draft
        if final.renews_id is not None:
            original = session.get(PrescriptionRecord, final.renews_id)
            if original is None or original.patient_id != final.patient_id:
                raise NotFound("Ordonnance renouvelée introuvable.")
        key = writing_key(ws)
        record_id = new_id()
        record = PrescriptionRecord(
            id=record_id,
            patient_id=final.patient_id,
            consultation_id=final.consultation_id,
            author_id=actor.user_id,
            issued_at=datetime.now(UTC),
            issued_on=final.issued_on,
            kind=KIND_BIZONE if final.bizone else KIND_ORDONNANCE,
            # The lines and the PDF as printed, sealed under the clinical key (#17); the
            # signature below covers them as stored (ciphertext and clear metadata).
            lines_json=seal_text(key, TABLE, record_id, "lines_json", lines_to_json(final.lines)),
            renews_id=final.renews_id,
            page_size=final.page_size,
            pdf=clinical_crypto.encrypt_bytes(key, TABLE, record_id, "pdf", rendered.pdf),
        )
        sign_row(ws, actor, PRESCRIPTION, record)  # the prescriber's own key (#17)
        session.add(record)
        session.flush()
        audit_output(
            session, ws, actor, how, "prescription", "prescription", record.id, final.patient_id
        )
        return IssuedPrescription(record.id, rendered.pdf)


@requires(Permission.CLINICAL_READ)
def prescription_pdf(ws: Workspace, actor: Actor, prescription_id: str) -> bytes:
    """The stored bytes of a printed prescription (a reprint is identical)."""
    return stored_prescription(ws, actor, prescription_id).pdf


@dataclass(frozen=True)
class StoredPrescription:
    """A printed prescription exactly as it left the printer, to preview and reprint."""

    id: str
    patient_id: str
    issued_on: date
    kind: str
    pdf: bytes

    @property
    def title(self) -> str:
        label = "Ordonnance bizone" if self.kind == KIND_BIZONE else "Ordonnance"
        return f"{label} du {self.issued_on:%d/%m/%Y}"


@requires(Permission.CLINICAL_READ)
def stored_prescription(ws: Workspace, actor: Actor, prescription_id: str) -> StoredPrescription:
    actor.require(Permission.CLINICAL_READ)
    with ws.store.read() as session:
        record = session.get(PrescriptionRecord, prescription_id)
        if record is None:
            raise NotFound("Ordonnance introuvable.")
        get_patient(session, record.patient_id)
        return StoredPrescription(
            record.id, record.patient_id, record.issued_on, record.kind, _pdf(ws, record)
        )


REPRINT = "prescription_reprint"


@requires(Permission.PRINT_CLINICAL)
def record_reprint(
    ws: Workspace, actor: Actor, prescription_id: str, how: Output | str = Output.PRINT
) -> None:
    """Audit a reprint (« réimpression ») or a new export of a stored prescription, once
    the stored bytes have been printed or saved again."""
    actor.require(Permission.PRINT_CLINICAL)
    with ws.store.write() as session:
        record = session.get(PrescriptionRecord, prescription_id)
        if record is None:
            raise NotFound("Ordonnance introuvable.")
        audit_output(session, ws, actor, how, REPRINT, "prescription", record.id, record.patient_id)


@requires(Permission.PRESCRIPTION_WRITE)
def renew(ws: Workspace, actor: Actor, prescription_id: str) -> PrescriptionDraft:
    """A new draft with the same lines, editable before it is signed and printed."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    with ws.store.read() as session:
        record = session.get(PrescriptionRecord, prescription_id)
        if record is None:
            raise NotFound("Ordonnance introuvable.")
        bizone = record.kind == KIND_BIZONE
        lines = without_confirmations(_lines(ws.clinical_keys, record))
        if bizone and (
            not active_alds(session, record.patient_id, paris_today())
            or not _may_prescribe_bizone(session, actor)
        ):
            # The ALD has ended, or this prescriber may not use the bizone form: the lines
            # move to an ordinary prescription.
            bizone = False
            lines = tuple(replace(line, zone=Zone.OTHER) for line in lines)
        return PrescriptionDraft(
            patient_id=record.patient_id,
            lines=lines,
            bizone=bizone,
            renews_id=record.id,
            page_size=record.page_size,
        )


def _lines(
    keys: Mapping[str, ClinicalKey], record: PrescriptionRecord
) -> tuple[PrescriptionLine, ...]:
    """The stored lines, opened in memory (a prescription before the clinical key is clear)."""
    text = open_text(keys, TABLE, record.id, "lines_json", record.lines_json)
    if text == TAMPERED_TEXT:
        raise ValidationFailed(TAMPERED_DOCUMENT)
    return lines_from_json(text)


def _pdf(ws: Workspace, record: PrescriptionRecord) -> bytes:
    return open_bytes(ws.clinical_keys, TABLE, record.id, "pdf", bytes(record.pdf))


def _summary(
    record: PrescriptionRecord, author: str, keys: Mapping[str, ClinicalKey]
) -> PrescriptionSummary:
    lines = _lines(keys, record)
    words = [line.dci.upper() if line.kind is LineKind.MEDICINE else line.text for line in lines]
    text = ", ".join(w.splitlines()[0] if w else "" for w in words[:3])
    if len(words) > 3:
        text += f"… (+{len(words) - 3})"
    return PrescriptionSummary(
        record.id,
        record.issued_on,
        record.issued_at,
        record.kind,
        author,
        text,
        len(lines),
        record.renews_id,
    )


@requires(Permission.CLINICAL_READ)
def list_prescriptions(ws: Workspace, actor: Actor, patient_id: str) -> list[PrescriptionSummary]:
    actor.require(Permission.CLINICAL_READ)
    with ws.store.read() as session:
        get_patient(session, patient_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        rows = session.scalars(
            select(PrescriptionRecord)
            .where(PrescriptionRecord.patient_id == patient_id)
            .order_by(PrescriptionRecord.issued_at.desc())
        ).all()
        return [_summary(r, names.get(r.author_id, ""), ws.clinical_keys) for r in rows]


# --- templates: each doctor's own ---


def _own_template(session: Session, actor: Actor, template_id: str) -> PrescriptionTemplate:
    row = session.get(PrescriptionTemplate, template_id)
    if row is None or row.deleted or row.owner_id != actor.user_id:
        raise NotFound("Modèle d'ordonnance introuvable.")
    return row


@requires(Permission.PRESCRIPTION_WRITE)
def list_templates(ws: Workspace, actor: Actor) -> list[TemplateView]:
    actor.require(Permission.PRESCRIPTION_WRITE)
    with ws.store.read() as session:
        rows = session.scalars(
            select(PrescriptionTemplate).where(
                PrescriptionTemplate.owner_id == actor.user_id,
                PrescriptionTemplate.deleted.is_(False),
            )
        ).all()
        views = [_template_view(ws.clinical_keys, r) for r in rows]
    # Sorted in memory: the names are sealed on disk (a doctor has a few dozen at most).
    return sorted(views, key=lambda v: (v.name.casefold(), v.id))


TEMPLATES = PrescriptionTemplate.__tablename__


def _template_view(keys: Mapping[str, ClinicalKey], row: PrescriptionTemplate) -> TemplateView:
    """A template opened in memory: its name and lines are sealed under the clinical key
    (#17) like a prescription's, plaintext ones (written before) read as they are."""
    name = open_text(keys, TEMPLATES, row.id, "name", row.name)
    lines = open_text(keys, TEMPLATES, row.id, "lines_json", row.lines_json)
    return TemplateView(row.id, name, row.bizone, lines_from_json(lines or "[]"))


@requires(Permission.PRESCRIPTION_WRITE)
def save_template(
    ws: Workspace,
    actor: Actor,
    name: str,
    lines: tuple[PrescriptionLine, ...],
    bizone: bool = False,
    template_id: str | None = None,
) -> TemplateView:
    """Create (or replace, when ``template_id`` is given) one of the actor's templates."""
    actor.require(Permission.PRESCRIPTION_WRITE)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("Donnez un nom au modèle d'ordonnance.")
    if len(name) > MAX_TEMPLATE_NAME:
        raise ValidationFailed(f"Nom de modèle trop long ({MAX_TEMPLATE_NAME} caractères au plus).")
    if not lines:
        raise ValidationFailed("Un modèle d'ordonnance doit contenir au moins une ligne.")
    lines = without_confirmations(lines)
    payload = lines_to_json(lines)
    key = writing_key(ws)
    with ws.store.write() as session:
        if template_id is None:
            row = PrescriptionTemplate(id=new_id(), owner_id=actor.user_id)
            session.add(row)
        else:
            row = _own_template(session, actor, template_id)
        row.name = seal_text(key, TEMPLATES, row.id, "name", name)
        row.lines_json = seal_text(key, TEMPLATES, row.id, "lines_json", payload)
        row.bizone = bizone
        session.flush()
        return TemplateView(row.id, name, bizone, lines)


@requires(Permission.PRESCRIPTION_WRITE)
def delete_template(ws: Workspace, actor: Actor, template_id: str) -> None:
    actor.require(Permission.PRESCRIPTION_WRITE)
    with ws.store.write() as session:
        _own_template(session, actor, template_id).deleted = True
