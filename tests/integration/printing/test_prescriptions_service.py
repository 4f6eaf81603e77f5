"""Prescriptions through the service: mentions, bizone, child weight, storage, renewal, audit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.domain.prescription import LineKind, NonSubstitution, PrescriptionLine, Zone
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.printing_common import recent_outputs
from tests.conftest import Centre
from tests.integration.printing.helpers import (
    add_consultation,
    add_patient,
    audit_actions,
    pages_text,
    set_practitioner,
)

AMOX = PrescriptionLine(
    dci="amoxicilline",
    strength="1 g",
    form="comprimé",
    dosage="1 comprimé matin et soir",
    route="orale",
    duration="6 jours",
)
LEVO = PrescriptionLine(
    dci="lévothyroxine sodique",
    strength="75 µg",
    form="comprimé",
    dosage="1 par jour",
    duration="3 mois",
    renewals=2,
    non_substitutable=NonSubstitution.MTE,
    zone=Zone.ALD,
)
CARE = PrescriptionLine(
    kind=LineKind.FREE_TEXT, text="Soins infirmiers : pansement tous les 2 jours"
)


@pytest.fixture
def doctor(centre: Centre):
    ws, actor = centre.login("dr.test")
    set_practitioner(ws, "dr.test")
    yield ws, actor
    ws.close()


def test_printed_prescription_carries_every_mention_and_is_stored_as_printed(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    draft = rx.PrescriptionDraft(pid, (AMOX, replace(LEVO, zone=Zone.OTHER), CARE))
    issued = rx.issue_prescription(ws, actor, draft)
    text = " ".join(pages_text(issued.pdf))
    for mention in (
        "CMS des Tests",
        "3 rue des Écoles",
        "99000 Villebourg",
        "01 23 45 67 89",
        "FINESS : 610000000",
        "Dr Compte dr.test",
        "Médecin — Médecine générale",
        "RPPS : 10000000042",
        f"Le {paris_today():%d/%m/%Y}",
        "TESTEUR Éloïse",
        "Féminin",
        "04/05/1961",
        "AMOXICILLINE",
        "1 comprimé matin et soir",
        "Durée : 6 jours",
        "Non substituable (MTE)",
        "À renouveler 2 fois",
        "pansement tous les 2 jours",
        "Signature",
    ):
        assert mention in text, mention
    assert rx.prescription_pdf(ws, actor, issued.id) == issued.pdf
    summary = rx.list_prescriptions(ws, actor, pid)
    assert [s.id for s in summary] == [issued.id] and summary[0].line_count == 3
    prints = audit_actions(ws, "print")
    assert [(e.target_type, e.target_id) for e in prints] == [("prescription", issued.id)]
    assert "TESTEUR" not in prints[0].details and pid in prints[0].details


def test_preview_is_the_same_bytes_as_the_stored_print_and_stores_nothing(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    preview = rx.render_draft(ws, actor, rx.PrescriptionDraft(pid, (AMOX,)))
    assert rx.list_prescriptions(ws, actor, pid) == []
    assert audit_actions(ws, "print") == []
    issued = rx.issue_prescription(ws, actor, preview.draft, how="export")
    assert issued.pdf == preview.pdf
    assert len(audit_actions(ws, "export")) == 1


def test_bizone_needs_an_active_ald_and_places_lines_in_their_zone(doctor) -> None:
    ws, actor = doctor
    without = add_patient(ws)
    with pytest.raises(ValidationFailed, match="affection de longue durée"):
        rx.issue_prescription(ws, actor, rx.PrescriptionDraft(without, (LEVO,), bizone=True))
    assert rx.list_prescriptions(ws, actor, without) == [] and audit_actions(ws, "print") == []
    with_ald = add_patient(ws, ald=True)
    ctx = rx.prescribing_context(ws, actor, with_ald)
    assert ctx.has_ald and ctx.ald_labels == ("Diabète de type 2",)
    issued = rx.issue_prescription(
        ws, actor, rx.PrescriptionDraft(with_ald, (LEVO, AMOX), bizone=True)
    )
    text = " ".join(pages_text(issued.pdf))
    assert text.index("AFFECTION EXONÉRANTE") < text.index("LÉVOTHYROXINE")
    assert (
        text.index("LÉVOTHYROXINE")
        < text.index("MALADIES INTERCURRENTES")
        < text.index("AMOXICILLINE")
    )
    assert rx.list_prescriptions(ws, actor, with_ald)[0].kind == "bizone"


def test_child_without_weight_is_refused_then_weight_comes_from_latest_consultation(doctor) -> None:
    ws, actor = doctor
    today = date.today()
    child = add_patient(ws, birth=today.replace(year=today.year - 4), given="Léo", sex="M")
    assert rx.prescribing_context(ws, actor, child).weight_required
    with pytest.raises(ValidationFailed, match="poids de l'enfant est obligatoire"):
        rx.issue_prescription(ws, actor, rx.PrescriptionDraft(child, (AMOX,)))
    now = datetime.now(UTC)
    add_consultation(ws, child, "dr.test", now - timedelta(days=90), weight_kg=15.0)
    add_consultation(ws, child, "dr.test", now - timedelta(days=2), weight_kg=16.5)
    add_consultation(ws, child, "dr.test", now - timedelta(days=1), weight_kg=None)
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(child, (AMOX,)))
    assert "Poids : 16,5 kg" in " ".join(pages_text(issued.pdf))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "aucune ligne"),
        ((replace(AMOX, dosage=""),), "posologie manquante"),
        ((replace(AMOX, non_substitutable=""),), "MTE, EFG ou CIF"),
    ],
)
def test_bad_prescriptions_are_refused_with_the_reason(doctor, lines, message) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    with pytest.raises(ValidationFailed, match=message):
        rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, lines))
    assert rx.list_prescriptions(ws, actor, pid) == []


def test_prescriber_without_rpps_is_refused(centre: Centre) -> None:
    ws, actor = centre.login("dr.test")
    pid = add_patient(ws)
    with pytest.raises(ValidationFailed, match="RPPS"):
        rx.render_draft(ws, actor, rx.PrescriptionDraft(pid, (AMOX,)))
    ws.close()


def test_renewal_gives_an_editable_draft_linked_to_the_original(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws, ald=True)
    first = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (LEVO, AMOX), bizone=True))
    draft = rx.renew(ws, actor, first.id)
    assert draft.renews_id == first.id and draft.bizone and draft.issued_on is None
    assert draft.lines == (LEVO, AMOX)
    edited = replace(draft, lines=(replace(LEVO, dosage="1,5 par jour"),))
    second = rx.issue_prescription(ws, actor, edited)
    listed = rx.list_prescriptions(ws, actor, pid)
    assert {s.id: s.renews_id for s in listed} == {first.id: None, second.id: first.id}
    assert "1,5 par jour" in " ".join(pages_text(second.pdf))
    assert rx.prescription_pdf(ws, actor, first.id) == first.pdf  # the original is untouched


def test_reception_is_refused(centre: Centre) -> None:
    ws, actor = centre.login("accueil")
    pid = add_patient(ws)
    with pytest.raises(PermissionDenied):
        rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (AMOX,)))
    with pytest.raises(PermissionDenied):
        rx.list_prescriptions(ws, actor, pid)
    with pytest.raises(PermissionDenied):
        rx.list_templates(ws, actor)
    ws.close()


def test_templates_are_each_doctors_own(centre: Centre) -> None:
    ws, doctor = centre.login("dr.test")
    saved = rx.save_template(ws, doctor, "  Angine   adulte ", (AMOX, CARE))
    assert saved.name == "Angine adulte"
    assert [(t.name, t.lines) for t in rx.list_templates(ws, doctor)] == [
        ("Angine adulte", (AMOX, CARE))
    ]
    renamed = rx.save_template(ws, doctor, "Angine", (AMOX,), template_id=saved.id)
    assert rx.list_templates(ws, doctor) == [renamed]
    ws.close()
    ws, director = centre.login("direction")
    assert rx.list_templates(ws, director) == []
    with pytest.raises(NotFound):
        rx.delete_template(ws, director, saved.id)
    with pytest.raises(ValidationFailed):
        rx.save_template(ws, director, "Vide", ())
    ws.close()
    ws, doctor = centre.login("dr.test")
    rx.delete_template(ws, doctor, saved.id)
    assert rx.list_templates(ws, doctor) == []
    ws.close()


def test_lines_round_trip_through_json() -> None:
    lines = (AMOX, LEVO, CARE, replace(AMOX, non_substitutable="efg", quantity=3, is_narcotic=True))
    assert rx.lines_from_json(rx.lines_to_json(lines)) == lines


def test_reprint_gives_the_stored_bytes_and_is_audited_as_a_reprint(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (AMOX,)))
    stored = rx.stored_prescription(ws, actor, issued.id)
    assert stored.pdf == issued.pdf  # byte for byte what was printed
    assert stored.patient_id == pid and stored.title == f"Ordonnance du {paris_today():%d/%m/%Y}"
    rx.record_reprint(ws, actor, issued.id)
    rx.record_reprint(ws, actor, issued.id, "export")
    documents = [json.loads(e.details)["document"] for e in audit_actions(ws, "print")]
    assert documents == ["prescription", "prescription_reprint"]
    exports = audit_actions(ws, "export")
    assert [(e.target_id, json.loads(e.details)["document"]) for e in exports] == [
        (issued.id, "prescription_reprint")
    ]
    recent = recent_outputs(ws, actor)
    assert [r.document for r in recent][:2] == ["Ordonnance (réimpression)"] * 2
    with pytest.raises(NotFound):
        rx.stored_prescription(ws, actor, "inconnue")
