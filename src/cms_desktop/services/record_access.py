"""The register of requests to access a record (art. L.1111-7 CSP, law of 4 March 2002):
registration, legal deadlines, delivery, copying fee and the copy itself as one PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.documents import DOCUMENT_KIND_LABELS, DocumentKind
from cms_desktop.domain.paris_time import in_paris, paris_date
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.record_access import (
    REQUESTER_LABELS,
    AccessRequest,
    AccessWindow,
    HeirReason,
    RecordAccessError,
    RequesterKind,
    access_deadline,
    is_overdue,
    may_deliver,
    next_reference,
    station_code,
    validate_access_request,
)
from cms_desktop.printing.dto import (
    AmendmentEntry,
    ConsultationEntry,
    DocumentEntry,
    PrescriptionCopy,
    RecordCopyDoc,
    RecordRequestInfo,
)
from cms_desktop.printing.record_copy import render_record_copy
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import patient_ids
from cms_desktop.services.clinical_fields import ClinicalKeyUnavailable, open_bytes
from cms_desktop.services.documents import open_content, opened_fields
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.patients import ald_text
from cms_desktop.services.printing_common import (
    Output,
    audit_output,
    centre_info,
    display_name,
    get_patient,
    patient_info,
)
from cms_desktop.services.records import NoteContent, note_content
from cms_desktop.services.synthesis import read_synthesis_in
from cms_desktop.services.synthesis_text import synthesis_lines
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, blobs
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import (
    Consultation,
    Document,
    PatientAld,
    PrescriptionRecord,
    RecordAccessRequest,
    User,
)

MAX_FEE_CENTS = 100_000


class AccessScope(StrEnum):
    ALL = "all"
    PERIOD = "period"
    CONSULTATIONS = "consultations"  # ids listed in ``scope_details``
    DOCUMENTS = "documents"  # the documents only


SCOPE_LABELS = {
    AccessScope.ALL: "Dossier complet",
    AccessScope.PERIOD: "Une période",
    AccessScope.CONSULTATIONS: "Certaines consultations",
    AccessScope.DOCUMENTS: "Les documents",
}


class DeliveryMode(StrEnum):
    HAND_OVER = "hand_over"
    POST = "post"
    ON_SITE = "on_site"  # reading on site, free


DELIVERY_LABELS = {
    DeliveryMode.HAND_OVER: "Remise sur place",
    DeliveryMode.POST: "Envoi postal",
    DeliveryMode.ON_SITE: "Consultation sur place",
}


class RequestStatus(StrEnum):
    RECEIVED = "received"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class AccessRequestDraft:
    patient_id: str
    requester_kind: RequesterKind
    requester_name: str
    received_at: datetime  # timezone-aware
    identity_document_checked: bool
    identity_document: str = ""  # « carte d'identité », « passeport »…
    quality_proof_checked: bool = False
    heir_reason: HeirReason | None = None
    patient_deceased: bool = False
    patient_objected_to_heirs: bool = False
    written: bool = True
    scope: AccessScope = AccessScope.ALL
    period_from: date | None = None
    period_to: date | None = None
    consultation_ids: tuple[str, ...] = ()
    delivery_mode: DeliveryMode = DeliveryMode.HAND_OVER
    oldest_information_date: date | None = None  # else: the oldest consultation asked for


@dataclass(frozen=True)
class AccessRequestView:
    id: str
    reference: str
    patient_id: str
    patient_name: str
    requester_kind: RequesterKind
    requester_label: str
    requester_name: str
    heir_reason: HeirReason | None
    received_at: datetime
    not_before: datetime
    deadline: datetime  # the end of ``last_day`` in Paris
    extended: bool  # the 2-month deadline applies
    scope: AccessScope
    delivery_mode: DeliveryMode
    status: RequestStatus
    delivered_at: datetime | None
    fee_cents: int
    overdue: bool
    may_deliver_now: bool
    last_day: date  # the legal last day, on the Paris calendar


def _window(row: RecordAccessRequest) -> AccessWindow:
    return access_deadline(row.received_at, row.oldest_information_date)


def _view(row: RecordAccessRequest, patient_name: str, now: datetime) -> AccessRequestView:
    window = _window(row)
    return AccessRequestView(
        id=row.id,
        reference=row.reference,
        patient_id=row.patient_id,
        patient_name=patient_name,
        requester_kind=RequesterKind(row.requester_kind),
        requester_label=REQUESTER_LABELS[RequesterKind(row.requester_kind)],
        requester_name=row.requester_name,
        heir_reason=HeirReason(row.heir_reason) if row.heir_reason else None,
        received_at=row.received_at,
        not_before=window.not_before,
        deadline=window.not_after,
        extended=window.extended,
        scope=AccessScope(row.scope),
        delivery_mode=DeliveryMode(row.delivery_mode),
        status=RequestStatus(row.status),
        delivered_at=row.delivered_at,
        fee_cents=row.fee_cents,
        overdue=is_overdue(window, now, row.delivered_at),
        may_deliver_now=may_deliver(window, now),
        last_day=window.last_day,
    )


def _in_scope(
    consultations: list[Consultation],
    scope: AccessScope,
    period: tuple[date | None, date | None],
    ids: set[str],
) -> list[Consultation]:
    if scope is AccessScope.DOCUMENTS:
        return []
    if scope is AccessScope.CONSULTATIONS:
        return [c for c in consultations if c.id in ids or (c.amends_id or "") in ids]
    if scope is AccessScope.PERIOD:
        start, end = period
        return [
            c
            for c in consultations
            if (start is None or paris_date(c.seen_at) >= start)
            and (end is None or paris_date(c.seen_at) <= end)
        ]
    return consultations


def _consultations(session: Session, patient_id: str) -> list[Consultation]:
    return list(
        session.scalars(
            select(Consultation)
            .where(Consultation.patient_id.in_(patient_ids(session, patient_id)))
            .order_by(Consultation.seen_at)
        )
    )


def _next_reference(session: Session, year: int, station_id: str) -> str:
    """Unique across stations (see ``next_reference``); given once, stored, never redone."""
    prefix = f"DA-{year}-{station_code(station_id)}-"
    existing = session.scalars(
        select(RecordAccessRequest.reference).where(
            RecordAccessRequest.reference.startswith(prefix)
        )
    ).all()
    return next_reference(year, station_id, list(existing))


@requires(Permission.RECORD_ACCESS_REGISTER)
def register_request(ws: Workspace, actor: Actor, draft: AccessRequestDraft) -> AccessRequestView:
    """Check the request (written, identity, quality, heir's reason) and register it (at the
    desk too: reception registers and follows requests, the director prepares the copy)."""
    actor.require(Permission.RECORD_ACCESS_REGISTER)
    if draft.received_at.tzinfo is None:
        raise ValidationFailed("Date de réception de la demande invalide.")
    name = " ".join(draft.requester_name.split())
    if not name:
        raise ValidationFailed("Indiquez le nom du demandeur.")
    if draft.received_at > datetime.now(UTC):
        raise ValidationFailed("La date de réception ne peut pas être dans le futur.")
    start, end = draft.period_from, draft.period_to
    if draft.scope is AccessScope.PERIOD and start and end and start > end:
        raise ValidationFailed("La période demandée est invalide (début après la fin).")
    if draft.scope is AccessScope.CONSULTATIONS and not draft.consultation_ids:
        raise ValidationFailed("Choisissez les consultations demandées.")
    try:
        validate_access_request(
            AccessRequest(
                draft.requester_kind,
                draft.received_at,
                draft.written,
                draft.identity_document_checked,
                draft.quality_proof_checked,
                draft.heir_reason,
                draft.patient_deceased,
                draft.patient_objected_to_heirs,
            )
        )
    except RecordAccessError as exc:
        raise ValidationFailed(str(exc)) from None
    with ws.store.write() as session:
        patient = get_patient(session, draft.patient_id)
        oldest = draft.oldest_information_date
        if oldest is None:
            asked = _in_scope(
                _consultations(session, patient.id),
                draft.scope,
                (draft.period_from, draft.period_to),
                set(draft.consultation_ids),
            )
            # Consultations and documents asked for: a scanned report of 2012 makes the
            # information older than 5 years as much as a note of 2012 does.
            dates = [paris_date(c.seen_at) for c in asked]
            dates += [
                d.dated
                for d in document_entries(
                    session,
                    patient.id,
                    draft.scope,
                    (draft.period_from, draft.period_to),
                    with_content=False,
                )
            ]
            oldest = min(dates, default=None)
        window = access_deadline(draft.received_at, oldest)
        row = RecordAccessRequest(
            reference=_next_reference(
                session, paris_date(draft.received_at).year, ws.store.station_id
            ),
            patient_id=patient.id,
            requester_kind=draft.requester_kind.value,
            heir_reason=draft.heir_reason.value if draft.heir_reason else "",
            requester_name=name,
            received_at=draft.received_at,
            identity_document_checked=draft.identity_document_checked,
            identity_document=draft.identity_document.strip()[:100],
            quality_proof_checked=draft.quality_proof_checked,
            patient_deceased=draft.patient_deceased,
            scope=draft.scope.value,
            period_from=draft.period_from,
            period_to=draft.period_to,
            scope_details=",".join(draft.consultation_ids),
            delivery_mode=draft.delivery_mode.value,
            oldest_information_date=oldest,
            not_before=window.not_before,
            deadline=window.not_after,
            status=RequestStatus.RECEIVED.value,
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "record_access_registered",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="record_access_request",
            target_id=row.id,
            details={"patient_id": patient.id, "requester_kind": draft.requester_kind.value},
        )
        return _view(row, display_name(patient), datetime.now(UTC))


@requires(Permission.RECORD_ACCESS_REGISTER)
def list_requests(
    ws: Workspace, actor: Actor, now: datetime | None = None, include_delivered: bool = True
) -> list[AccessRequestView]:
    """The register, most urgent first, with each deadline and the overdue flag."""
    actor.require(Permission.RECORD_ACCESS_REGISTER)
    moment = now or datetime.now(UTC)
    with ws.store.read() as session:
        query = select(RecordAccessRequest).where(RecordAccessRequest.deleted.is_(False))
        if not include_delivered:
            query = query.where(RecordAccessRequest.status == RequestStatus.RECEIVED.value)
        rows = session.scalars(query).all()
        views = [_view(r, display_name(get_patient(session, r.patient_id)), moment) for r in rows]
    return sorted(views, key=lambda v: (v.status is RequestStatus.DELIVERED, v.deadline))


def _request(session: Session, request_id: str) -> RecordAccessRequest:
    row = session.get(RecordAccessRequest, request_id)
    if row is None or row.deleted:
        raise NotFound("Demande d'accès introuvable.")
    return row


def _fee(fee_cents: int) -> int:
    if not 0 <= fee_cents <= MAX_FEE_CENTS:
        raise ValidationFailed("Frais de copie invalides (entre 0 et 1 000 €).")
    return fee_cents


@requires(Permission.RECORD_ACCESS_MANAGE)
def mark_delivered(
    ws: Workspace,
    actor: Actor,
    request_id: str,
    at: datetime | None = None,
    fee_cents: int | None = None,
) -> AccessRequestView:
    """Record the delivery; refused during the 48-hour reflection delay."""
    actor.require(Permission.RECORD_ACCESS_MANAGE)
    moment = at or datetime.now(UTC)
    with ws.store.write() as session:
        row = _request(session, request_id)
        if row.status == RequestStatus.DELIVERED.value:
            raise ValidationFailed("Ce dossier a déjà été remis.")
        window = _window(row)
        if not may_deliver(window, moment):
            local = in_paris(window.not_before)
            raise ValidationFailed(
                "Le dossier ne peut pas être remis avant le "
                f"{local:%d/%m/%Y à %H:%M} : la loi impose un délai de réflexion de 48 heures "
                "après la demande (art. L.1111-7 du code de la santé publique)."
            )
        row.delivered_at = moment
        row.status = RequestStatus.DELIVERED.value
        if fee_cents is not None:
            row.fee_cents = _fee(fee_cents)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "record_access_delivered",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="record_access_request",
            target_id=row.id,
            details={"patient_id": row.patient_id, "fee_cents": row.fee_cents},
        )
        patient = get_patient(session, row.patient_id)
        return _view(row, display_name(patient), moment)


@requires(Permission.RECORD_ACCESS_MANAGE)
def record_fee(ws: Workspace, actor: Actor, request_id: str, fee_cents: int) -> None:
    actor.require(Permission.RECORD_ACCESS_MANAGE)
    with ws.store.write() as session:
        row = _request(session, request_id)
        row.fee_cents = _fee(fee_cents)
        audit.append(
            session,
            ws.store.station_id,
            "record_access_fee",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="record_access_request",
            target_id=row.id,
            details={"fee_cents": row.fee_cents},
        )


# --- the copy ---


def synthesis_sections(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The fiche de synthèse (history, allergies, treatments…) as printed in the copy."""
    return synthesis_lines(read_synthesis_in(session, patient_id, keys))


