"""A day at the centre on a 1366×768 screen, through the real main window: reception
creates a patient (the duplicate warning by click and by keyboard), books the next free
slot and checks her in; the doctor opens her from the waiting room, writes and signs a
consultation, prints a prescription; reception registers a record-copy request; the
director finds who opened her record. At each step the next button is on screen.

With CMS_WALKTHROUGH_SHOTS=<dir>, each step is saved as a PNG there (look at them under
Xvfb: ``xvfb-run -a -s '-screen 0 1366x768x24'``).
"""

from __future__ import annotations

import os
from datetime import datetime, time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QWidget

from cms_desktop.services import patients
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.printing.preview import PreviewDialog
from tests.integration.printing.helpers import set_practitioner
from tests.patient_helpers import form
from tests.ui.agenda_setup import freeze_agenda_clock, next_open_monday, seed_agenda
from tests.ui.conftest import CENTRE_NAME
from tests.ui.screen_fit import USABLE, button_named, on_usable_screen

SHOTS = os.environ.get("CMS_WALKTHROUGH_SHOTS")


class Day:
    def __init__(self, qtbot, open_session, runner) -> None:
        self.qtbot, self.open_session, self.runner = qtbot, open_session, runner
        self.step = 0

    def window(self, login: str) -> MainWindow:
        ws, actor = self.open_session(login)
        window = MainWindow(ws, actor, runner=self.runner, centre_name=CENTRE_NAME)
        self.qtbot.addWidget(window)
        window.move(0, 0)
        window.resize(*USABLE)  # 1366×768 less the taskbar
        window.show()
        self.qtbot.waitExposed(window)
        assert (window.width(), window.height()) == USABLE
        return window

    def next_button(self, top: QWidget, text: str, what: str) -> QPushButton:
        """The button a person clicks next: it must be whole on the usable screen."""
        QApplication.processEvents()
        button = button_named(top, text)
        assert isinstance(button, QPushButton)
        self.shot(top, what)
        assert on_usable_screen(button), f"« {text} » off screen ({what})"
        return button

    def shot(self, top: QWidget, what: str) -> None:
        self.step += 1
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            top.grab().save(str(Path(SHOTS) / f"{self.step:02d}-{what}.png"))

    def click(self, button: QPushButton) -> None:
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()


def _dialog(kind: type[QDialog]) -> QDialog:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert found, f"no {kind.__name__} open"
    return on_the_small_screen(found[-1])


def on_the_small_screen(dialog: QDialog) -> QDialog:
    """Where a dialog lands on 1366×768: the test screen may be taller (fit_to_screen sizes
    dialogs to the screen they are on; test_screen_fit checks that)."""
    dialog.move(0, 0)
    dialog.resize(min(dialog.width(), USABLE[0]), min(dialog.height(), USABLE[1] - 40))
    QApplication.processEvents()
    return dialog


@pytest.fixture
def no_modal_loops(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """exec() would wait for a person: dialogs open without a nested loop; the print dialog
    answers « Imprimer » to a PDF file standing in for the printer."""
    printed = tmp_path / "imprimante.pdf"

    def shown(self: QDialog) -> int:
        self.show()
        return int(QDialog.DialogCode.Rejected)

    def pdf_printer(self: PreviewDialog) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        return printer

    monkeypatch.setattr(QDialog, "exec", shown)
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: int(QDialog.DialogCode.Accepted))
    monkeypatch.setattr(PreviewDialog, "printer", pdf_printer)
    return printed


