"""Patient identity and coverage: create, read, update (optimistic check), ALD rows.

Reception and clinicians use these. The one clinical thing here is an ALD's label and list
number (they name a disease, #17): sealed under the clinical key, typed and read by
clinicians only; reception records the ALD itself and its dates (the flag billing needs). Duplicate
detection, merge and search live in ``patient_duplicates`` and ``patient_search`` and are
re-exported here so that callers import one module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
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
from cms_desktop.services.clinical_fields import (
    ClinicalKeyUnavailable,
    open_text,
    seal_text,
    writing_key,
)
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
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import Patient, PatientAld, User, new_id
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
    "set_ald_label",
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
    label: str  # "" when hidden
    code: str
    start_date: date | None
    end_date: date | None
    active: bool
    hidden: bool = False  # the label exists but this account may not read it


ALD_TABLE = PatientAld.__tablename__
ALD_CLINICIANS_ONLY = (
    "Le libellé et le numéro d'une ALD nomment une maladie : ils sont saisis par un "
    "soignant (l'accueil enregistre l'ALD et ses dates)."
)


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


def _opened_ald(ws: Workspace, actor: Actor, ald: PatientAld) -> tuple[str, str] | None:
    """(label, list number) in clear, or None when this session may not read them (not a
    clinician, or no clinical key yet). Legacy plaintext reads as it is, to clinicians."""
    if not (ald.label or ald.code):
        return "", ""
    if not actor.can(Permission.CLINICAL_READ):
        return None
    try:
        return (
            open_text(ws.clinical_keys, ALD_TABLE, ald.id, "label", ald.label),
            open_text(ws.clinical_keys, ALD_TABLE, ald.id, "code", ald.code),
        )
    except ClinicalKeyUnavailable:
        return None


UNNAMED_ALD = "ALD (libellé à saisir par un soignant)"


def ald_text(keys: Mapping[str, ClinicalKey], ald: PatientAld) -> tuple[str, str]:
    """(label, list number) opened for a clinical reader (ClinicalKeyUnavailable without
    the key); an ALD reception recorded without a label yet is named so."""
    label = open_text(keys, ALD_TABLE, ald.id, "label", ald.label)
    return label or UNNAMED_ALD, open_text(keys, ALD_TABLE, ald.id, "code", ald.code)


def _ald_key(ws: Workspace, actor: Actor) -> ClinicalKey:
    """The key an ALD's label is sealed under; the French refusal for reception."""
    if not actor.can(Permission.CLINICAL_WRITE):
        raise ValidationFailed(ALD_CLINICIANS_ONLY)
    return writing_key(ws)


def _seal_ald(key: ClinicalKey, ald: PatientAld, label: str, code: str) -> None:
    ald.label = seal_text(key, ALD_TABLE, ald.id, "label", label)
    ald.code = seal_text(key, ALD_TABLE, ald.id, "code", code)


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
    key = _ald_key(ws, actor) if any(a.label or a.code for a in clean.alds) else None
    with ws.store.write() as session:
        _check_gp(session, clean.values["gp_user_id"])
        check_not_duplicate(session, clean.traits, None, confirmed_not_duplicate_of)
        patient = Patient(**clean.values)
        session.add(patient)
        session.flush()
        for ald in clean.alds:
            session.add(_new_ald(patient.id, ald, key))
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


def _new_ald(patient_id: str, ald: CleanAld, key: ClinicalKey | None) -> PatientAld:
    row = PatientAld(
        id=new_id(),
        patient_id=patient_id,
        label="",
        code="",
        start_date=ald.start_date,
        end_date=ald.end_date,
    )
    if ald.label or ald.code:
        assert key is not None  # the caller asked for it (French refusal without)
        _seal_ald(key, row, ald.label, ald.code)
    return row


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
        opened = {i: _opened_ald(ws, actor, a) for i, a in stored_alds.items()}
        ald_changes, clinical = _ald_changes(stored_alds, opened, clean.alds)
        _require_coverage_write(actor, any(f in changed for f in COVERAGE_FIELDS) or ald_changes)
        ald_key = _ald_key(ws, actor) if clinical else None
        if "gp_user_id" in changed:
            _check_gp(session, clean.values["gp_user_id"])
        if any(f in changed for f in _IDENTITY_TRAIT_FIELDS):
            check_not_duplicate(session, clean.traits, patient_id, confirmed_not_duplicate_of)
        for key, value in changed.items():
            setattr(patient, key, value)
        _apply_alds(session, patient_id, stored_alds, opened, clean.alds, ald_key)
        audit.append(
            session,
            ws.store.station_id,
            "patient_updated",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient",
            target_id=patient_id,
            details={"fields": sorted(changed), "alds_changed": ald_changes or clinical},
        )


Opened = dict[str, tuple[str, str] | None]