def document_entries(
    session: Session,
    patient_id: str,
    scope: AccessScope = AccessScope.ALL,
    period: tuple[date | None, date | None] = (None, None),
    with_content: bool = True,
    keys: Mapping[str, ClinicalKey] | None = None,
) -> tuple[DocumentEntry, ...]:
    """The patient's documents joined to the copy (withdrawn or replaced ones left out),
    with their content when this workstation holds it, opened with ``keys`` (a clinical
    document is sealed, #17); without content (dates only) nothing is opened."""
    if scope is AccessScope.CONSULTATIONS:
        return ()
    rows = session.scalars(
        select(Document)
        .where(Document.patient_id.in_(patient_ids(session, patient_id)))
        .order_by(Document.document_date, Document.created_at)
    ).all()
    replaced = {r.supersedes_id for r in rows if r.supersedes_id}
    start, end = period if scope is AccessScope.PERIOD else (None, None)
    entries = []
    for doc in rows:
        if doc.withdrawn or doc.id in replaced:
            continue
        dated = doc.document_date or paris_date(doc.created_at)
        if (start and dated < start) or (end and dated > end):
            continue
        title, content, damaged = "", None, False
        if with_content:
            title = opened_fields(keys or {}, doc)[0]
            content, damaged = _content(session, doc, keys or {})
        entries.append(
            DocumentEntry(
                title,
                dated,
                DOCUMENT_KIND_LABELS[DocumentKind(doc.kind)],
                doc.mime_type,
                content,
                damaged,
            )
        )
    return tuple(entries)


