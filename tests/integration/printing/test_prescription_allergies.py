"""The allergy check at prescription, through the services: BDPM composition, classes,
confirmation stored with the line and audited, templates and renewals checked again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.domain.synthesis import Allergy, AllergyKind, EntryStatus
from cms_desktop.services import medicines, synthesis
from cms_desktop.services import prescription_allergies as pa
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.clinical_fields import open_text
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models import PrescriptionRecord
from tests.conftest import Centre
from tests.integration.printing.helpers import add_patient, audit_actions, set_practitioner

SAMPLE = Path(__file__).parents[2] / "fixtures" / "bdpm"


def _line(dci: str, **kw: object) -> PrescriptionLine:
    return PrescriptionLine(dci=dci, dosage="1 matin et soir", duration="6 jours", **kw)  # type: ignore[arg-type]


AUGMENTIN = _line("AMOXICILLINE + ACIDE CLAVULANIQUE", strength="1 g + 125 mg")
CEFPO = _line("CEFPODOXIME", strength="100 mg")
PARA = _line("PARACÉTAMOL", strength="500 mg")


@pytest.fixture
def doctor(centre: Centre):
    ws, actor = centre.login("dr.test")
    set_practitioner(ws, "dr.test")
    medicines.import_bdpm(ws, actor, SAMPLE)
    yield ws, actor
    ws.close()


def _patient_allergic_to(ws, actor, *substances: str, kind=AllergyKind.ALLERGY) -> str:
    pid = add_patient(ws)
    for substance in substances:
        synthesis.add_entry(ws, actor, pid, Allergy(substance, kind=kind))
    return pid


def test_amoxicillin_allergy_matches_the_combination_through_its_composition(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Amoxicilline")
    (check,) = pa.check_lines(ws, actor, pid, (AUGMENTIN,))
    assert check.blocked and check.recorded and check.uncoded == ()
    assert [m.message for m in check.matches] == [
        "Allergie « Amoxicilline » : la ligne contient AMOXICILLINE."
    ]
    with pytest.raises(ValidationFailed, match=r"Ligne 2 \(AMOXICILLINE \+ ACIDE"):
        rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (PARA, AUGMENTIN)))
    with pytest.raises(ValidationFailed, match="Confirmez la prescription"):
        rx.render_draft(ws, actor, rx.PrescriptionDraft(pid, (AUGMENTIN,)))
    with ws.store.read() as session:
        assert session.scalars(select(PrescriptionRecord)).all() == []


def test_a_brand_or_a_salt_recorded_as_allergy_is_resolved_by_the_bdpm(doctor) -> None:
    ws, actor = doctor
    # « Cefpodoxime proxétil » is a salt of the BDPM; the line names the base.
    pid = _patient_allergic_to(ws, actor, "Cefpodoxime proxétil", "DOLIPRANE")
    checks = pa.check_lines(ws, actor, pid, (CEFPO, PARA))
    assert [m.kind.value for c in checks for m in c.matches] == ["substance", "substance"]
    assert checks[1].matches[0].allergy == "DOLIPRANE"


def test_penicillin_allergy_warns_on_a_cephalosporin_with_its_cited_class(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Pénicilline")
    (check,) = pa.check_lines(ws, actor, pid, (CEFPO,))
    (match,) = check.matches
    assert match.message == (
        "Allergie « Pénicilline » : réaction croisée possible avec CEFPODOXIME (céphalosporines)."
    )
    assert "ANSM" in match.source and "J01D" in match.source


def test_intolerance_and_unrelated_lines(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Aspirine", kind=AllergyKind.INTOLERANCE)
    ibu, para = pa.check_lines(ws, actor, pid, (_line("IBUPROFÈNE"), PARA))
    assert ibu.matches[0].message.startswith("Intolérance « Aspirine » : IBUPROFÈNE appartient")
    assert para.matches == () and not para.blocked and para.recorded


def test_uncoded_allergy_is_said_and_no_allergy_is_neutral(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Latex", "Amoxicilline")
    (check,) = pa.check_lines(ws, actor, pid, (PARA,))
    assert check.uncoded == ("Latex : allergie non codée : vérifiez vous-même",)
    context = rx.prescribing_context(ws, actor, pid)
    assert context.uncoded_allergies == check.uncoded
    assert sorted(i.entry.substance for i in context.allergies) == ["Amoxicilline", "Latex"]
    nobody = add_patient(ws, name="SANSALLERGIE")
    (clear,) = pa.check_lines(ws, actor, nobody, (AUGMENTIN,))
    assert (clear.matches, clear.uncoded, clear.recorded) == ((), (), False)


def test_a_resolved_allergy_is_not_checked(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    synthesis.add_entry(ws, actor, pid, Allergy("Amoxicilline", status=EntryStatus.RESOLVED))
    assert pa.check_lines(ws, actor, pid, (AUGMENTIN,))[0].matches == ()


def test_confirmation_is_stored_with_the_printed_line_and_audited(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Amoxicilline")
    with pytest.raises(ValidationFailed, match="motif"):
        pa.confirm_despite_allergy(ws, actor, pid, AUGMENTIN, "  ")
    confirmed = pa.confirm_despite_allergy(
        ws, actor, pid, AUGMENTIN, "Tests cutanés négatifs en 2025"
    )
    confirmation = confirmed.allergy_confirmation
    assert confirmation is not None
    assert (confirmation.reason, confirmation.allergies, confirmation.by) == (
        "Tests cutanés négatifs en 2025",
        ("Amoxicilline",),
        "dr.test",
    )
    assert confirmation.at
    (entry,) = audit_actions(ws, pa.ACTION_CONFIRMED)
    assert entry.target_id == pid and entry.user_login == "dr.test"
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (confirmed, PARA)))
    with ws.store.read() as session:
        row = session.get(PrescriptionRecord, issued.id)
        # Sealed under the clinical key in the store (#17), opened here as the record is.
        text = open_text(ws.clinical_keys, "prescriptions", issued.id, "lines_json", row.lines_json)
        stored = json.loads(text)
    assert stored[0]["allergy_confirmation"]["reason"] == "Tests cutanés négatifs en 2025"
    assert stored[0]["allergy_confirmation"]["allergies"] == ["Amoxicilline"]
    assert stored[1]["allergy_confirmation"] is None
    # Read back as a domain line, the confirmation is intact.
    line = rx.lines_from_json(json.dumps(stored))[0]
    assert line.allergy_confirmation == confirmation


def test_a_confirmation_covers_only_the_allergies_it_names(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Amoxicilline")
    confirmed = pa.confirm_despite_allergy(ws, actor, pid, AUGMENTIN, "Désensibilisé")
    # A second allergy recorded after the confirmation blocks the line again.
    synthesis.add_entry(ws, actor, pid, Allergy("Acide clavulanique"))
    (check,) = pa.check_lines(ws, actor, pid, (confirmed,))
    assert [m.allergy for m in check.unconfirmed] == ["Acide clavulanique"]


def test_another_prescribers_confirmation_does_not_count(centre: Centre, doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Amoxicilline")
    confirmed = pa.confirm_despite_allergy(ws, actor, pid, AUGMENTIN, "Désensibilisé")
    ws2, other = centre.login("direction")
    set_practitioner(ws2, "direction", rpps="10000000043")
    try:
        with pytest.raises(ValidationFailed, match="Confirmez"):
            rx.render_draft(ws2, other, rx.PrescriptionDraft(pid, (confirmed,)))
    finally:
        ws2.close()


def test_templates_and_renewals_drop_the_confirmation_and_are_checked_again(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Amoxicilline")
    confirmed = pa.confirm_despite_allergy(ws, actor, pid, AUGMENTIN, "Désensibilisé")
    template = rx.save_template(ws, actor, "Angine", (confirmed,))
    assert template.lines[0].allergy_confirmation is None
    (stored,) = rx.list_templates(ws, actor)
    assert pa.check_lines(ws, actor, pid, stored.lines)[0].blocked
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (confirmed,)))
    renewal = rx.renew(ws, actor, issued.id)
    assert renewal.lines[0].allergy_confirmation is None
    with pytest.raises(ValidationFailed, match="Confirmez"):
        rx.issue_prescription(ws, actor, renewal)


def test_a_brand_typed_as_the_line_is_read_through_its_composition(doctor) -> None:
    ws, actor = doctor
    pid = _patient_allergic_to(ws, actor, "Paracétamol")
    (check,) = pa.check_lines(ws, actor, pid, (_line("Doliprane"),))
    assert [m.substance for m in check.matches] == ["PARACÉTAMOL"]
    (other,) = pa.check_lines(ws, actor, pid, (_line("Amlor"),))
    assert other.matches == ()


def test_without_the_bdpm_the_table_still_checks_typed_lines(centre: Centre) -> None:
    """A centre that never imported the BDPM: the curated table still catches the DCIs."""
    ws, actor = centre.login("dr.test")
    try:
        pid = _patient_allergic_to(ws, actor, "Amoxicilline", "Lévothyrox")
        augmentin, cefuroxime, para = pa.check_lines(
            ws, actor, pid, (AUGMENTIN, _line("céfuroxime axétil"), PARA)
        )
        assert augmentin.matches[0].kind.value == "substance"
        assert cefuroxime.matches[0].kind.value == "cross"
        assert para.matches == ()
        # A brand is unknown without the BDPM: said, not passed silently.
        assert para.uncoded == ("Lévothyrox : allergie non codée : vérifiez vous-même",)
    finally:
        ws.close()
