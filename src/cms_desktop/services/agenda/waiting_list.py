"""The waiting list of residents looking for a médecin traitant, and their conversion into a
patient (a minimal, provisional identity) with a first appointment, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.phone import PhoneError, parse_phone
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda.booking import BookingRequest, book_in_session
from cms_desktop.services.agenda.common import (
    AppointmentView,
    ViewContext,
    appointment_view,
    local_now,
    require_any,
)
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Patient, WaitingListEntry

PRIORITY_LABELS = {1: "Prioritaire", 2: "Élevée", 3: "Normale"}
STATUS_LABELS = {
    "waiting": "En attente",
    "contacted": "Contacté",
    "converted": "Devenu patient",
    "withdrawn": "Retiré",
}


@dataclass(frozen=True)
class WaitingListDraft:
    family_name: str
    given_name: str
    birth_date: date
    phone: str = ""
    priority: int = 3
    note: str = ""


@dataclass(frozen=True)
class WaitingListView:
    id: str
    family_name: str
    given_name: str
    birth_date: date
    phone: str
    registered_on: date
    priority: int
    status: str
    note: str
    converted_patient_id: str | None
    contact_attempts: int = 0
    last_contact_on: date | None = None
    patient_id: str | None = None  # already a patient of the centre

    def months_waited(self, today: date) -> int:
        """Whole months since registration (the figure the town asks about)."""
        months = (
            (today.year - self.registered_on.year) * 12 + today.month - self.registered_on.month
        )
        return max(0, months - (today.day < self.registered_on.day))

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS.get(self.priority, str(self.priority))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _view(r: WaitingListEntry) -> WaitingListView:
    return WaitingListView(
        r.id,
        r.family_name,
        r.given_name,
        r.birth_date,
        r.phone,
        r.registered_on,
        r.priority,
        r.status,
        r.note,
        r.converted_patient_id,
        r.contact_attempts,
        r.last_contact_on,
        r.patient_id,
    )


def _check_priority(priority: int) -> None:
    if priority not in PRIORITY_LABELS:
        raise ValidationFailed("La priorité va de 1 (prioritaire) à 3 (normale).")


@requires(Permission.AGENDA_WRITE)
def register(
    ws: Workspace, actor: Actor, draft: WaitingListDraft, *, today: date | None = None
) -> WaitingListView:
    actor.require(Permission.AGENDA_WRITE)
    today = today or local_now().date()
    if not draft.family_name.strip() or not draft.given_name.strip():
        raise ValidationFailed("Indiquez le nom et le prénom.")
    if draft.birth_date > today or draft.birth_date.year < 1900:
        raise ValidationFailed("La date de naissance est invalide.")
    _check_priority(draft.priority)
    phone = ""
    if draft.phone.strip():
        try:
            phone = parse_phone(draft.phone).e164
        except PhoneError as exc:
            raise ValidationFailed(str(exc)) from None
    with ws.store.write() as session:
        row = WaitingListEntry(
            family_name=draft.family_name.strip()[:100],
            given_name=draft.given_name.strip()[:100],
            birth_date=draft.birth_date,
            phone=phone,
            registered_on=today,
            priority=draft.priority,
            note=draft.note.strip()[:300],
        )
        return _add(ws, actor, session, row, {})


@requires(Permission.AGENDA_WRITE, Permission.PATIENT_IDENTITY_READ)
def register_patient(
    ws: Workspace,
    actor: Actor,
    patient_id: str,
    *,
    priority: int = 3,
    note: str = "",
    today: date | None = None,
) -> WaitingListView:
    """Put a patient of the centre (from the patient file) on the list; refused when the
    patient already has a médecin traitant at the centre or is already waiting."""
    actor.require(Permission.AGENDA_WRITE)
    actor.require(Permission.PATIENT_IDENTITY_READ)
    _check_priority(priority)
    today = today or local_now().date()
    with ws.store.write() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.deleted:
            raise NotFound("Patient introuvable.")
        if patient.gp_user_id:
            raise ValidationFailed("Ce patient a déjà un médecin traitant au centre.")
        waiting = session.scalars(
            select(WaitingListEntry.id).where(
                WaitingListEntry.patient_id == patient_id,
                WaitingListEntry.deleted.is_(False),
                WaitingListEntry.status.in_(("waiting", "contacted")),
            )
        ).first()
        if waiting is not None:
            raise ValidationFailed("Ce patient est déjà sur la liste d'attente.")
        row = WaitingListEntry(
            family_name=(patient.used_name or patient.birth_name)[:100],
            given_name=(patient.used_given_name or patient.first_given_name)[:100],
            birth_date=patient.birth_date,
            phone=patient.phone_mobile or "",
            registered_on=today,
            priority=priority,
            note=note.strip()[:300],
            patient_id=patient.id,
        )
        return _add(ws, actor, session, row, {"patient_id": patient.id})


def _add(
    ws: Workspace,
    actor: Actor,
    session: Session,
    row: WaitingListEntry,
    details: dict[str, str],
) -> WaitingListView:
    """Store a new entry and its audit line (both ways of registering someone)."""
    session.add(row)
    session.flush()
    audit.append(
        session,
        ws.store.station_id,
        "waiting_list_registered",
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="waiting_list",
        target_id=row.id,
        details=details or None,
    )
    return _view(row)


@requires(Permission.AGENDA_READ)
def list_waiting(
    ws: Workspace, actor: Actor, *, include_closed: bool = False
) -> list[WaitingListView]:
    """By priority, then first registered first."""
    require_any(actor, Permission.AGENDA_READ)
    with ws.store.read() as session:
        query = select(WaitingListEntry).where(WaitingListEntry.deleted.is_(False))
        if not include_closed:
            query = query.where(WaitingListEntry.status.in_(("waiting", "contacted")))
        rows = session.scalars(
            query.order_by(
                WaitingListEntry.priority,
                WaitingListEntry.registered_on,
                WaitingListEntry.family_name,
            )
        )
        return [_view(r) for r in rows]


def _entry(session: object, entry_id: str) -> WaitingListEntry:
    row = session.get(WaitingListEntry, entry_id)  # type: ignore[attr-defined]
    if not isinstance(row, WaitingListEntry) or row.deleted:
        raise NotFound("Inscription introuvable sur la liste d'attente.")
    return row


@requires(Permission.AGENDA_WRITE)
def set_priority(ws: Workspace, actor: Actor, entry_id: str, priority: int) -> None:
    actor.require(Permission.AGENDA_WRITE)
    _check_priority(priority)
    with ws.store.write() as session:
        row = _entry(session, entry_id)
        row.priority = priority
        audit.append(
            session,
            ws.store.station_id,
            "waiting_list_priority",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="waiting_list",
            target_id=row.id,
        )


@requires(Permission.AGENDA_WRITE)
def set_status(ws: Workspace, actor: Actor, entry_id: str, status: str) -> None:
    """Contacted or withdrawn (conversion goes through `convert`)."""
    actor.require(Permission.AGENDA_WRITE)
    if status not in ("waiting", "contacted", "withdrawn"):
        raise ValidationFailed("Statut de liste d'attente inconnu.")
    with ws.store.write() as session:
        row = _entry(session, entry_id)
        if row.status == "converted":
            raise ValidationFailed("Cette personne est déjà devenue patiente du centre.")
        row.status = status
        audit.append(
            session,
            ws.store.station_id,
            "waiting_list_status",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="waiting_list",
            target_id=row.id,
            details={"status": status},
        )


@dataclass(frozen=True)
class WaitingStats:
    """People still waiting (waiting or contacted) and how long they have waited."""

    waiting: int
    average_months: float
    longest_months: int


@requires(Permission.AGENDA_READ)
def stats(ws: Workspace, actor: Actor, *, today: date | None = None) -> WaitingStats:
    today = today or local_now().date()
    entries = list_waiting(ws, actor)
    months = [e.months_waited(today) for e in entries]
    if not months:
        return WaitingStats(0, 0.0, 0)
    return WaitingStats(len(months), sum(months) / len(months), max(months))


@requires(Permission.AGENDA_WRITE)
def record_contact(
    ws: Workspace, actor: Actor, entry_id: str, *, today: date | None = None
) -> WaitingListView:
    """A call or letter offering a médecin traitant: counted, dated, status « contacté »."""
    actor.require(Permission.AGENDA_WRITE)
    today = today or local_now().date()
    with ws.store.write() as session:
        row = _entry(session, entry_id)
        if row.status in ("converted", "withdrawn"):
            raise ValidationFailed("Cette personne n'est plus sur la liste d'attente.")
        row.contact_attempts += 1
        row.last_contact_on = today
        row.status = "contacted"
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "waiting_list_contacted",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="waiting_list",
            target_id=row.id,
        )
        return _view(row)


@dataclass(frozen=True)
class Conversion:
    patient_id: str
    appointment: AppointmentView | None


@requires(Permission.AGENDA_WRITE, Permission.PATIENT_IDENTITY_WRITE)
def convert(
    ws: Workspace,
    actor: Actor,
    entry_id: str,
    sex: str,
    first_appointment: BookingRequest | None = None,
    *,
    gp_user_id: str | None = None,
    now: datetime | None = None,
) -> Conversion:
    """Create a provisional patient from the entry and book the first appointment; if the
    booking is refused nothing is saved.
    """
    actor.require(Permission.AGENDA_WRITE)
    actor.require(Permission.PATIENT_IDENTITY_WRITE)
    with ws.store.write() as session:
        row = _entry(session, entry_id)
        if row.status == "converted":
            raise ValidationFailed("Cette personne est déjà devenue patiente du centre.")
        if row.patient_id is not None:
            # Already a patient: only the first appointment with a médecin traitant.
            existing = session.get(Patient, row.patient_id)
            if existing is None or existing.deleted:
                raise NotFound("Patient introuvable.")
            return _finish(ws, session, actor, row, existing, first_appointment, now)
        if sex not in ("F", "M"):
            raise ValidationFailed("Indiquez le sexe (F ou M).")
        patient = Patient(
            birth_name=row.family_name.upper(),
            first_given_name=row.given_name,
            given_names=row.given_name,
            birth_date=row.birth_date,
            sex=sex,
            identity_status="provisional",
            phone_mobile=row.phone,
            gp_user_id=gp_user_id,
        )
        session.add(patient)
        session.flush()
        return _finish(ws, session, actor, row, patient, first_appointment, now)


def _finish(
    ws: Workspace,
    session: Session,
    actor: Actor,
    row: WaitingListEntry,
    patient: Patient,
    first_appointment: BookingRequest | None,
    now: datetime | None,
) -> Conversion:
    """Book the first appointment (if any) and close the entry, in the caller's transaction."""
    appointment = None
    if first_appointment is not None:
        request = BookingRequest(
            first_appointment.practitioner_id,
            first_appointment.start,
            first_appointment.type_code,
            first_appointment.minutes,
            patient.id,
            first_appointment.room_id,
            first_appointment.reason,
            first_appointment.note,
        )
        appt, _check = book_in_session(
            session, ws.store.station_id, actor, request, now=now or local_now()
        )
        appointment = appointment_view(appt, ViewContext.load(session, [appt]))
    row.status = "converted"
    row.converted_patient_id = patient.id
    audit.append(
        session,
        ws.store.station_id,
        "waiting_list_converted",
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="patient",
        target_id=patient.id,
        details={"waiting_list_id": row.id},
    )
    return Conversion(patient.id, appointment)