def _content(
    session: Session, doc: Document, keys: Mapping[str, ClinicalKey]
) -> tuple[bytes | None, bool]:
    """(content, damaged): None when this station does not hold it yet (fetched by sync
    later) or holds it damaged or altered; the copy then says so rather than failing."""
    if not blobs.has_blob(session, doc.sha256):
        return None, False
    try:
        return open_content(keys, session, doc, blobs.get_blob(session, doc.sha256)), False
    except ClinicalKeyUnavailable:
        raise
    except (blobs.BlobError, ValidationFailed):
        return None, True


_AMEND_FIELDS = (
    ("reason", "Motif"),
    ("examination", "Examen"),
    ("diagnosis", "Diagnostic"),
    ("treatment", "Traitement"),
    ("conclusion", "Conclusion"),
)


def _amendment_text(row: NoteContent) -> str:
    parts = [f"{label} : {v}" for attr, label in _AMEND_FIELDS if (v := getattr(row, attr))]
    if vitals := vitals_text(row):
        parts.append(f"Constantes : {vitals}")
    return " — ".join(parts)


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def vitals_text(row: NoteContent) -> str:
    """« Poids 61,5 kg · TA 135/85 mmHg · FC 72/min … » ("" when none was taken)."""
    parts = []
    if row.weight_kg is not None:
        parts.append(f"Poids {_num(row.weight_kg)} kg")
    if row.height_cm is not None:
        parts.append(f"Taille {_num(row.height_cm)} cm")
    if row.systolic is not None or row.diastolic is not None:
        high = _num(row.systolic) if row.systolic is not None else "?"
        low = _num(row.diastolic) if row.diastolic is not None else "?"
        parts.append(f"TA {high}/{low} mmHg")
    for value, label, unit in (
        (row.heart_rate, "FC", "/min"),
        (row.temperature_c, "Température", " °C"),
        (row.spo2_pct, "SpO2", " %"),
        (row.glucose_g_l, "Glycémie", " g/L"),
        (row.hba1c_pct, "HbA1c", " %"),
    ):
        if value is not None:
            parts.append(f"{label} {_num(value)}{unit}")
    return " · ".join(parts)


