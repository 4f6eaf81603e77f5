"""The prescription editor: completion from a BDPM sample, lines, bizone, templates, print."""

from __future__ import annotations

import json
from pathlib import Path

import pypdf
import pytest

from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.services import medicines
from cms_desktop.services import prescriptions as rx
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.prescription_editor import PrescriptionEditor
from cms_desktop.ui.record import build_clinical_page
from cms_desktop.ui.record.page import ClinicalPage
from tests.integration.printing.helpers import add_patient, audit_actions, set_practitioner

SAMPLE = Path(__file__).parents[2] / "fixtures" / "bdpm"


@pytest.fixture
def doctor_ctx(open_session, runner) -> AreaContext:
    ws, actor = open_session("dr.moreau")
    set_practitioner(ws, "dr.moreau")
    medicines.import_bdpm(ws, actor, SAMPLE)
    return AreaContext(ws, actor, runner)


def _type_medicine(editor: PrescriptionEditor, qtbot, typed: str, shown: str) -> None:
    editor.form.dci.setFocus()
    qtbot.keyClicks(editor.form.dci, typed)
    assert shown in editor.completion_texts()
    editor.completer.activated.emit(shown)


def test_completion_proposes_the_dci_and_lines_are_built(qtbot, doctor_ctx) -> None:
    pid = add_patient(doctor_ctx.workspace)
    editor = PrescriptionEditor(doctor_ctx, pid)
    qtbot.addWidget(editor)
    editor.show()
    assert "TESTEUR" in editor.header.text() and not editor.bizone.isEnabled()
    _type_medicine(
        editor, qtbot, "dolip", "PARACÉTAMOL 500 mg, comprimé  (DOLIPRANE 500 mg, comprimé)"
    )
    assert (editor.form.dci.text(), editor.form.strength.text(), editor.form.form.text()) == (
        "PARACÉTAMOL",
        "500 mg",
        "comprimé",
    )
    editor.add_line()
    assert "posologie" in editor.error_label.text().lower() and editor.lines() == ()
    editor.form.dosage.setText("1 comprimé 3 fois par jour")
    editor.form.duration.setText("5 jours")
    editor.add_line()
    editor.form.free_text.setChecked(True)
    editor.form.text.setPlainText("Bilan sanguin : NFS")
    editor.add_line()
    lines = editor.lines()
    assert [line.dci for line in lines] == ["PARACÉTAMOL", ""]
    assert lines[1].text == "Bilan sanguin : NFS" and editor.lines_list.count() == 2
    assert editor.lines_list.item(0).text().startswith("1. PARACÉTAMOL 500 mg comprimé")


def test_preview_then_print_stores_the_prescription_once(qtbot, doctor_ctx) -> None:
    pid = add_patient(doctor_ctx.workspace, ald=True)
    editor = PrescriptionEditor(doctor_ctx, pid)
    qtbot.addWidget(editor)
    assert editor.bizone.isEnabled()
    editor.bizone.setChecked(True)
    _type_medicine(editor, qtbot, "amlo", "AMLODIPINE 5 mg, gélule  (AMLOR 5 mg, gélule)")
    editor.form.dosage.setText("1 le soir")
    editor.form.duration.setText("3 mois")
    editor.form.zone.setCurrentIndex(editor.form.zone.findData("ald"))
    editor.add_line()
    assert editor.lines_list.item(0).text().startswith("1. [ALD]")
    issued: list[str] = []
    editor.issued.connect(issued.append)
    editor.preview()
    dialog = editor.preview_dialog
    qtbot.addWidget(dialog)
    assert dialog.page_count() == 1
    dialog._notify("print")
    dialog._notify("print")
    ws, actor = doctor_ctx.workspace, doctor_ctx.actor
    stored = rx.list_prescriptions(ws, actor, pid)
    assert len(issued) == 1 and [s.id for s in stored] == issued and stored[0].kind == "bizone"
    assert len(audit_actions(ws, "print")) == 2  # the second print is audited, not stored again
    text = pypdf.PdfReader(__import__("io").BytesIO(rx.prescription_pdf(ws, actor, issued[0])))
    assert "AMLODIPINE" in text.pages[0].extract_text()


