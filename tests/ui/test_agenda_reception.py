"""The agenda as reception and the doctors use it on 1366-pixel screens: readable columns
(chosen and remembered, scrolled sideways when too many), tooltips, statuses in the grid,
the waiting room filtered, « Ouvrir le dossier » from an appointment and the waiting room."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda import booking, resources, waiting_room
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.services.agenda.common import local_now
from cms_desktop.storage.models import Patient, Room
from cms_desktop.ui.agenda.day_view import MIN_COLUMN, block_text, block_tooltip
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.main_window import MainWindow
from tests.ui.agenda_setup import freeze_agenda_clock, next_open_monday
from tests.ui.conftest import CENTRE_NAME


@pytest.fixture
def busy_day(open_session, monkeypatch):
    """Eight practitioners on a Monday at 10:03, each with a 10:30 appointment; the first
    patient has arrived, the second is in consultation."""
    monday = next_open_monday()
    freeze_agenda_clock(monkeypatch, datetime.combine(monday, time(10, 3)))
    ws, reception = open_session("accueil")
    # The clinicians' accounts of the template centre come with their columns: set aside.
    for column in resources.list_practitioners(ws, reception):
        resources.set_practitioner_active(ws, reception, column.id, False)
    with ws.store.write() as s:
        rooms = [Room(name=f"Cabinet {n + 1}", kind="consulting") for n in range(8)]
        people = [
            Patient(
                birth_name=f"PATIENTE{n}",
                first_given_name="Anne",
                birth_date=local_now().date() - timedelta(days=9000 + n),
                sex="F",
            )
            for n in range(8)
        ]
        s.add_all([*rooms, *people])
        s.flush()
        room_ids, patient_ids = [r.id for r in rooms], [p.id for p in people]
    doctors, appointments = [], []
    for n in range(8):
        doctor = resources.create_practitioner(
            ws,
            reception,
            resources.PractitionerDraft(
                title="Dr", full_name=f"Praticien{n} Longuenom", profession="Médecin"
            ),
        )
        resources.add_range(
            ws,
            reception,
            doctor.id,
            resources.RangeDraft(monday.weekday(), time(8), time(20), room_ids[n], own_hours=True),
        )
        doctors.append(doctor.id)
        appointments.append(
            booking.book(
                ws,
                reception,
                BookingRequest(
                    doctor.id,
                    datetime.combine(monday, time(10, 30)),
                    patient_id=patient_ids[n],
                    reason="Renouvellement",
                ),
            )
        )
    waiting_room.mark_arrived(ws, reception, appointments[0].id)
    waiting_room.mark_arrived(ws, reception, appointments[1].id)
    waiting_room.call_in(ws, reception, appointments[1].id)
    return ws, reception, doctors, appointments, patient_ids


def _page(qtbot, ws, actor, runner) -> AgendaPage:
    page = AgendaPage(ws, actor, runner)
    qtbot.addWidget(page)
    page.resize(1176, 640)  # the agenda's share of a 1366×728 main window
    page.show()
    qtbot.waitExposed(page)
    return page


def test_eight_practitioners_stay_readable_scroll_sideways_and_are_chosen(
    qtbot, busy_day, runner
) -> None:
    ws, reception, doctors, _appointments, _patients = busy_day
    page = _page(qtbot, ws, reception, runner)
    assert len(page.agenda.columns) == 8
    QApplication.processEvents()
    assert page.day_view.width() >= 48 + 8 * MIN_COLUMN
    assert page.day_scroll.horizontalScrollBar().maximum() > 0
    # Reception keeps four of them; the choice is remembered for her next session.
    for doctor in doctors[4:]:
        page.show_practitioner(doctor, False)
    assert [c.key for c in page.agenda.columns] == doctors[:4]
    again = _page(qtbot, ws, reception, runner)
    assert [c.key for c in again.agenda.columns] == doctors[:4]
    menu = [a for a in again.columns_menu.actions() if a.isCheckable()]
    assert [a.isChecked() for a in menu] == [True] * 4 + [False] * 4
    again.show_all_practitioners()
    assert len(again.agenda.columns) == 8


def test_blocks_show_status_and_tooltips_tell_the_rest(qtbot, busy_day, runner) -> None:
    ws, reception, _doctors, _appointments, _patients = busy_day
    page = _page(qtbot, ws, reception, runner)
    first, second, third = (page.agenda.columns[n].appointments[0] for n in range(3))
    assert block_text(first).startswith("● 10:30 PATIENTE0 Anne")
    assert block_text(second).startswith("▶ 10:30")
    assert block_text(third).startswith("10:30")
    tip = block_tooltip(first)
    assert "PATIENTE0 Anne" in tip and "Type : Consultation" in tip
    assert "Motif : Renouvellement" in tip and "Statut : Arrivé à 10:03" in tip


def test_waiting_room_filters_by_practitioner_and_status(qtbot, busy_day, runner) -> None:
    ws, reception, _doctors, _appointments, _patients = busy_day
    page = _page(qtbot, ws, reception, runner)
    panel = page.waiting
    assert len(panel.entries) == 8
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("waiting"))
    assert [e.appointment.patient_name for e in panel.entries] == ["PATIENTE0 Anne"]
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("all"))
    panel.practitioner_filter.setCurrentIndex(
        panel.practitioner_filter.findText("Dr Praticien1 Longuenom")
    )
    assert [e.appointment.status for e in panel.entries] == [VisitStatus.IN_CONSULTATION]
    status_width = panel.table.columnWidth(3)
    metrics = panel.table.fontMetrics()
    assert status_width >= metrics.horizontalAdvance("En consultation")


def test_the_doctor_opens_the_record_from_the_waiting_room_and_the_appointment(
    qtbot, busy_day, open_session, runner
) -> None:
    _ws, _reception, _doctors, appointments, patients = busy_day
    ws, doctor = open_session("dr.moreau")
    window = MainWindow(ws, doctor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    agenda = window.area_widget("agenda")
    agenda.mode.setCurrentIndex(agenda.mode.findData("day"))
    panel = agenda.waiting
    panel.select_appointment(appointments[0].id)
    row = panel.table.currentRow()
    rect = panel.table.visualRect(panel.table.model().index(row, 1))
    # As a mouse does it: a press (the view notes the row), then the double-click.
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_area() == "patients"
    patients_area = window.area_widget("patients")
    assert [t.patient_id for t in patients_area.patient_tabs()] == [patients[0]]
    # From the appointment: double-click on its block opens the record too.
    window.show_area("agenda")
    view = agenda.day_view
    second = agenda.agenda.columns[1].appointments[0]
    centre = view.block_rect(1, second).center().toPoint()
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=centre)
    assert [t.patient_id for t in patients_area.patient_tabs()] == patients[:2]
    # And « Ouvrir le dossier » heads the appointment's menu.
    agenda._open_menu(second, QPoint(0, 0))
    assert agenda._menu.actions()[0].text() == "Ouvrir le dossier"


def test_reception_double_click_still_edits_and_has_no_open_record(qtbot, busy_day, runner) -> None:
    ws, reception, _doctors, _appointments, _patients = busy_day
    page = _page(qtbot, ws, reception, runner)
    opened: list[str] = []
    page.sig_open_patient.connect(opened.append)
    page.waiting.open_selected()
    first = page.agenda.columns[0].appointments[0]
    page._open_menu(first, QPoint(0, 0))
    assert "Ouvrir le dossier" not in [a.text() for a in page._menu.actions()]
    assert opened == []
