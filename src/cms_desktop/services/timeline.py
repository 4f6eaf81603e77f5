"""One chronological view of a patient's file, merged from independent sources.

Each source is a function ``(session, actor, patient_ids) -> Iterable[TimelineItem]`` that
filters by the actor's permissions itself; prescriptions and appointments plug in by adding
one line to ``TIMELINE_SOURCES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.domain.documents import DOCUMENT_KIND_LABELS, DocumentKind, is_administrative
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import internal, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_common import _patient_ids, live_patient
from cms_desktop.services.clinical_fields import open_text
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.clinical_crypto import is_sealed
from cms_desktop.storage.models import (
    Appointment,
    AppointmentTypeRow,
    Consultation,
    Document,
    Practitioner,
    PrescriptionRecord,
    User,
)

__all__ = ["TIMELINE_SOURCES", "TimelineItem", "TimelineSource", "timeline"]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # "consultation", "amendment", "document", later "prescription", "appointment"
    kind_label: str
    title: str
    author: str
    ref_id: str


TimelineSource = Callable[[Session, Actor, list[str]], Iterable[TimelineItem]]


def _names(session: Session) -> dict[str, str]:
    return {uid: name for uid, name in session.execute(select(User.id, User.full_name))}


@internal("timeline() checks clinical.read first")
def consultation_items(session: Session, actor: Actor, ids: list[str]) -> Iterable[TimelineItem]:
    if not actor.can(Permission.CLINICAL_READ):
        return []
    names = _names(session)
    rows = session.execute(
        select(
            Consultation.id,
            Consultation.seen_at,
            Consultation.signed_at,
            Consultation.author_id,
            Consultation.reason,
            Consultation.amends_id,
        ).where(Consultation.patient_id.in_(ids))
    ).all()
    return [
        TimelineItem(
            signed_at if amends else seen_at,
            "amendment" if amends else "consultation",
            "Correction" if amends else "Consultation",
            # Sealed under the clinical key: opened by ``timeline`` with the session's keys
            # (a source sees no key).
            reason if is_sealed(reason) else (reason or "(sans motif)")[:120],
            names.get(author, ""),
            cid,
        )
        for cid, seen_at, signed_at, author, reason, amends in rows
    ]


@internal("timeline() checks clinical.read first")
def document_items(session: Session, actor: Actor, ids: list[str]) -> Iterable[TimelineItem]:
    names = _names(session)
    rows = session.scalars(select(Document).where(Document.patient_id.in_(ids))).all()
    replaced = {r.supersedes_id for r in rows if r.supersedes_id}
    items = []
    for doc in rows:
        kind = DocumentKind(doc.kind)
        permission = (
            Permission.DOCUMENT_ADMIN_READ
            if is_administrative(kind)
            else Permission.DOCUMENT_CLINICAL_READ
        )
        if doc.id in replaced or doc.withdrawn or not actor.can(permission):
            continue
        at = (
            datetime.combine(doc.document_date, time(12), UTC)
            if doc.document_date
            else doc.created_at
        )
        items.append(
            TimelineItem(
                at,
                "document",
                DOCUMENT_KIND_LABELS[kind],
                doc.title,
                names.get(doc.author_id, ""),
                doc.id,
            )
        )
    return items


@internal("timeline() checks clinical.read first")
def prescription_items(session: Session, actor: Actor, ids: list[str]) -> Iterable[TimelineItem]:
    if not actor.can(Permission.CLINICAL_READ):
        return []
    names = _names(session)
    rows = session.execute(  # columns only: the stored PDF stays on disk
        select(
            PrescriptionRecord.id,
            PrescriptionRecord.issued_at,
            PrescriptionRecord.kind,
            PrescriptionRecord.author_id,
            PrescriptionRecord.renews_id,
        ).where(PrescriptionRecord.patient_id.in_(ids))
    ).all()
    return [
        TimelineItem(
            issued_at,
            "prescription",
            "Ordonnance bizone" if kind == "bizone" else "Ordonnance",
            "Renouvellement" if renews else "Ordonnance imprimée",
            names.get(author, ""),
            pid,
        )
        for pid, issued_at, kind, author, renews in rows
    ]


@internal("timeline() checks clinical.read first")
def appointment_items(session: Session, actor: Actor, ids: list[str]) -> Iterable[TimelineItem]:
    if not (actor.can(Permission.AGENDA_READ) or actor.can(Permission.CLINICAL_READ)):
        return []
    # The centre's own labels, else the built-in ones (the table is seeded lazily).
    types = {t.value: t.label for t in AppointmentType}
    types.update(session.execute(select(AppointmentTypeRow.code, AppointmentTypeRow.label)).all())
    practitioners = dict(session.execute(select(Practitioner.id, Practitioner.full_name)).all())
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.start_at,
            Appointment.type_code,
            Appointment.practitioner_id,
            Appointment.status,
        ).where(Appointment.patient_id.in_(ids), Appointment.deleted.is_(False))
    ).all()
    return [
        TimelineItem(
            start_at,
            "appointment",
            "Rendez-vous",
            f"{types.get(code, code)} — {VisitStatus(status).label}",
            practitioners.get(practitioner, ""),
            aid,
        )
        for aid, start_at, code, practitioner, status in rows
    ]


def _opened(ws: Workspace, item: TimelineItem) -> TimelineItem:
    """A consultation's sealed reason or a document's sealed title, opened in memory."""
    if not is_sealed(item.title):
        return item
    if item.kind == "document":
        return replace(
            item, title=open_text(ws.clinical_keys, "documents", item.ref_id, "title", item.title)
        )
    if item.kind not in ("consultation", "amendment"):
        return item
    reason = open_text(ws.clinical_keys, "consultations", item.ref_id, "reason", item.title)
    return replace(item, title=(reason or "(sans motif)")[:120])


TIMELINE_SOURCES: list[TimelineSource] = [
    consultation_items,
    document_items,
    prescription_items,
    appointment_items,
]


@requires(Permission.CLINICAL_READ)
def timeline(ws: Workspace, actor: Actor, patient_id: str) -> list[TimelineItem]:
    """Every item of every source, newest first."""
    actor.require(Permission.CLINICAL_READ)
    with ws.store.read() as session:
        live_patient(session, patient_id)
        ids = _patient_ids(session, patient_id)
        items = [item for source in TIMELINE_SOURCES for item in source(session, actor, ids)]
    items = [_opened(ws, item) for item in items]
    items.sort(key=lambda i: i.at, reverse=True)
    return items