def test_errors_from_the_service_are_shown_in_french(qtbot, doctor_ctx) -> None:
    pid = add_patient(doctor_ctx.workspace)
    editor = PrescriptionEditor(doctor_ctx, pid)
    qtbot.addWidget(editor)
    editor.preview()
    assert "aucune ligne" in editor.error_label.text()


def test_templates_and_renewal(qtbot, doctor_ctx) -> None:
    pid = add_patient(doctor_ctx.workspace)
    editor = PrescriptionEditor(doctor_ctx, pid)
    qtbot.addWidget(editor)
    editor.form.free_text.setChecked(True)
    editor.form.text.setPlainText("Radiographie du thorax")
    editor.add_line()
    editor.save_template("Radio thorax")
    assert editor.templates.count() == 1
    editor.set_lines(())
    editor.apply_template()
    assert [line.text for line in editor.lines()] == ["Radiographie du thorax"]
    editor.preview()
    editor.preview_dialog._notify("export")
    qtbot.addWidget(editor.preview_dialog)
    assert editor.previous.count() == 1 and editor.renew_button.isEnabled()
    editor.set_lines(())
    editor.renew_selected()
    assert [line.text for line in editor.lines()] == ["Radiographie du thorax"]
    assert editor.draft().renews_id == editor.previous.currentData()


def test_an_earlier_prescription_is_previewed_and_reprinted_as_stored(
    qtbot, doctor_ctx, tmp_path
) -> None:
    ws, actor = doctor_ctx.workspace, doctor_ctx.actor
    pid = add_patient(ws)
    line = PrescriptionLine(dci="PARACÉTAMOL", dosage="1 g si douleur", duration="3 jours")
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (line,)))
    editor = PrescriptionEditor(doctor_ctx, pid)
    qtbot.addWidget(editor)
    assert editor.reprint_button.isEnabled() and editor.previous.currentData() == issued.id
    editor.reprint_button.click()
    dialog = editor.preview_dialog
    qtbot.addWidget(dialog)
    assert "réimpression" in dialog.windowTitle() and dialog.page_count() == 1
    assert dialog.print_button.isEnabled()
    dialog._notify("print")  # as after the print dialog
    saved = tmp_path / "ordonnance.pdf"
    assert dialog.save_to(saved)
    assert saved.read_bytes() == issued.pdf  # the exact stored bytes
    reprints = [
        (e.action, e.target_id)
        for e in audit_actions(ws, "print") + audit_actions(ws, "export")
        if json.loads(e.details)["document"] == "prescription_reprint"
    ]
    assert reprints == [("print", issued.id), ("export", issued.id)]
    assert rx.list_prescriptions(ws, actor, pid)[0].id == issued.id  # nothing new stored
    assert len(rx.list_prescriptions(ws, actor, pid)) == 1


def test_a_prescription_in_the_timeline_opens_its_stored_print(qtbot, doctor_ctx) -> None:
    ws, actor = doctor_ctx.workspace, doctor_ctx.actor
    pid = add_patient(ws)
    line = PrescriptionLine(dci="AMOXICILLINE", dosage="1 g matin et soir", duration="6 jours")
    issued = rx.issue_prescription(ws, actor, rx.PrescriptionDraft(pid, (line,)))
    page = build_clinical_page(doctor_ctx, pid)
    assert isinstance(page, ClinicalPage)
    qtbot.addWidget(page)
    row = next(i for i, item in enumerate(page.timeline._items) if item.ref_id == issued.id)
    page.timeline.table.itemActivated.emit(page.timeline.table.item(row, 0))
    dialog = page.preview_dialog
    qtbot.addWidget(dialog)
    assert dialog._pdf == issued.pdf and "réimpression" in dialog.windowTitle()
    dialog._notify("print")
    (entry,) = [
        e for e in audit_actions(ws, "print") if json.loads(e.details)["document"] != "prescription"
    ]
    assert json.loads(entry.details)["document"] == "prescription_reprint"
