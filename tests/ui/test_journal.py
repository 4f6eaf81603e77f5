"""The director's journal on screen: French labels and names, filters, pages, CSV, and
« Qui a consulté ce dossier ? » from the patient's file."""

from __future__ import annotations

import csv
from datetime import date

from cms_desktop.services import patient_file
from cms_desktop.storage.models import Patient
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.journal import JournalWidget, RecordAccessLogDialog
from cms_desktop.ui.patients.area import PatientsArea
from cms_desktop.ui.record import build_clinical_page
from tests.integration.printing.helpers import pages_text


def _patient(ws, name: str, given: str, sex: str = "F") -> str:
    with ws.store.write() as session:
        p = Patient(birth_name=name, first_given_name=given, birth_date=date(1958, 4, 2), sex=sex)
        session.add(p)
        session.flush()
        return p.id


def test_director_finds_who_opened_the_record_from_the_patient_file(
    qtbot, open_session, runner, tmp_path
) -> None:
    ws_doc, doctor = open_session("dr.moreau")
    zoe = _patient(ws_doc, "MARTIN", "Zoé")
    other = _patient(ws_doc, "BERNARD", "Luc", "M")
    patient_file.open_patient_file(ws_doc, doctor, zoe)
    patient_file.open_patient_file(ws_doc, doctor, other)
    ws, director = open_session("direction")
    ctx = AreaContext(ws, director, runner)
    area = PatientsArea(ctx, clinical_page_factory=build_clinical_page)
    qtbot.addWidget(area)
    area.show()
    tab = area.open_patient(zoe)
    assert tab.access_log_button is not None and tab.access_log_button.isVisible()
    tab.access_log_button.click()
    dialog = tab.access_log
    assert isinstance(dialog, RecordAccessLogDialog)
    journal = dialog.journal
    rows = [
        [journal.model.data(journal.model.index(r, c)) for c in range(4)]
        for r in range(journal.model.rowCount())
    ]
    opened = [r for r in rows if r[2] == "Dossier médical ouvert"]
    # The doctor's opening, then the director's own (opening the tab is audited too).
    assert [r[1] for r in opened] == ["Hélène Dubois", "Claire Moreau"]
    assert {r[3] for r in rows} == {"MARTIN Zoé (née le 02/04/1958)"}
    assert journal.page_label.text() == f"1–{len(rows)} sur {len(rows)}"
    # The user filter keeps the doctor's lines only.
    journal.user.setCurrentIndex(journal.user.findData("dr.moreau"))
    assert {line.user_login for line in journal.model.lines} == {"dr.moreau"}
    target = tmp_path / "journal"
    assert journal.export_to(target)
    with (tmp_path / "journal.csv").open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.reader(f, delimiter=";"))
    assert exported[0][3] == "Action" and exported[1][3] == "Dossier médical ouvert"
    # The PDF: the same filtered lines, written only where the director chose.
    assert journal.export_pdf_button.isEnabled()
    assert journal.export_to(tmp_path / "journal", "pdf")
    text = " ".join(pages_text((tmp_path / "journal.pdf").read_bytes()))
    assert "Utilisateur : Claire Moreau (dr.moreau)" in text
    assert "Patient : MARTIN Zoé (née le 02/04/1958)" in text
    assert "Hélène Dubois" not in text  # the director's own opening is filtered out
    assert text.count("Dossier médical ouvert") == 1
    assert sorted(p.name for p in tmp_path.glob("journal*")) == ["journal.csv", "journal.pdf"]


def test_journal_pages_over_the_whole_trail_and_filters_by_action(
    qtbot, open_session, runner
) -> None:
    ws_doc, doctor = open_session("dr.moreau")
    zoe = _patient(ws_doc, "MARTIN", "Zoé")
    for _ in range(105):
        patient_file.open_patient_file(ws_doc, doctor, zoe)
    ws, director = open_session("direction")
    journal = JournalWidget(AreaContext(ws, director, runner))
    qtbot.addWidget(journal)
    journal.action.setCurrentIndex(journal.action.findData("clinical_record_opened"))
    assert journal.page_label.text() == "1–100 sur 105"
    assert journal.next_button.isEnabled() and not journal.previous_button.isEnabled()
    journal.next_button.click()
    assert journal.page_label.text() == "101–105 sur 105"
    journal.patient_edit.setText("BERNARD")
    journal.find_patient()
    assert journal.error_label.text() == "Aucun patient ne correspond."
    journal.patient_edit.setText("MARTIN")
    journal.find_patient()
    assert journal.patient_id == zoe and journal.total == 105
