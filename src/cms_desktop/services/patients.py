"""Patient identity and coverage: create, read, update (optimistic check), ALD rows.

Reception and clinicians use these; nothing clinical is read or written here. Duplicate
detection, merge and search live in ``patient_duplicates`` and ``patient_search`` and are
re-exported here so that callers import one module.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.identity import (
    DOCUMENT_LABELS,
    SEX_LABELS,
    STATUS_LABELS,
    IdentityDocument,
    IdentityStatus,
    Sex,
)
from cms_desktop.domain.nir import Nir, check_nir_against_identity
from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ServiceError, ValidationFailed
from cms_desktop.services.patient_duplicates import (
    DuplicateCandidate,
    DuplicateSuspected,
    check_not_duplicate,
    find_duplicates,
    merge_patients,
)
from cms_desktop.services.patient_form import (
    COVERAGE_FIELDS,
    AldForm,
    CleanAld,
    PatientForm,
    date_text,
    phone_text,
    validate_form,
)
from cms_desktop.services.patient_search import PatientHit, display_name, search_patients
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Patient, PatientAld, User
from cms_desktop.storage.patient_links import surviving_id

__all__ = [
    "AldForm",
    "AldView",
    "DuplicateCandidate",
    "DuplicateSuspected",
    "PatientForm",
    "PatientHit",
    "PatientView",
    "StaleRecord",
    "add_ald",
    "create_patient",
    "end_ald",
    "find_duplicates",
    "get_patient",
    "merge_patients",
    "search_patients",
    "update_ald",
    "update_patient",
]

_IDENTITY_TRAIT_FIELDS = ("birth_name", "used_name", "first_given_name", "birth_date", "nir")


class StaleRecord(ServiceError):
    """The record changed (another workstation, another window) since the form was read."""

    def __init__(self) -> None:
        super().__init__(
            "Ce dossier a été modifié ailleurs depuis son ouverture. Vos saisies n'ont pas été "
            "enregistrées : copiez-les si besoin, rechargez le dossier puis recommencez."
        )


@dataclass(frozen=True)
class AldView:
    id: str
    label: str
    code: str
    start_date: date | None
    end_date: date | None
    active: bool


@dataclass(frozen=True)
class PatientView:
    """A patient's identity and coverage, with ``form`` ready to edit and ``version`` to
    pass back to ``update_patient``."""

    id: str
    version: str
    form: PatientForm
    display_name: str
    birth_date: date
    age: int
    sex_label: str
    status_label: str
    document_label: str
    nir_formatted: str
    gp_name: str
    alds: tuple[AldView, ...]
    active_alds: tuple[AldView, ...]


def _today() -> date:
    return paris_today()


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _check_gp(session: Session, gp_user_id: str | None) -> None:
    if gp_user_id is None:
        return
    user = session.get(User, gp_user_id)
    if user is None or user.deleted or not user.active:
        raise ValidationFailed("Le médecin traitant choisi n'est pas un praticien actif du centre.")


def _require_coverage_write(actor: Actor, changed: bool) -> None:
    if changed:
        actor.require(Permission.PATIENT_COVERAGE_WRITE)


def _load(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted:
        raise NotFound("Patient introuvable.")
    return patient


@requires(Permission.PATIENT_IDENTITY_WRITE)
def create_patient(
    ws: Workspace,
    actor: Actor,
    form: PatientForm,
    confirmed_not_duplicate_of: tuple[str, ...] = (),
) -> str:
    """Register a patient; raises DuplicateSuspected unless every likely duplicate was
    shown to the user and confirmed as another person. Returns the new id."""
    actor.require(Permission.PATIENT_IDENTITY_WRITE)
    clean = validate_form(form, _today())
    _require_coverage_write(
        actor, any(clean.values[f] for f in COVERAGE_FIELDS) or bool(clean.alds)
    )
    with ws.store.write() as session:
        _check_gp(session, clean.values["gp_user_id"])
        check_not_duplicate(session, clean.traits, None, confirmed_not_duplicate_of)
        patient = Patient(**clean.values)
        session.add(patient)
        session.flush()
        for ald in clean.alds:
            session.add(_new_ald(patient.id, ald))
        audit.append(
            session,
            ws.store.station_id,
            "patient_created",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient.id,
            details={"confirmed_not_duplicate_of": list(confirmed_not_duplicate_of)},
        )
        return patient.id


def _new_ald(patient_id: str, ald: CleanAld) -> PatientAld:
    return PatientAld(
        patient_id=patient_id,
        label=ald.label,
        code=ald.code,
        start_date=ald.start_date,
        end_date=ald.end_date,
    )


@requires(Permission.PATIENT_IDENTITY_WRITE, note="a changed coverage: patient.coverage.write")
def update_patient(
    ws: Workspace,
    actor: Actor,
    patient_id: str,
    form: PatientForm,
    expected_version: str,
    confirmed_not_duplicate_of: tuple[str, ...] = (),
) -> None:
    """Save the edited form if the record is still at ``expected_version``.

    ALD rows of the form are synchronised: rows with an id updated, new rows added, stored
    rows missing from the form tombstoned. Duplicates are checked when a trait changed.
    """
    actor.require(Permission.PATIENT_IDENTITY_WRITE)
    clean = validate_form(form, _today())
    with ws.store.write() as session:
        patient = _load(session, patient_id)
        if patient.version != expected_version:
            raise StaleRecord()
        changed = {k: v for k, v in clean.values.items() if getattr(patient, k) != v}
        stored_alds = {
            a.id: a
            for a in session.scalars(
                select(PatientAld).where(
                    PatientAld.patient_id == patient_id, PatientAld.deleted.is_(False)
                )
            )
        }
        ald_changes = _ald_changes(stored_alds, clean.alds)
        _require_coverage_write(actor, any(f in changed for f in COVERAGE_FIELDS) or ald_changes)
        if "gp_user_id" in changed:
            _check_gp(session, clean.values["gp_user_id"])
        if any(f in changed for f in _IDENTITY_TRAIT_FIELDS):
            check_not_duplicate(session, clean.traits, patient_id, confirmed_not_duplicate_of)
        for key, value in changed.items():
            setattr(patient, key, value)
        _apply_alds(session, patient_id, stored_alds, clean.alds)
        audit.append(
            session,
            ws.store.station_id,
            "patient_updated",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
            details={"fields": sorted(changed), "alds_changed": ald_changes},
        )


def _ald_changes(stored: dict[str, PatientAld], rows: tuple[CleanAld, ...]) -> bool:
    kept = {r.id for r in rows if r.id}
    if set(stored) - kept:
        return True
    for row in rows:
        if row.id is None:
            return True
        old = stored.get(row.id)
        if old is None:
            raise NotFound("Une ALD de ce dossier est introuvable : rechargez le dossier.")
        if (old.label, old.code, old.start_date, old.end_date) != (
            row.label,
            row.code,
            row.start_date,
            row.end_date,
        ):
            return True
    return False


def _apply_alds(
    session: Session, patient_id: str, stored: dict[str, PatientAld], rows: tuple[CleanAld, ...]
) -> None:
    kept = {r.id for r in rows if r.id}
    for ald_id, ald in stored.items():
        if ald_id not in kept:
            ald.deleted = True
    for row in rows:
        if row.id is None:
            session.add(_new_ald(patient_id, row))
            continue
        target = stored[row.id]
        for name in ("label", "code", "start_date", "end_date"):
            if getattr(target, name) != getattr(row, name):
                setattr(target, name, getattr(row, name))


def _form_of(patient: Patient, alds: list[PatientAld]) -> PatientForm:
    data: dict[str, Any] = {}
    for f in fields(PatientForm):
        if f.name in ("alds", "nir_mismatch_confirmed"):
            continue
        value = getattr(patient, f.name)
        if isinstance(value, date):
            data[f.name] = date_text(value)
        elif f.name in ("phone_mobile", "phone_home", "contact_phone"):
            data[f.name] = phone_text(value)
        elif f.name == "nir":
            data[f.name] = Nir(value).formatted if value else ""
        elif f.name == "gp_user_id":
            data[f.name] = value
        else:
            data[f.name] = "" if value is None else str(value)
    data["alds"] = tuple(
        AldForm(a.label, a.code, date_text(a.start_date), date_text(a.end_date), a.id) for a in alds
    )
    # A stored NIR was accepted once (possibly after confirmation): saving again must not nag.
    data["nir_mismatch_confirmed"] = bool(patient.nir) and bool(
        check_nir_against_identity(Nir(patient.nir), Sex(patient.sex), patient.birth_date)
    )
    return PatientForm(**data)


@requires(Permission.PATIENT_IDENTITY_READ)
def get_patient(ws: Workspace, actor: Actor, patient_id: str) -> PatientView:
    """Identity, coverage and ALDs. A merged record's id leads to the record it went into."""
    actor.require(Permission.PATIENT_IDENTITY_READ)
    today = _today()
    with ws.store.read() as session:
        patient = _load(session, surviving_id(session, patient_id))
        alds = list(
            session.scalars(
                select(PatientAld)
                .where(PatientAld.patient_id == patient.id, PatientAld.deleted.is_(False))
                .order_by(PatientAld.start_date)
            )
        )
        gp_name = patient.gp_outside_name
        if patient.gp_user_id:
            gp = session.get(User, patient.gp_user_id)
            gp_name = gp.full_name if gp is not None else ""
        views = tuple(
            AldView(a.id, a.label, a.code, a.start_date, a.end_date, a.active_on(today))
            for a in alds
        )
        document = patient.identity_document
        return PatientView(
            id=patient.id,
            version=patient.version,
            form=_form_of(patient, alds),
            display_name=display_name(
                patient.birth_name, patient.used_name, patient.first_given_name, patient.sex
            ),
            birth_date=patient.birth_date,
            age=age_on(patient.birth_date, today),
            sex_label=SEX_LABELS[Sex(patient.sex)],
            status_label=STATUS_LABELS[IdentityStatus(patient.identity_status)],
            document_label=DOCUMENT_LABELS[IdentityDocument(document)] if document else "",
            nir_formatted=Nir(patient.nir).formatted if patient.nir else "",
            gp_name=gp_name,
            alds=views,
            active_alds=tuple(v for v in views if v.active),
        )