def ald_lines(
    session: Session, patient_id: str, keys: Mapping[str, ClinicalKey]
) -> tuple[str, ...]:
    """Every ALD recorded, current or ended, with its list number and period."""
    rows = session.scalars(
        select(PatientAld)
        .where(
            PatientAld.patient_id.in_(patient_ids(session, patient_id)),
            PatientAld.deleted.is_(False),
        )
        .order_by(PatientAld.start_date)
    ).all()
    out = []
    for row in rows:
        label, code = ald_text(keys, row)  # sealed (#17): opened by the director's keys
        text = label + (f" (ALD {code})" if code else "")
        if row.start_date:
            text += f", depuis le {row.start_date:%d/%m/%Y}"
        if row.end_date:
            text += f", jusqu'au {row.end_date:%d/%m/%Y}"
        out.append(text)
    return tuple(out)


def prescription_copies(
    session: Session,
    patient_id: str,
    scope: AccessScope,
    period: tuple[date | None, date | None],
    consultation_ids: set[str],
    names: dict[str, str],
    keys: Mapping[str, ClinicalKey],
) -> tuple[PrescriptionCopy, ...]:
    """The printed prescriptions asked for, each with its PDF exactly as printed."""
    if scope is AccessScope.DOCUMENTS:
        return ()
    rows = session.scalars(
        select(PrescriptionRecord)
        .where(PrescriptionRecord.patient_id.in_(patient_ids(session, patient_id)))
        .order_by(PrescriptionRecord.issued_at)
    ).all()
    start, end = period if scope is AccessScope.PERIOD else (None, None)
    out = []
    for row in rows:
        if scope is AccessScope.CONSULTATIONS and row.consultation_id not in consultation_ids:
            continue
        if (start and row.issued_on < start) or (end and row.issued_on > end):
            continue
        kind = "Ordonnance bizone" if row.kind == "bizone" else "Ordonnance"
        author = names.get(row.author_id, "")
        label = f"{kind} — {author}" if author else kind
        pdf = open_bytes(keys, row.__tablename__, row.id, "pdf", bytes(row.pdf))
        out.append(PrescriptionCopy(row.issued_on, label, pdf))
    return tuple(out)


