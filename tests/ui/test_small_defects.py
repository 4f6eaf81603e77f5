"""The smaller defects of issue #15, each held by a test: Tab in the booking note, the
repetition wording, focus after unlocking, « Derniers documents » without « Actualiser »,
the empty chart, né/née, « Aller à la date… », no default sex, the window title."""

from __future__ import annotations

from datetime import date, datetime, time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cms_desktop import __version__
from cms_desktop.services import patient_file
from cms_desktop.storage.models import Patient
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.patients.area import PatientsArea
from cms_desktop.ui.printing.area import ImpressionsArea
from cms_desktop.ui.record import build_clinical_page
from tests.integration.printing.helpers import add_patient, set_practitioner
from tests.ui.agenda_setup import next_open_monday, seed_agenda
from tests.ui.conftest import CENTRE_NAME, PASSWORD
from tests.ui.screen_fit import button_named


def test_booking_note_tab_moves_on_and_one_week_says_no_repetition(
    qtbot, open_session, runner
) -> None:
    ws, reception = open_session("accueil")
    seed_agenda(ws, reception, range(6))
    page = AgendaPage(ws, reception, runner)
    qtbot.addWidget(page)
    dialog = page.booking_dialog(0, datetime.combine(next_open_monday(), time(9)))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.note.setFocus()
    qtbot.keyClick(dialog.note, Qt.Key.Key_Tab)
    assert dialog.note.toPlainText() == ""
    assert dialog.repeat.text() == "Aucune (ce rendez-vous seulement)"
    dialog.repeat.setValue(4)
    assert dialog.repeat.text() == "sur 4 semaines"
    assert button_named(page, "Aller à la date…").toolTip() == "Aller à une date (Ctrl+G)"


def test_focus_comes_back_to_the_field_after_unlocking(qtbot, open_session, runner) -> None:
    ws, reception = open_session("accueil")
    window = MainWindow(ws, reception, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    window.show_area("patients")
    with qtbot.waitActive(window):
        window.activateWindow()
    field = window.area_widget("patients").picker.field
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    window.lock_screen()
    qtbot.keyClicks(window.lock_page.password_edit, PASSWORD)
    with qtbot.waitSignal(window.lock_page.sig_unlocked):
        window.lock_page.unlock_button.click()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    assert window.windowTitle() == (
        f"{CENTRE_NAME} — Sophie Lambert (Accueil) — cms-desktop {__version__}"
    )


def test_recent_documents_refresh_when_shown(qtbot, open_session, runner) -> None:
    from cms_desktop.services import letters

    ws, doctor = open_session("dr.moreau")
    set_practitioner(ws, "dr.moreau")
    pid = add_patient(ws, name="DURAND", given="Anne")
    area = ImpressionsArea(AreaContext(ws, doctor, runner))
    qtbot.addWidget(area)
    area.show()
    assert area.recent_page.table.rowCount() == 0
    letters.record_output(ws, doctor, "certificate", pid)
    area.tabs.setCurrentWidget(area.recent_page)
    assert area.recent_page.table.rowCount() == 1


def test_empty_chart_has_no_1970_axis_and_words_agree_with_the_sex(
    qtbot, open_session, runner
) -> None:
    ws, doctor = open_session("dr.moreau")
    with ws.store.write() as session:
        p = Patient(
            birth_name="MARTIN", first_given_name="Zoé", birth_date=date(1990, 4, 2), sex="F"
        )
        session.add(p)
        session.flush()
        pid = p.id
    page = build_clinical_page(AreaContext(ws, doctor, runner), pid)
    qtbot.addWidget(page)
    axes = page.charts.chart().axes()
    assert axes and not any(axis.isVisible() for axis in axes)
    assert page.charts.empty.text() == "Aucune mesure enregistrée pour ce patient."
    header = patient_file.open_patient_file(ws, doctor, pid).header
    assert header.summary.endswith("(née le 02/04/1990)")
    tree = page.synthesis.tree
    prevention = tree.topLevelItem(0)
    details = [prevention.child(i).text(1) for i in range(prevention.childCount())]
    assert any("Non concernée avant le" in d for d in details)
    assert not any("concerné·e" in d for d in details)


def test_a_new_patient_has_no_default_sex(qtbot, open_session, runner) -> None:
    ws, reception = open_session("accueil")
    area = PatientsArea(AreaContext(ws, reception, runner))
    qtbot.addWidget(area)
    page = area.new_patient().identity
    assert page.sex.currentIndex() == -1
    page.edits["birth_name"].setText("Martin")
    page.edits["first_given_name"].setText("Lou")
    page.edits["birth_date"].setText("28/02/2001")
    page.save()
    assert "Le sexe est obligatoire." in page.error_label.text()
    assert page.patient_id is None
