"""The prescription editor holds a line matching an allergy on every path that adds one
(typing, BDPM completion, template, renewal) until the prescriber confirms with a reason;
the banner and the « non codée » notice are on every entry point; bizone by default in ALD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.domain.synthesis import Allergy
from cms_desktop.services import medicines, synthesis
from cms_desktop.services import prescription_allergies as pa
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.clinical_fields import open_text
from cms_desktop.storage.models import PrescriptionRecord
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.area import NewDocumentPage
from cms_desktop.ui.printing.prescription_editor import PrescriptionEditor
from tests.integration.printing.helpers import add_patient, audit_actions, set_practitioner

SAMPLE = Path(__file__).parents[2] / "fixtures" / "bdpm"
AUGMENTIN_SHOWN = (
    "AMOXICILLINE 1 g + ACIDE CLAVULANIQUE 125 mg, poudre pour suspension buvable en "
    "sachet-dose  (AMOXICILLINE/ACIDE CLAVULANIQUE BIOGARAN 1 g/125 mg, poudre pour "
    "suspension buvable en sachet-dose)"
)


@pytest.fixture
def doctor_ctx(open_session, runner) -> AreaContext:
    ws, actor = open_session("dr.moreau")
    set_practitioner(ws, "dr.moreau")
    medicines.import_bdpm(ws, actor, SAMPLE)
    return AreaContext(ws, actor, runner)


def _allergic(ctx: AreaContext, *substances: str, ald: bool = False) -> str:
    pid = add_patient(ctx.workspace, ald=ald)
    for substance in substances:
        synthesis.add_entry(ctx.workspace, ctx.actor, pid, Allergy(substance))
    return pid


def _editor(qtbot, ctx: AreaContext, pid: str) -> PrescriptionEditor:
    editor = PrescriptionEditor(ctx, pid)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def _finish_line(editor: PrescriptionEditor) -> None:
    editor.form.dosage.setText("1 sachet matin et soir")
    editor.form.duration.setText("6 jours")
    editor.add_line()


def _confirm(qtbot, editor: PrescriptionEditor, reason: str) -> None:
    dialog = editor.confirm_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.reason.setText(reason)
    dialog.keep_button.click()
    assert editor.confirm_dialog is None


def test_typed_line_is_held_and_kept_only_with_a_reason(qtbot, doctor_ctx) -> None:
    pid = _allergic(doctor_ctx, "Amoxicilline")
    editor = _editor(qtbot, doctor_ctx, pid)
    assert "Amoxicilline" in editor.banner.text() and editor.banner.isVisible()
    editor.form.dci.setText("AMOXICILLINE")
    _finish_line(editor)
    dialog = editor.confirm_dialog
    assert dialog is not None
    assert "la ligne contient AMOXICILLINE" in dialog.reasons.text()
    assert editor.lines_list.item(0).text().startswith("1. ⚠ ALLERGIE — AMOXICILLINE")
    assert "Ligne 1 bloquée" in editor.allergy_status.text()
    dialog.keep_button.click()  # no reason: refused, still open
    assert "motif" in dialog.error_label.text() and editor.confirm_dialog is dialog
    editor.preview()
    assert "Confirmez la prescription" in editor.error_label.text()
    _confirm(qtbot, editor, "Réaction ancienne non allergique (diarrhée)")
    (line,) = editor.lines()
    assert line.allergy_confirmation is not None
    assert line.allergy_confirmation.reason == "Réaction ancienne non allergique (diarrhée)"
    assert "prescrit malgré l'allergie" in editor.lines_list.item(0).text()
    assert len(audit_actions(doctor_ctx.workspace, pa.ACTION_CONFIRMED)) == 1
    issued: list[str] = []
    editor.issued.connect(issued.append)
    editor.preview()
    qtbot.addWidget(editor.preview_dialog)
    editor.preview_dialog._notify("print")
    (record,) = rx.list_prescriptions(doctor_ctx.workspace, doctor_ctx.actor, pid)
    assert issued == [record.id]


def test_completion_warns_before_the_line_is_added_and_removing_drops_it(qtbot, doctor_ctx) -> None:
    pid = _allergic(doctor_ctx, "Amoxicilline")
    editor = _editor(qtbot, doctor_ctx, pid)
    editor.form.dci.setFocus()
    qtbot.keyClicks(editor.form.dci, "amoxi")
    assert AUGMENTIN_SHOWN in editor.completion_texts()
    editor.completer.activated.emit(AUGMENTIN_SHOWN)
    assert editor.form_warning.isVisible()
    assert "la ligne contient AMOXICILLINE" in editor.form_warning.text()
    _finish_line(editor)
    assert editor.confirm_dialog is not None
    editor.confirm_dialog.remove_button.click()
    assert editor.lines() == () and editor.confirm_dialog is None


def test_a_cephalosporin_for_a_penicillin_allergy_is_held(qtbot, doctor_ctx) -> None:
    pid = _allergic(doctor_ctx, "Pénicilline")
    editor = _editor(qtbot, doctor_ctx, pid)
    editor.form.dci.setFocus()
    qtbot.keyClicks(editor.form.dci, "cefpo")
    shown = next(t for t in editor.completion_texts() if t.startswith("CEFPODOXIME 100 mg"))
    editor.completer.activated.emit(shown)
    assert "réaction croisée possible avec CEFPODOXIME" in editor.form_warning.text()
    _finish_line(editor)
    assert "céphalosporines" in editor.confirm_dialog.reasons.text()
    _confirm(qtbot, editor, "Allergologue : céphalosporines autorisées")
    assert editor.lines()[0].allergy_confirmation.allergies == ("Pénicilline",)


def test_template_and_renewal_lines_are_checked_and_held(qtbot, doctor_ctx) -> None:
    ws, actor = doctor_ctx.workspace, doctor_ctx.actor
    line = PrescriptionLine(
        dci="AMOXICILLINE + ACIDE CLAVULANIQUE", dosage="1 sachet 3 fois", duration="7 jours"
    )
    rx.save_template(ws, actor, "Angine", (line,))
    pid = _allergic(doctor_ctx, "Amoxicilline")
    # A prescription printed before the allergy was known, then renewed.
    earlier = add_patient(ws, name="AUTRE")
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(earlier, (line,)))
    editor = _editor(qtbot, doctor_ctx, pid)
    editor.apply_template()
    assert editor.confirm_dialog is not None and editor.lines_list.count() == 1
    editor.confirm_dialog.remove_button.click()
    assert editor.lines() == ()
    synthesis.add_entry(ws, actor, earlier, Allergy("Amoxicilline"))
    renewing = _editor(qtbot, doctor_ctx, earlier)
    assert renewing.previous.currentData() == issued.id
    renewing.renew_selected()
    assert renewing.confirm_dialog is not None
    assert renewing.blocked_rows() == [0]
    _confirm(qtbot, renewing, "Désensibilisation faite")
    assert renewing.blocked_rows() == []
    renewing.preview()
    qtbot.addWidget(renewing.preview_dialog)
    renewing.preview_dialog._notify("print")
    newest = rx.list_prescriptions(ws, actor, earlier)[0]
    stored = rx.stored_prescription(ws, actor, newest.id)
    assert stored.pdf and newest.renews_id == issued.id


def test_impressions_dialog_has_the_banner_and_the_uncoded_notice(
    qtbot, doctor_ctx, monkeypatch
) -> None:
    pid = _allergic(doctor_ctx, "Amoxicilline", "Latex")
    page = NewDocumentPage(doctor_ctx)
    qtbot.addWidget(page)
    monkeypatch.setattr(page, "_patient", lambda: pid)
    page.open_prescription()
    editor = page.editor
    assert isinstance(page.dialog, QDialog)
    assert audit_actions(doctor_ctx.workspace, "prescribing_context_read")[-1].target_id == pid
    assert editor.banner.isVisibleTo(page.dialog) and "Amoxicilline" in editor.banner.text()
    assert editor.uncoded_label.isVisibleTo(page.dialog)
    assert "Latex : allergie non codée : vérifiez vous-même" in editor.uncoded_label.text()
    editor.form.dci.setText("PARACÉTAMOL")
    _finish_line(editor)
    assert editor.confirm_dialog is None
    status = editor.allergy_status.text()
    assert "comparées à chaque ligne" in status and "Latex : allergie non codée" in status


def test_no_allergy_recorded_is_said_neutrally(qtbot, doctor_ctx) -> None:
    editor = _editor(qtbot, doctor_ctx, add_patient(doctor_ctx.workspace))
    editor.form.dci.setText("AMOXICILLINE")
    _finish_line(editor)
    assert editor.confirm_dialog is None and editor.blocked_rows() == []
    assert editor.allergy_status.text() == (
        "Aucune allergie ni intolérance enregistrée : rien à comparer."
    )


def test_bizone_is_ticked_by_default_in_ald_with_lines_in_the_lower_zone(qtbot, doctor_ctx) -> None:
    in_ald = _editor(qtbot, doctor_ctx, add_patient(doctor_ctx.workspace, ald=True))
    assert in_ald.bizone.isChecked() and in_ald.form.zone.isEnabled()
    in_ald.form.dci.setText("PARACÉTAMOL")
    _finish_line(in_ald)
    assert in_ald.lines()[0].zone.value == "other"
    assert in_ald.lines_list.item(0).text().startswith("1. [hors ALD]")
    plain = _editor(qtbot, doctor_ctx, add_patient(doctor_ctx.workspace, name="SANSALD"))
    assert not plain.bizone.isChecked() and not plain.bizone.isEnabled()


def test_stored_line_keeps_who_and_when(qtbot, doctor_ctx) -> None:
    pid = _allergic(doctor_ctx, "Amoxicilline")
    editor = _editor(qtbot, doctor_ctx, pid)
    editor.form.dci.setText("AMOXICILLINE")
    _finish_line(editor)
    _confirm(qtbot, editor, "Tests allergologiques négatifs")
    issued = rx.issue_prescription(doctor_ctx.workspace, doctor_ctx.actor, editor.draft())
    ws = doctor_ctx.workspace
    with ws.store.read() as session:
        sealed = session.get(PrescriptionRecord, issued.id).lines_json  # under the clinical key
    stored = json.loads(
        open_text(ws.clinical_keys, "prescriptions", issued.id, "lines_json", sealed)
    )
    confirmation = stored[0]["allergy_confirmation"]
    assert confirmation["by"] == "dr.moreau" and confirmation["at"]
    assert confirmation["allergies"] == ["Amoxicilline"]
