"""Issue #18: a sync conflict is shown and settled by those allowed to change that kind of
data, from the table's declared data kind: an allergy's note goes to the doctor, never to
the administrator (who used to get it through a default to ``sync.manage``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cms_desktop.domain.permissions import (
    CLINICAL_ROLES,
    DATA_KIND_PERMISSION,
    DataKind,
    PermissionDenied,
    Role,
    has_permission,
)
from cms_desktop.services import sync_conflicts
from cms_desktop.services.actor import Actor
from cms_desktop.services.sync_conflicts import HIDDEN, ConflictChoice
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import clinical_crypto
from cms_desktop.storage.models import (
    AllergyRow,
    Base,
    Patient,
    PatientAld,
    PrescriptionTemplate,
    Replicated,
    SyncConflict,
    User,
)
from cms_desktop.sync.tables import replicated_tables
from tests.integration.sync.stations import KEY, Station, converge, make_stations


def _actor(role: Role) -> Actor:
    return Actor(user_id=f"id-{role}", login=str(role), full_name=f"Compte {role}", role=role)


def _workspace(station: Station) -> Workspace:
    return Workspace(station.data_dir, station.store, KEY, centre_id="")


def _set_note(station: Station, allergy_id: str, note: str) -> None:
    with station.store.write() as session:
        row = session.get(AllergyRow, allergy_id)
        assert row is not None
        row.note = note


@pytest.fixture
def allergy_conflict(tmp_path: Path) -> tuple[list[Station], str]:
    """Two stations, cut off from each other, each edit the note of the same allergy."""
    stations = make_stations(tmp_path, 2)
    first, second = stations
    with first.store.write() as session:
        patient = Patient(
            birth_name="VIGNAL", first_given_name="Odile", birth_date=dt.date(1951, 3, 9), sex="F"
        )
        session.add(patient)
        session.flush()
        allergy = AllergyRow(
            patient_id=patient.id, substance="Pénicilline", kind="drug", severity="severe"
        )
        session.add(allergy)
    converge(stations)
    _set_note(first, allergy.id, "Urticaire géante en 2019")
    _set_note(second, allergy.id, "Œdème de Quincke en 2021")
    converge(stations)
    return stations, allergy.id


def test_the_doctor_sees_and_settles_an_allergy_conflict_the_administrator_does_not(
    allergy_conflict: tuple[list[Station], str],
) -> None:
    stations, allergy_id = allergy_conflict
    ws = _workspace(stations[0])
    notes = {"Urticaire géante en 2019", "Œdème de Quincke en 2021"}

    [for_doctor] = sync_conflicts.list_conflicts(ws, _actor(Role.DOCTOR))
    assert for_doctor.entity == "synthesis_allergies" and for_doctor.field == "note"
    assert for_doctor.entity_label == "Allergie"
    assert {for_doctor.shown_value, for_doctor.kept_value} == notes
    assert for_doctor.record_label == "VIGNAL Odile, né·e le 09/03/1951"
    assert for_doctor.can_resolve

    for role in (Role.ADMINISTRATOR, Role.RECEPTION):
        [hidden] = sync_conflicts.list_conflicts(ws, _actor(role))
        assert (hidden.shown_value, hidden.kept_value, hidden.record_label) == (HIDDEN,) * 3
        assert not hidden.can_resolve
        with pytest.raises(PermissionDenied):
            sync_conflicts.resolve_conflict(ws, _actor(role), hidden.id, ConflictChoice.KEPT)

    sync_conflicts.resolve_conflict(ws, _actor(Role.DOCTOR), for_doctor.id, ConflictChoice.KEPT)
    converge(stations)
    for station in stations:
        with station.store.read() as session:
            row = session.get(AllergyRow, allergy_id)
            assert row is not None and row.note == for_doctor.kept_value
        assert sync_conflicts.count_open_conflicts(_workspace(station)) == 0


def test_a_conflict_stored_with_the_administrators_permission_stays_hidden_from_him(
    allergy_conflict: tuple[list[Station], str],
) -> None:
    """Conflicts detected by an older version carry ``sync.manage``: the kind decides."""
    stations, _ = allergy_conflict
    ws = _workspace(stations[0])
    from cms_desktop.storage.models import SyncConflict

    with ws.store.write() as session:
        for conflict in session.query(SyncConflict):
            conflict.permission = "sync.manage"
    [view] = sync_conflicts.list_conflicts(ws, _actor(Role.ADMINISTRATOR))
    assert view.kept_value == HIDDEN and not view.can_resolve
    assert sync_conflicts.list_conflicts(ws, _actor(Role.DOCTOR))[0].can_resolve


def test_every_replicated_table_declares_its_data_kind() -> None:
    models = [
        m.class_
        for m in Base.registry.mappers
        if isinstance(m.class_, type) and issubclass(m.class_, Replicated)
    ]
    assert len(models) == len(replicated_tables()) > 25
    undeclared = [
        m.__tablename__
        for m in models
        if not isinstance(getattr(m, "__data_kind__", None), DataKind)
    ]
    assert undeclared == []


def test_clinical_tables_are_clinical_and_only_clinicians_see_their_conflicts() -> None:
    tables = replicated_tables()
    clinical = {name for name, info in tables.items() if info.kind is DataKind.CLINICAL}
    assert {
        "synthesis_history",
        "synthesis_allergies",
        "synthesis_treatments",
        "synthesis_vaccinations",
        "synthesis_risk_factors",
        "synthesis_screenings",
        "synthesis_problems",
        "consultations",
        "consultation_drafts",
        "documents",
        "prescriptions",
    } <= clinical
    who = {role for role in Role if has_permission(role, DATA_KIND_PERMISSION[DataKind.CLINICAL])}
    assert who <= CLINICAL_ROLES and Role.DOCTOR in who
    assert set(DATA_KIND_PERMISSION) == set(DataKind)


def test_a_conflict_between_sealed_values_is_shown_opened_to_a_holder_only(
    tmp_path: Path,
) -> None:
    # Under the clinical key (#17) both stations store ciphertext; the conflict screen
    # opens it in memory for a clinician holding the key, and settling keeps it sealed.
    key = clinical_crypto.new_clinical_key(1, "k1")
    stations = make_stations(tmp_path, 2)
    first, second = stations
    with first.store.write() as session:
        patient = Patient(
            birth_name="VIGNAL", first_given_name="Odile", birth_date=dt.date(1951, 3, 9), sex="F"
        )
        session.add(patient)
        session.flush()
        allergy = AllergyRow(
            patient_id=patient.id, substance="Pénicilline", kind="drug", severity="severe"
        )
        session.add(allergy)
    converge(stations)
    for station, text in ((first, "Urticaire en 2019"), (second, "Œdème en 2021")):
        sealed = clinical_crypto.encrypt_field(key, "synthesis_allergies", allergy.id, "note", text)
        _set_note(station, allergy.id, sealed)
    converge(stations)
    holder = _workspace(stations[0])
    holder.clinical_keys = {key.key_id: key}
    [seen] = sync_conflicts.list_conflicts(holder, _actor(Role.DOCTOR))
    assert {seen.shown_value, seen.kept_value} == {"Urticaire en 2019", "Œdème en 2021"}
    [waiting] = sync_conflicts.list_conflicts(_workspace(stations[0]), _actor(Role.DOCTOR))
    assert waiting.shown_value == waiting.kept_value == sync_conflicts.SEALED_UNREAD
    sync_conflicts.resolve_conflict(holder, _actor(Role.DOCTOR), seen.id, ConflictChoice.KEPT)
    with first.store.read() as session:
        row = session.get(AllergyRow, allergy.id)
        assert row is not None and clinical_crypto.is_sealed(row.note)
        opened = clinical_crypto.decrypt_field(
            holder.clinical_keys, "synthesis_allergies", allergy.id, "note", row.note
        )
    assert opened == seen.kept_value


def test_conflicts_on_an_ald_label_and_a_template_hold_ciphertext_only(tmp_path: Path) -> None:
    """#17: the conflict rows keep the values as stored (sealed); reception, who settles
    coverage conflicts, sees « chiffré », never the disease; a template's conflict names
    the template opened for its prescriber."""
    key = clinical_crypto.new_clinical_key(1, "k1")
    stations = make_stations(tmp_path, 2)
    first, second = stations
    with first.store.write() as session:
        patient = Patient(
            birth_name="VIGNAL", first_given_name="Odile", birth_date=dt.date(1951, 3, 9), sex="F"
        )
        session.add(patient)
        session.flush()
        ald = PatientAld(patient_id=patient.id, label="", code="", start_date=dt.date(2020, 1, 1))
        owner = User(login="dr.x", full_name="Dr X", role="doctor", password_hash="")
        session.add_all([ald, owner])
        session.flush()
        template = PrescriptionTemplate(
            owner_id=owner.id,
            name=clinical_crypto.encrypt_field(
                key, "prescription_templates", "", "name", "placeholder"
            ),
        )
        session.add(template)
        session.flush()
        template.name = clinical_crypto.encrypt_field(
            key, "prescription_templates", template.id, "name", "Sevrage LYNX"
        )
    converge(stations)
    for station, text in ((first, "Sclérose ZEBU-1"), (second, "Sclérose ZEBU-2")):
        with station.store.write() as session:
            row = session.get(PatientAld, ald.id)
            assert row is not None
            row.label = clinical_crypto.encrypt_field(key, "patient_ald", ald.id, "label", text)
            tpl = session.get(PrescriptionTemplate, template.id)
            assert tpl is not None
            tpl.lines_json = clinical_crypto.encrypt_field(
                key, "prescription_templates", template.id, "lines_json", f'["{text}"]'
            )
    converge(stations)
    with first.store.read() as session:
        stored = [c.kept_value for c in session.query(SyncConflict).all()]
    assert len(stored) == 2 and all("ZEBU" not in v and "cms-ck1:" in v for v in stored)
    reception = _workspace(stations[0])
    listed = {c.entity: c for c in sync_conflicts.list_conflicts(reception, _actor(Role.RECEPTION))}
    for_reception = listed["patient_ald"]
    assert listed["prescription_templates"].kept_value == HIDDEN  # not reception's to settle
    assert for_reception.shown_value == for_reception.kept_value == sync_conflicts.SEALED_UNREAD
    assert for_reception.can_resolve
    holder = _workspace(stations[0])
    holder.clinical_keys = {key.key_id: key}
    seen = {c.entity: c for c in sync_conflicts.list_conflicts(holder, _actor(Role.DOCTOR))}
    assert seen["prescription_templates"].record_label == "Sevrage LYNX"
    assert "ZEBU" in seen["prescription_templates"].kept_value