def _ald_changes(
    stored: dict[str, PatientAld], opened: Opened, rows: tuple[CleanAld, ...]
) -> tuple[bool, bool]:
    """(coverage changed: an ALD added, removed or its dates, label or number changed).
    A hidden row keeps its label; a label sent for a row this session cannot read counts
    as a change (refused without the clinical key)."""
    kept = {r.id for r in rows if r.id}
    coverage, clinical = bool(set(stored) - kept), False
    for row in rows:
        if row.id is None:
            coverage = True
            clinical = clinical or bool(row.label or row.code)
            continue
        old = stored.get(row.id)
        if old is None:
            raise NotFound("Une ALD de ce dossier est introuvable : rechargez le dossier.")
        if (old.start_date, old.end_date) != (row.start_date, row.end_date):
            coverage = True
        if not row.hidden and opened.get(row.id) != (row.label, row.code):
            clinical = True
    return coverage, clinical


def _apply_alds(
    session: Session,
    patient_id: str,
    stored: dict[str, PatientAld],
    opened: Opened,
    rows: tuple[CleanAld, ...],
    key: ClinicalKey | None,
) -> None:
    kept = {r.id for r in rows if r.id}
    for ald_id, ald in stored.items():
        if ald_id not in kept:
            ald.deleted = True
    for row in rows:
        if row.id is None:
            session.add(_new_ald(patient_id, row, key))
            continue
        target = stored[row.id]
        for name in ("start_date", "end_date"):
            if getattr(target, name) != getattr(row, name):
                setattr(target, name, getattr(row, name))
        if not row.hidden and opened.get(row.id) != (row.label, row.code):
            assert key is not None
            _seal_ald(key, target, row.label, row.code)


def _form_of(
    patient: Patient, alds: list[PatientAld], opened: dict[str, tuple[str, str] | None]
) -> PatientForm:
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
        AldForm(
            *(opened[a.id] or ("", "")),
            date_text(a.start_date),
            date_text(a.end_date),
            a.id,
            hidden=opened[a.id] is None,
        )
        for a in alds
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
        opened = {a.id: _opened_ald(ws, actor, a) for a in alds}
        views = tuple(
            AldView(
                a.id,
                *(opened[a.id] or ("", "")),
                a.start_date,
                a.end_date,
                a.active_on(today),
                hidden=opened[a.id] is None,
            )
            for a in alds
        )
        document = patient.identity_document
        return PatientView(
            id=patient.id,
            version=patient.version,
            form=_form_of(patient, alds, opened),
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
    """Record an ALD (reception, from the paperwork): its dates; a label or list number
    is refused unless this session may seal it (see ``set_ald_label``)."""
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    clean = _validated_ald(form)
    key = _ald_key(ws, actor) if clean.label or clean.code else None
    with ws.store.write() as session:
        _load(session, patient_id)
        ald = _new_ald(patient_id, clean, key)
        session.add(ald)
        session.flush()
        _audit_ald(ws, session, actor, "patient_ald_added", ald)
        return ald.id


@requires(Permission.PATIENT_COVERAGE_WRITE)
def update_ald(ws: Workspace, actor: Actor, ald_id: str, form: AldForm) -> None:
    """Change an ALD's dates (a hidden form keeps the stored label and number)."""
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    clean = _validated_ald(form)
    with ws.store.write() as session:
        ald = _ald_row(session, ald_id)
        opened = {ald.id: _opened_ald(ws, actor, ald)}
        _coverage, clinical = _ald_changes({ald.id: ald}, opened, (replace(clean, id=ald.id),))
        key = _ald_key(ws, actor) if clinical else None
        for name in ("start_date", "end_date"):
            if getattr(ald, name) != getattr(clean, name):
                setattr(ald, name, getattr(clean, name))
        if clinical:
            assert key is not None
            _seal_ald(key, ald, clean.label, clean.code)
        _audit_ald(ws, session, actor, "patient_ald_updated", ald)


@requires(Permission.CLINICAL_WRITE)
def set_ald_label(ws: Workspace, actor: Actor, ald_id: str, label: str, code: str = "") -> None:
    """A clinician names the disease of an ALD reception recorded (sealed, #17)."""
    actor.require(Permission.CLINICAL_WRITE)
    with ws.store.read() as session:
        ald = _ald_row(session, ald_id)
        start, end = date_text(ald.start_date), date_text(ald.end_date)
    clean = _validated_ald(AldForm(label, code, start, end))
    key = _ald_key(ws, actor)
    with ws.store.write() as session:
        ald = _ald_row(session, ald_id)
        _seal_ald(key, ald, clean.label, clean.code)
        _audit_ald(ws, session, actor, "patient_ald_updated", ald)


@requires(Permission.PATIENT_COVERAGE_WRITE)
def end_ald(ws: Workspace, actor: Actor, ald_id: str, end_date: str) -> None:
    """Close an ALD at ``end_date`` (dd/mm/yyyy); it stays in the record, inactive."""
    actor.require(Permission.PATIENT_COVERAGE_WRITE)
    if not end_date.strip():
        raise ValidationFailed("Indiquez la date de fin de l'ALD (jj/mm/aaaa).")
    with ws.store.write() as session:
        ald = _ald_row(session, ald_id)
        current = AldForm("", "", date_text(ald.start_date), end_date, hidden=True)
        ald.end_date = _validated_ald(current).end_date
        _audit_ald(ws, session, actor, "patient_ald_ended", ald)
