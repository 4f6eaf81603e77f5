"""Opening a patient's file: content, audit, permissions, index use; measurement series; timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.domain.prevention import ScreeningKind, ScreeningStatus
from cms_desktop.domain.synthesis import Allergy, EntryStatus, ScreeningRecord
from cms_desktop.services import patient_file, records, synthesis, timeline
from cms_desktop.services.records import NoteContent
from cms_desktop.storage.models import AuditEntry
from tests.conftest import Centre
from tests.integration.clinical_fixtures import make_patient

TODAY = date(2026, 11, 23)


@pytest.fixture
def patient_id(centre: Centre) -> str:
    return make_patient(centre, "F", date(1960, 3, 9))


def _signed(ws, doctor, pid: str, days_ago: int, **values: object) -> str:  # type: ignore[no-untyped-def]
    seen = datetime.now(UTC) - timedelta(days=days_ago)
    draft = records.save_draft(
        ws,
        doctor,
        pid,
        NoteContent(reason=f"Suivi J-{days_ago}", **values),  # type: ignore[arg-type]
        seen_at=seen,
    )
    return records.sign_draft(ws, doctor, draft)


def test_reception_is_refused_the_file_the_curves_and_the_timeline(
    centre: Centre, patient_id: str
) -> None:
    ws, reception = centre.login("accueil")
    for fn in (patient_file.open_patient_file, patient_file.measurement_series, timeline.timeline):
        with pytest.raises(PermissionDenied):
            fn(ws, reception, patient_id)
    with ws.store.read() as session:
        assert (
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "clinical_record_opened")
            ).all()
            == []
        )
    ws.close()


def test_file_shows_header_allergies_screenings_notes_with_amendments_and_drafts(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    synthesis.add_entry(ws, doctor, patient_id, Allergy("Pénicilline"))
    resolved = synthesis.add_entry(ws, doctor, patient_id, Allergy("Latex"))
    synthesis.end_entry(ws, doctor, synthesis.Section.ALLERGIES, resolved)
    synthesis.add_entry(
        ws, doctor, patient_id, ScreeningRecord(ScreeningKind.BREAST, date(2025, 6, 1))
    )
    notes = [_signed(ws, doctor, patient_id, 30 * i, weight_kg=70.0 + i) for i in range(25)]
    fix = records.amend(ws, doctor, notes[0], NoteContent(reason="Suivi corrigé", weight_kg=69.0))
    draft = records.save_draft(ws, doctor, patient_id, NoteContent(reason="En cours"))

    opened = patient_file.open_patient_file(ws, doctor, patient_id, today=TODAY)
    assert opened.header.age == 66 and opened.header.display_name == "LEROY Inès"
    assert [a.entry.substance for a in opened.active_allergies] == ["Pénicilline"]
    assert all(a.entry.status is EntryStatus.ACTIVE for a in opened.active_allergies)
    by_kind = {s.kind: s for s in opened.screenings}
    assert by_kind[ScreeningKind.BREAST].status is ScreeningStatus.UP_TO_DATE
    assert by_kind[ScreeningKind.BREAST].due_date == date(2027, 6, 1)
    assert by_kind[ScreeningKind.COLORECTAL].status is ScreeningStatus.DUE
    originals = [c for c in opened.consultations if c.amends_id is None]
    assert [c.id for c in originals] == notes[:20]  # the last 20, newest first
    assert opened.consultations[0].amended_by == (fix,)
    assert opened.consultations[1].id == fix and opened.consultations[1].amends_id == notes[0]
    assert [d.id for d in opened.my_drafts] == [draft]
    with ws.store.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "clinical_record_opened", AuditEntry.target_id == patient_id
            )
        ).all()
    assert len(entries) == 1
    ws.close()


def test_measurement_series_uses_amendments_and_carries_height_for_bmi(
    centre: Centre, patient_id: str
) -> None:
    ws, doctor = centre.login("dr.test")
    first = _signed(
        ws, doctor, patient_id, 60, weight_kg=80.0, height_cm=170.0, systolic=150.0, diastolic=95.0
    )
    _signed(ws, doctor, patient_id, 30, weight_kg=78.0, hba1c_pct=7.2)
    records.amend(
        ws,
        doctor,
        first,
        NoteContent(reason="corr", weight_kg=81.0, height_cm=170.0, systolic=150.0, diastolic=95.0),
    )
    series = patient_file.measurement_series(ws, doctor, patient_id)
    assert [v for _, v in series["weight"]] == [81.0, 78.0]
    assert [v for _, v in series["bmi"]] == [28.0, 27.0]
    assert [v for _, v in series["systolic"]] == [150.0] and [
        v for _, v in series["diastolic"]
    ] == [95.0]
    assert [v for _, v in series["hba1c"]] == [7.2]
    assert series["weight"][0][0] < series["weight"][1][0]
    ws.close()


def test_timeline_merges_sources_newest_first(centre: Centre, patient_id: str) -> None:
    ws, doctor = centre.login("dr.test")
    old = _signed(ws, doctor, patient_id, 400)
    recent = _signed(ws, doctor, patient_id, 2)
    items = timeline.timeline(ws, doctor, patient_id)
    assert [i.ref_id for i in items] == [recent, old]
    assert items[0].kind == "consultation" and items[0].author == "Compte dr.test"
    ws.close()


def test_opening_queries_use_the_patient_indexes(centre: Centre, patient_id: str) -> None:
    ws, _ = centre.login("dr.test")
    query = patient_file.last_consultations_query([patient_id])
    with ws.store.read() as session:
        compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "USING INDEX ix_consultations_patient_seen" in plan and "TEMP B-TREE" not in plan
        amend_plan = " ".join(
            str(r[-1])
            for r in session.execute(
                text("EXPLAIN QUERY PLAN SELECT * FROM consultations WHERE amends_id IN ('a', 'b')")
            )
        )
        assert "ix_consultations_amends" in amend_plan
        for table in ("synthesis_allergies", "synthesis_history", "synthesis_problems"):
            p = " ".join(
                str(r[-1])
                for r in session.execute(
                    text(
                        f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE patient_id IN ('x') AND deleted = 0"
                    )
                )
            )
            assert f"ix_{table}_patient" in p
    ws.close()