def test_a_day_at_the_centre_at_1366x768(
    qtbot, open_session, runner, monkeypatch, no_modal_loops
) -> None:
    monday = next_open_monday()
    freeze_agenda_clock(monkeypatch, datetime.combine(monday, time(8, 32)))
    ws, reception = open_session("accueil")
    seed_agenda(ws, reception, range(6))
    patients.create_patient(ws, reception, form())  # DUPONT Jean, already registered
    set_practitioner(ws, "dr.moreau")
    day = Day(qtbot, open_session, runner)

    # 1. Reception creates the patient: the duplicate warning by click, then by keyboard.
    desk = day.window("accueil")
    desk.show_area("patients")
    area = desk.area_widget("patients")
    new = day.next_button(desk, "Nouveau patient (Ctrl+N)", "accueil-patients")
    day.click(new)
    page = area.patient_tabs()[-1].identity
    page.fill_form(form(birth_name="Dupond"))
    day.click(day.next_button(desk, "Enregistrer (Ctrl+S)", "accueil-nouveau-patient"))
    duplicate = on_the_small_screen(page.duplicate_dialog)
    assert duplicate.isVisible() and "DUPONT Jean" in duplicate.list.item(0).text()
    day.click(day.next_button(duplicate, "Annuler", "accueil-doublon-clic"))
    desk.activateWindow()
    qtbot.waitUntil(desk.isActiveWindow)
    page.edits["birth_name"].setFocus()
    qtbot.keyClick(page.edits["birth_name"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    duplicate = on_the_small_screen(page.duplicate_dialog)
    assert duplicate.isVisible()
    day.click(day.next_button(duplicate, "Créer quand même", "accueil-doublon-clavier"))
    new_id = page.patient_id
    assert new_id is not None

    # … books the next free slot and checks her in.
    desk.show_area("agenda")
    agenda = desk.area_widget("agenda")
    agenda.mode.setCurrentIndex(agenda.mode.findData("day"))
    agenda.go_to(monday)
    day.click(day.next_button(desk, "Nouveau RDV", "accueil-agenda"))
    booking_dialog = agenda.findChild(QDialog, None)
    booking_dialog = _dialog(type(booking_dialog)) if booking_dialog else None
    assert booking_dialog is not None
    qtbot.keyClicks(booking_dialog.patient_search, "Dupond")
    booking_dialog.search_patients()
    assert booking_dialog.patient_list.item(0).text() == "DUPOND Jean — né le 05/03/1980"
    booking_dialog.patient_list.setCurrentRow(0)
    assert booking_dialog.patient_id == new_id
    day.click(day.next_button(booking_dialog, "Prochain créneau libre", "accueil-rdv"))
    assert booking_dialog.start() >= datetime.combine(monday, time(8, 32))
    day.click(
        day.next_button(booking_dialog, booking_dialog.ok_button.text(), "accueil-rdv-creneau")
    )
    assert not booking_dialog.isVisible()
    panel = agenda.waiting
    (entry,) = [e for e in panel.entries if e.appointment.patient_id == new_id]
    panel.select_appointment(entry.appointment.id)
    day.click(day.next_button(desk, "Arrivé (F5)", "accueil-salle-attente"))
    (entry,) = [e for e in panel.entries if e.appointment.patient_id == new_id]
    assert entry.appointment.status_label == "Arrivé"

    # 2. The doctor opens her from the waiting room, writes and signs, prints a prescription.
    surgery = day.window("dr.moreau")
    agenda = surgery.area_widget("agenda")
    agenda.mode.setCurrentIndex(agenda.mode.findData("day"))
    panel = agenda.waiting
    panel.select_appointment(entry.appointment.id)
    rect = panel.table.visualRect(panel.table.model().index(panel.table.currentRow(), 1))
    day.shot(surgery, "medecin-salle-attente")
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert surgery.current_area() == "patients"
    record_tab = surgery.area_widget("patients").patient_tabs()[-1]
    assert record_tab.patient_id == new_id
    clinical = record_tab.clinical
    clinical.tabs.setCurrentWidget(clinical.consultations)
    day.click(day.next_button(surgery, "Nouvelle consultation (Ctrl+N)", "medecin-dossier"))
    editor = clinical.consultations.editor
    qtbot.keyClicks(editor.texts["reason"], "Toux depuis 5 jours")
    editor.texts["examination"].setPlainText("Auscultation normale")
    day.next_button(surgery, "Signer (Ctrl+Entrée)", "medecin-consultation")
    surgery.activateWindow()
    qtbot.waitUntil(surgery.isActiveWindow)
    qtbot.keyClick(editor.texts["reason"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert clinical.consultations.editor is None
    assert "Toux depuis 5 jours" in clinical.consultations.list.item(0).text()
    clinical.tabs.setCurrentWidget(clinical.prescriptions)
    prescription = clinical.prescriptions
    prescription.form.free_text.setChecked(True)
    prescription.form.text.setPlainText("Paracétamol 1 g, 1 comprimé 3 fois par jour, 5 jours")
    day.click(day.next_button(surgery, "Ajouter la ligne", "medecin-ordonnance"))
    day.click(day.next_button(surgery, "Aperçu et impression…", "medecin-ordonnance-ligne"))
    preview = _dialog(PreviewDialog)
    day.click(day.next_button(preview, "Imprimer…", "medecin-apercu"))
    assert no_modal_loops.stat().st_size > 0  # went to the (PDF) printer
    assert prescription.previous.count() == 1  # stored as printed
    preview.close()

    # 3. Reception registers her request for a copy of her record.
    desk.show_area("printing")
    printing = desk.area_widget("printing")
    printing.tabs.setCurrentWidget(printing.register_page)
    day.click(day.next_button(desk, "Nouvelle demande…", "accueil-demande-copie"))
    request = on_the_small_screen(printing.register_page.dialog)
    qtbot.keyClicks(request.patient.query, "Dupond")
    qtbot.keyClicks(request.name, "Jean Dupond")
    request.identity.setChecked(True)
    day.click(day.next_button(request, "Enregistrer", "accueil-demande-formulaire"))
    assert request.error_label.text() == ""
    assert printing.register_page.table.item(0, 1).text() == "DUPOND Jean"

    # 4. The director finds who opened her record.
    director = day.window("direction")
    director.show_area("patients")
    search = director.area_widget("patients")
    qtbot.keyClicks(search.picker.field, "Dupond")
    search.picker.search_now()
    qtbot.keyClick(search.picker.field, Qt.Key.Key_Return)
    tab = search.patient_tabs()[-1]
    assert tab.patient_id == new_id
    day.click(day.next_button(director, "Qui a consulté ce dossier ?", "direction-dossier"))
    log = on_the_small_screen(tab.access_log)
    journal = log.journal
    rows = [
        (
            journal.model.data(journal.model.index(r, 1)),
            journal.model.data(journal.model.index(r, 2)),
        )
        for r in range(journal.model.rowCount())
    ]
    assert ("Claire Moreau", "Dossier médical ouvert") in rows
    assert ("Claire Moreau", "Consultation signée") in rows
    day.next_button(log, "Fermer", "direction-qui-a-consulte")