def _ald_row(session: Session, ald_id: str) -> PatientAld:
    ald = session.get(PatientAld, ald_id)
    if ald is None or ald.deleted:
        raise NotFound("ALD introuvable.")
    return ald


def _validated_ald(form: AldForm) -> CleanAld:
    clean = validate_form(PatientForm("X", "X", "01/01/2000", "M", alds=(form,)), _today()).alds
    return clean[0]


def _audit_ald(ws: Workspace, session: Session, actor: Actor, action: str, ald: PatientAld) -> None:
    audit.append(
        session,
        ws.store.station_id,
        action,
        user_id=actor.user_id,
        user_login=actor.login,
        target_type="patient",
        target_id=ald.patient_id,
        details={"ald_id": ald.id},
    )


@requires(Permission.PATIENT_COVERAGE_WRITE)
def add_ald(ws: Workspace, actor: Actor, patient_id: str, form: AldForm) -> str:
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    clean = _validated_ald(form)
    with ws.store.write() as session:
        _load(session, patient_id)
        ald = _new_ald(patient_id, clean)
        session.add(ald)
        session.flush()
        _audit_ald(ws, session, actor, "patient_ald_added", ald)
        return ald.id


@requires(Permission.PATIENT_COVERAGE_WRITE)
def update_ald(ws: Workspace, actor: Actor, ald_id: str, form: AldForm) -> None:
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    clean = _validated_ald(form)
    with ws.store.write() as session:
        ald = _ald_row(session, ald_id)
        for name in ("label", "code", "start_date", "end_date"):
            if getattr(ald, name) != getattr(clean, name):
                setattr(ald, name, getattr(clean, name))
        _audit_ald(ws, session, actor, "patient_ald_updated", ald)


@requires(Permission.PATIENT_COVERAGE_WRITE)
def end_ald(ws: Workspace, actor: Actor, ald_id: str, end_date: str) -> None:
    """Close an ALD at ``end_date`` (dd/mm/yyyy); it stays in the record, inactive."""
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    if not end_date.strip():
        raise ValidationFailed("Indiquez la date de fin de l'ALD (jj/mm/aaaa).")
    with ws.store.write() as session:
        ald = _ald_row(session, ald_id)
        current = AldForm(ald.label, ald.code, date_text(ald.start_date), end_date)
        ald.end_date = _validated_ald(current).end_date
        _audit_ald(ws, session, actor, "patient_ald_ended", ald)