def _entries(
    rows: list[Consultation], names: dict[str, str], keys: Mapping[str, ClinicalKey]
) -> tuple[ConsultationEntry, ...]:
    amendments: dict[str, list[Consultation]] = {}
    for row in rows:
        if row.amends_id:
            amendments.setdefault(row.amends_id, []).append(row)
    # Opened in memory for the PDF (bytes in memory too), never written back.
    content = {row.id: note_content(keys, row) for row in rows}
    return tuple(
        ConsultationEntry(
            held_on=paris_date(row.seen_at),
            practitioner=names.get(row.author_id, ""),
            reason=content[row.id].reason,
            exam=content[row.id].examination,
            diagnosis=content[row.id].diagnosis,
            treatment=content[row.id].treatment,
            conclusion=content[row.id].conclusion,
            vitals=vitals_text(content[row.id]),
            amendments=tuple(
                AmendmentEntry(
                    paris_date(a.signed_at),
                    names.get(a.author_id, ""),
                    _amendment_text(content[a.id]),
                )
                for a in sorted(amendments.get(row.id, []), key=lambda a: a.signed_at)
            ),
        )
        for row in rows
        if not row.amends_id
    )


@requires(Permission.RECORD_ACCESS_MANAGE)
def generate_copy(
    ws: Workspace, actor: Actor, request_id: str, now: datetime | None = None
) -> bytes:
    """One PDF with identity, ALD, synthesis, the consultations (vital signs, amendments),
    the prescriptions as printed and the documents asked for; the reference and page
    numbers on every page. Audited as an export.

    The delivery date is the day the copy is handed over: the day delivery was recorded,
    else today once the 48-hour delay has passed. Before that the copy is a draft marked
    « projet — ne pas remettre avant le … » on every page, with no delivery date."""
    actor.require(Permission.RECORD_ACCESS_MANAGE)
    moment = now or datetime.now(UTC)
    with ws.store.write() as session:
        row = _request(session, request_id)
        patient = get_patient(session, row.patient_id)
        names = {uid: name for uid, name in session.execute(select(User.id, User.full_name))}
        ids = {i for i in row.scope_details.split(",") if i}
        asked = _in_scope(
            _consultations(session, patient.id),
            AccessScope(row.scope),
            (row.period_from, row.period_to),
            ids,
        )
        today = paris_date(moment)
        window = _window(row)
        delivered_on: date | None
        if row.delivered_at is not None:
            delivered_on = paris_date(row.delivered_at)
        elif may_deliver(window, moment):
            delivered_on = today
        else:
            delivered_on = None
        kind = RequesterKind(row.requester_kind)
        scope, period = AccessScope(row.scope), (row.period_from, row.period_to)
        doc = RecordCopyDoc(
            request=RecordRequestInfo(
                row.reference,
                f"{row.requester_name} ({REQUESTER_LABELS[kind].lower()})",
                paris_date(row.received_at),
                delivered_on,
                f"{in_paris(window.not_before):%d/%m/%Y à %H:%M}",
            ),
            patient=patient_info(session, patient, today),
            synthesis=synthesis_sections(session, patient.id, ws.clinical_keys),
            consultations=_entries(asked, names, ws.clinical_keys),
            documents=document_entries(session, patient.id, scope, period, keys=ws.clinical_keys),
            alds=ald_lines(session, patient.id, ws.clinical_keys),
            prescriptions=prescription_copies(
                session, patient.id, scope, period, {c.id for c in asked}, names, ws.clinical_keys
            ),
        )
        pdf = render_record_copy(centre_info(session), doc)
        audit_output(
            session,
            ws,
            actor,
            Output.EXPORT,
            "record_copy" if delivered_on is not None else "record_copy_draft",
            "record_access_request",
            row.id,
            patient.id,
        )
        return pdf
