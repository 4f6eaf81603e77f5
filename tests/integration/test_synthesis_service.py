"""The fiche de synthèse through the services: permissions, validation, audit, ending entries."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.domain.prevention import ScreeningKind
from cms_desktop.domain.synthesis import (
    Allergy,
    EntryStatus,
    HistoryEntry,
    HistoryKind,
    LongTermTreatment,
    Problem,
    RiskFactor,
    RiskKind,
    ScreeningRecord,
    Severity,
    Vaccination,
)
from cms_desktop.services import synthesis
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.storage.models import AllergyRow, AuditEntry, OpLogRow
from tests.conftest import Centre
from tests.integration.clinical_fixtures import make_patient

ENTRIES = [
    HistoryEntry(HistoryKind.SURGICAL, "Appendicectomie", year=1990),
    Allergy("Pénicilline", reaction="Urticaire", severity=Severity.SEVERE),
    LongTermTreatment("amlodipine", "5 mg le matin", date(2020, 1, 6), "Dr Test"),
    Vaccination("DTCaP", date(2024, 5, 2), lot="AB12", dose="Rappel"),
    RiskFactor(RiskKind.TOBACCO, status="current", pack_years=20),
    ScreeningRecord(ScreeningKind.COLORECTAL, date(2025, 2, 1), "Négatif"),
    Problem("Hypertension artérielle", "K86", since=date(2019, 4, 1)),
]


@pytest.fixture
def patient_id(centre: Centre) -> str:
    return make_patient(centre)


def test_reception_is_refused_every_synthesis_function(centre: Centre, patient_id: str) -> None:
    ws, doctor = centre.login("dr.test")
    entry_id = synthesis.add_entry(ws, doctor, patient_id, ENTRIES[1])
    ws.close()
    ws, reception = centre.login("accueil")
    with pytest.raises(PermissionDenied):
        synthesis.read_synthesis(ws, reception, patient_id)
    for entry in ENTRIES:
        with pytest.raises(PermissionDenied):
            synthesis.add_entry(ws, reception, patient_id, entry)
    with pytest.raises(PermissionDenied):
        synthesis.update_entry(ws, reception, entry_id, ENTRIES[1])
    with pytest.raises(PermissionDenied):
        synthesis.end_entry(ws, reception, synthesis.Section.ALLERGIES, entry_id)
    with pytest.raises(PermissionDenied):
        synthesis.remove_entry(ws, reception, synthesis.Section.ALLERGIES, entry_id)
    ws.close()


def test_every_kind_of_entry_round_trips_and_writes_are_audited_by_id(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    ids = [synthesis.add_entry(ws, doctor, patient_id, e) for e in ENTRIES]
    sheet = synthesis.read_synthesis(ws, doctor, patient_id)
    read = [
        sheet.history,
        sheet.allergies,
        sheet.treatments,
        sheet.vaccinations,
        sheet.risk_factors,
        sheet.screenings,
        sheet.problems,
    ]
    for entry, entry_id, section in zip(ENTRIES, ids, read, strict=True):
        assert [(i.id, i.entry) for i in section] == [(entry_id, entry)]
    assert sheet.last_screenings() == {ScreeningKind.COLORECTAL: date(2025, 2, 1)}
    with ws.store.read() as session:
        added = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "synthesis_entry_added")
        ).all()
        assert sorted(e.target_id for e in added) == sorted(ids)
        assert all("LEROY" not in e.details and "Pénicilline" not in e.details for e in added)
    ws.close()


def test_update_writes_only_changed_fields_and_ending_never_erases(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    allergy = synthesis.add_entry(ws, doctor, patient_id, ENTRIES[1])
    treatment = synthesis.add_entry(ws, doctor, patient_id, ENTRIES[2])
    vaccine = synthesis.add_entry(ws, doctor, patient_id, ENTRIES[3])
    synthesis.update_entry(
        ws,
        doctor,
        allergy,
        Allergy("Pénicilline", reaction="Œdème de Quincke", severity=Severity.LIFE_THREATENING),
    )
    with ws.store.read() as session:
        last = session.scalars(
            select(OpLogRow).where(OpLogRow.row_id == allergy).order_by(OpLogRow.seq.desc())
        ).first()
        assert last is not None
        assert set(json.loads(last.values_json)) == {
            "reaction",
            "severity",
            "updated_at",
            "version",
        }
    synthesis.end_entry(ws, doctor, synthesis.Section.ALLERGIES, allergy)
    synthesis.end_entry(ws, doctor, synthesis.Section.TREATMENTS, treatment)
    synthesis.end_entry(ws, doctor, synthesis.Section.VACCINATIONS, vaccine)
    sheet = synthesis.read_synthesis(ws, doctor, patient_id)
    assert sheet.allergies[0].entry.status is EntryStatus.RESOLVED and sheet.active_allergies == ()
    assert sheet.treatments[0].entry.active is False
    assert sheet.vaccinations == ()
    with ws.store.read() as session:
        assert session.get(AllergyRow, allergy) is not None  # still there, resolved
    with pytest.raises(NotFound):
        synthesis.end_entry(ws, doctor, synthesis.Section.VACCINATIONS, vaccine)
    ws.close()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (Problem("HTA", "hypertension"), "ni un code CISP-2"),
        (Allergy("x" * 10_000), "trop long"),
        (Vaccination("ROR", date(2999, 1, 1)), "futur"),
        (RiskFactor(RiskKind.TOBACCO, status="beaucoup"), "statut tabagique"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_stored(
    centre: Centre, patient_id: str, entry: object, message: str
) -> None:
    ws, doctor = centre.login("dr.test")
    with pytest.raises(ValidationFailed, match=message):
        synthesis.add_entry(ws, doctor, patient_id, entry)  # type: ignore[arg-type]
    sheet = synthesis.read_synthesis(ws, doctor, patient_id)
    assert sheet.problems == sheet.allergies == sheet.vaccinations == sheet.risk_factors == ()
    ws.close()


def test_unknown_patient_is_not_found(centre: Centre) -> None:
    ws, doctor = centre.login("dr.test")
    with pytest.raises(NotFound, match="Patient introuvable"):
        synthesis.add_entry(ws, doctor, "00000000-0000-0000-0000-000000000000", ENTRIES[0])
    ws.close()


def test_no_known_allergy_is_a_dated_statement_by_a_clinician(centre: Centre) -> None:
    from cms_desktop.domain.paris_time import paris_today
    from cms_desktop.services import allergy_status, patient_file
    from cms_desktop.services.allergy_status import AllergyState

    pid = make_patient(centre)
    reception_ws, reception = centre.login("accueil")
    with pytest.raises(PermissionDenied):
        allergy_status.state_no_known_allergy(reception_ws, reception, pid)
    reception_ws.close()
    ws, doctor = centre.login("dr.test")
    status = patient_file.open_patient_file(ws, doctor, pid).allergy_status
    assert status.state is AllergyState.NOT_STATED
    allergy_status.state_no_known_allergy(ws, doctor, pid)
    status = patient_file.open_patient_file(ws, doctor, pid).allergy_status
    assert (status.state, status.stated_on, status.stated_by) == (
        AllergyState.NONE_KNOWN,
        paris_today(),  # the day in Paris, as the record shows it
        "Compte dr.test",
    )
    synthesis.add_entry(ws, doctor, pid, Allergy("Pénicilline", severity=Severity.MODERATE))
    assert patient_file.open_patient_file(ws, doctor, pid).allergy_status.state is (
        AllergyState.ALLERGIES
    )
    with pytest.raises(ValidationFailed, match="allergies actives"):
        allergy_status.state_no_known_allergy(ws, doctor, pid)
    with ws.store.read() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == pid)
        ).all()
    assert actions.count("no_known_allergy_stated") == 1
    ws.close()
