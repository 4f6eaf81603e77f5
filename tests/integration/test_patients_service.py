"""Patient identity services on a real SQLCipher centre: validation, duplicates, merge, audit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import patients
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.patient_form import AldForm
from cms_desktop.storage.models import AuditEntry, Consultation, OpLogRow, Patient, PatientAld
from cms_desktop.storage.patient_links import patient_group_ids, per_field_patient_references
from tests.patient_helpers import form, make_nir


@pytest.fixture
def reception(centre):
    ws, actor = centre.login("accueil")
    yield ws, actor
    ws.close()


def _audit(ws, action):
    with ws.store.read() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_reception_creates_and_reads_identity_and_coverage(reception) -> None:
    ws, actor = reception
    nir = make_nir("M", date(1980, 3, 5))
    pid = patients.create_patient(
        ws,
        actor,
        form(
            nir=f"{nir[:1]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}",
            c2s_until="31/12/2030",
            alds=(AldForm("", "", "01/01/2020"),),
            email="jean.dupont@example.org",
        ),
    )
    view = patients.get_patient(ws, actor, pid)
    assert view.display_name == "DUPONT Jean"
    assert view.form.nir.replace(" ", "") == nir
    assert view.form.phone_mobile == "06 12 34 56 78"
    assert view.form.c2s_until == "31/12/2030"
    assert [(a.label, a.start_date, a.hidden) for a in view.active_alds] == [
        ("", date(2020, 1, 1), False)
    ]
    entries = _audit(ws, "patient_created")
    assert [e.target_id for e in entries] == [pid]
    assert "Dupont" not in entries[0].details and "DUPONT" not in entries[0].details


def test_every_problem_is_reported_at_once_and_nothing_is_stored(reception) -> None:
    ws, actor = reception
    future = (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")
    bad_key = make_nir("M", date(1980, 3, 5))[:13] + "00"
    with pytest.raises(ValidationFailed) as caught:
        patients.create_patient(
            ws,
            actor,
            form(
                birth_name="Du\x00pont",
                first_given_name="",
                given_names="",
                nir=bad_key,
                phone_mobile="12",
                email="pas-un-courriel",
                c2s_until="31/02/2025",
            ),
        )
    message = str(caught.value)
    assert "clé du NIR ne correspond pas" in message
    assert "premier prénom de naissance est obligatoire" in message
    assert "« 12 »" in message
    assert "courriel" in message
    assert "31/02/2025" in message and "n'existe pas" in message
    with pytest.raises(ValidationFailed, match="futur"):
        patients.create_patient(ws, actor, form(birth_date=future))
    with ws.store.read() as session:
        assert session.scalars(select(Patient)).all() == []


def test_control_characters_are_stripped(reception) -> None:
    ws, actor = reception
    pid = patients.create_patient(ws, actor, form(address="3 rue\x07 des\u200b Lilas\n Bât. B"))
    assert patients.get_patient(ws, actor, pid).form.address == "3 rue des Lilas Bât. B"


def test_nir_contradicting_sex_or_birth_month_needs_confirmation(reception) -> None:
    ws, actor = reception
    mother_nir = make_nir("F", date(1955, 7, 1))
    with pytest.raises(ValidationFailed) as caught:
        patients.create_patient(ws, actor, form(nir=mother_nir))
    message = str(caught.value)
    assert "sexe" in message and "année de naissance" in message and "NIR vérifié" in message
    pid = patients.create_patient(ws, actor, form(nir=mother_nir, nir_mismatch_confirmed=True))
    view = patients.get_patient(ws, actor, pid)
    assert view.nir_formatted.startswith("2 55 07")
    assert view.form.nir_mismatch_confirmed  # saving the record again does not ask again
    patients.update_patient(ws, actor, pid, replace(view.form, city="Sées"), view.version)
    own = patients.create_patient(
        ws, actor, form(birth_name="Autre", nir=make_nir("M", date(1980, 3, 5)))
    )
    assert not patients.get_patient(ws, actor, own).form.nir_mismatch_confirmed


def test_duplicates_are_suspected_then_confirmed(reception) -> None:
    ws, actor = reception
    first = patients.create_patient(ws, actor, form())
    twin_form = form(birth_name="DUPOND", first_given_name="jean", given_names="")
    with pytest.raises(patients.DuplicateSuspected) as caught:
        patients.create_patient(ws, actor, twin_form)
    assert [c.id for c in caught.value.candidates] == [first]
    assert [c.id for c in patients.find_duplicates(ws, actor, twin_form)] == [first]
    assert patients.find_duplicates(ws, actor, twin_form, exclude_id=first) == []
    second = patients.create_patient(ws, actor, twin_form, confirmed_not_duplicate_of=(first,))
    assert second != first
    assert json.loads(_audit(ws, "patient_created")[1].details) == {
        "confirmed_not_duplicate_of": [first]
    }


def test_same_nir_is_a_duplicate_whatever_the_names(reception) -> None:
    ws, actor = reception
    nir = make_nir("M", date(1980, 3, 5))
    first = patients.create_patient(ws, actor, form(nir=nir))
    other = form(birth_name="Martin", first_given_name="Paul", given_names="", nir=nir)
    candidates = patients.find_duplicates(ws, actor, other)
    assert [(c.id, c.reason.value) for c in candidates] == [(first, "same_nir")]


def test_update_with_optimistic_check(reception) -> None:
    ws, actor = reception
    pid = patients.create_patient(ws, actor, form())
    view = patients.get_patient(ws, actor, pid)
    patients.update_patient(ws, actor, pid, replace(view.form, city="Valbourg"), view.version)
    with pytest.raises(patients.StaleRecord, match="modifié ailleurs"):
        patients.update_patient(ws, actor, pid, replace(view.form, city="Autre"), view.version)
    again = patients.get_patient(ws, actor, pid)
    assert again.form.city == "Valbourg"
    details = json.loads(_audit(ws, "patient_updated")[0].details)
    assert details["fields"] == ["city"]


def test_update_synchronises_ald_rows(reception, centre) -> None:
    """Reception records ALDs and their dates; a clinician names them (sealed, #17); a
    reception save with hidden labels keeps them."""
    ws, actor = reception
    pid = patients.create_patient(
        ws, actor, form(alds=(AldForm("", "", "01/01/2015"), AldForm("", "", "01/01/2016")))
    )
    first, second = patients.get_patient(ws, actor, pid).alds
    doctor_ws, doctor = centre.login("dr.test")
    try:
        patients.set_ald_label(doctor_ws, doctor, first.id, "Asthme sévère", "14")
        patients.set_ald_label(doctor_ws, doctor, second.id, "Hypertension", "12")
    finally:
        doctor_ws.close()
    view = patients.get_patient(ws, actor, pid)
    assert [(a.label, a.code, a.hidden) for a in view.alds] == [("", "", True)] * 2
    asthma, _hta = view.form.alds
    new_rows = (replace(asthma, end_date="01/01/2024"), AldForm("", "", "01/02/2024"))
    patients.update_patient(ws, actor, pid, replace(view.form, alds=new_rows), view.version)
    after = patients.get_patient(ws, actor, pid)
    assert [(a.start_date, a.active) for a in after.alds] == [
        (date(2015, 1, 1), False),
        (date(2024, 2, 1), True),
    ]
    doctor_ws, doctor = centre.login("dr.test")
    try:
        seen = patients.get_patient(doctor_ws, doctor, pid)
    finally:
        doctor_ws.close()
    assert [(a.label, a.code) for a in seen.alds] == [("Asthme sévère", "14"), ("", "")]
    with ws.store.read() as session:
        deleted = session.scalars(select(PatientAld).where(PatientAld.deleted)).one()
        assert deleted.label.startswith("cms-ck1:") and deleted.start_date == date(2016, 1, 1)


def test_reception_may_not_type_an_ald_label(reception) -> None:
    ws, actor = reception
    pid = patients.create_patient(ws, actor, form())
    with pytest.raises(ValidationFailed, match="saisis par un soignant"):
        patients.add_ald(ws, actor, pid, AldForm("Mucoviscidose", "18", "01/02/2010"))
    with pytest.raises(ValidationFailed, match="saisis par un soignant"):
        patients.create_patient(ws, actor, form(birth_name="Autre", alds=(AldForm("Asthme"),)))
    ald_id = patients.add_ald(ws, actor, pid, AldForm("", "", "01/02/2010"))
    view = patients.get_patient(ws, actor, pid)
    typed = (replace(view.form.alds[0], label="Asthme"),)
    with pytest.raises(ValidationFailed, match="saisis par un soignant"):
        patients.update_patient(ws, actor, pid, replace(view.form, alds=typed), view.version)
    with ws.store.read() as session:
        assert session.get(PatientAld, ald_id).label == ""  # type: ignore[union-attr]


def test_ald_add_update_end(reception, centre) -> None:
    ws, actor = reception
    pid = patients.create_patient(ws, actor, form())
    ald_id = patients.add_ald(ws, actor, pid, AldForm("", "", "01/02/2010"))
    doctor_ws, doctor = centre.login("dr.test")
    try:
        patients.set_ald_label(doctor_ws, doctor, ald_id, "Mucoviscidose (forme sévère)", "18")
    finally:
        doctor_ws.close()
    patients.update_ald(ws, actor, ald_id, AldForm("", "", "01/03/2010", hidden=True))
    patients.end_ald(ws, actor, ald_id, "01/01/2020")
    (ald,) = patients.get_patient(ws, actor, pid).alds
    assert (ald.hidden, ald.start_date, ald.end_date, ald.active) == (
        True,
        date(2010, 3, 1),
        date(2020, 1, 1),
        False,
    )
    doctor_ws, doctor = centre.login("dr.test")
    try:
        (ald,) = patients.get_patient(doctor_ws, doctor, pid).alds
    finally:
        doctor_ws.close()
    assert (ald.label, ald.code) == ("Mucoviscidose (forme sévère)", "18")
    with pytest.raises(ValidationFailed):
        patients.end_ald(ws, actor, ald_id, "")
    with pytest.raises(ValidationFailed, match="fin précède"):
        patients.add_ald(ws, actor, pid, AldForm("", "", "01/01/2020", "01/01/2019"))


def test_doctor_edits_identity_but_not_coverage(centre) -> None:
    ws, doctor = centre.login("dr.test")
    try:
        pid = patients.create_patient(ws, doctor, form())
        view = patients.get_patient(ws, doctor, pid)
        with pytest.raises(PermissionDenied):
            patients.update_patient(ws, doctor, pid, replace(view.form, scheme="MSA"), view.version)
        with pytest.raises(PermissionDenied):
            patients.add_ald(ws, doctor, pid, AldForm("", "", "01/01/2020"))
        with pytest.raises(PermissionDenied):
            patients.merge_patients(ws, doctor, pid, pid)
    finally:
        ws.close()


def test_administrator_sees_no_patient(centre) -> None:
    ws, admin = centre.login("admin", "Chef-Secret-42")
    try:
        with pytest.raises(PermissionDenied):
            patients.search_patients(ws, admin, "dup")
        with pytest.raises(PermissionDenied):
            patients.create_patient(ws, admin, form())
    finally:
        ws.close()


def test_merge_keeps_everything_and_is_audited(centre) -> None:
    ws, clerk = centre.login("accueil")
    try:
        keep = patients.create_patient(ws, clerk, form(phone_mobile=""))
        gone = patients.create_patient(
            ws,
            clerk,
            form(
                birth_name="Dupond",
                email="j.dupond@example.org",
                alds=(AldForm("", "", "01/01/2020"),),
            ),
            confirmed_not_duplicate_of=(keep,),
        )
        with ws.store.write() as session:
            note = Consultation(
                patient_id=gone,
                author_id=clerk.user_id,
                seen_at=datetime.now(UTC),
                signed_at=datetime.now(UTC),
                reason="Toux",
            )
            session.add(note)
    finally:
        ws.close()
    ws, director = centre.login("direction")
    try:
        patients.merge_patients(ws, director, keep, gone)
        view = patients.get_patient(ws, director, keep)
        assert view.form.email == "j.dupond@example.org"
        assert view.form.phone_mobile == "06 12 34 56 78"
        assert [a.start_date for a in view.alds] == [date(2020, 1, 1)]
        assert patients.get_patient(ws, director, gone).id == keep
        assert [h.id for h in patients.search_patients(ws, director, "dup")] == [keep]
        with ws.store.read() as session:
            assert set(patient_group_ids(session, keep)) == {keep, gone}
            notes = session.scalars(
                select(Consultation).where(
                    Consultation.patient_id.in_(patient_group_ids(session, keep))
                )
            ).all()
            assert [n.reason for n in notes] == ["Toux"]
            merged = session.get(Patient, gone)
            assert merged is not None and merged.deleted and merged.merged_into_id == keep
            logged = session.scalars(
                select(OpLogRow.entity).where(OpLogRow.row_id == merged.id)
            ).all()
            assert logged.count("patients") == 2  # insert, then the merge tombstone
        (entry,) = _audit(ws, "patient_merged")
        details = json.loads(entry.details)
        assert entry.target_id == keep and details["merged_id"] == gone
        assert "email" in details["filled"]
        assert details["repointed"] == {"patient_ald.patient_id": 1}
        with pytest.raises(NotFound):
            patients.merge_patients(ws, director, keep, gone)
    finally:
        ws.close()


def test_reference_walk_covers_per_field_tables_only() -> None:
    found = {(cls.__tablename__, attr) for cls, attr in per_field_patient_references()}
    assert ("patient_ald", "patient_id") in found
    assert ("consultation_drafts", "patient_id") in found
    assert all(table not in ("consultations", "patient_search") for table, _ in found)


def test_search_triggers_exist_at_head(reception) -> None:
    ws, _actor = reception
    with ws.store.read() as session:
        names = set(
            session.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'patients'"
                )
            ).scalars()
        )
    assert {"patients_search_insert", "patients_search_update"} <= names
