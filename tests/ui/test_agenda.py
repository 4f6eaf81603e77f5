"""The agenda page: the day view shows the bookings, the keyboard changes the day, the
booking dialog refuses a double booking with the French reason, the waiting room marks
arrivals.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from PySide6.QtCore import Qt

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda import booking, resources, views
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.services.agenda.common import local_now
from cms_desktop.storage.models import Room
from cms_desktop.ui.agenda import dialogs
from cms_desktop.ui.agenda.page import AgendaPage
from tests.ui.agenda_setup import freeze_agenda_clock, next_open_monday, seed_agenda


@pytest.fixture
def agenda_page(open_session, runner, qtbot):
    ws, reception = open_session("accueil")
    doctor_id, _room, patient_ids = seed_agenda(ws, reception, range(6))
    page = AgendaPage(ws, reception, runner)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    return page, ws, reception, doctor_id, patient_ids


def test_day_view_shows_bookings_and_keyboard_changes_day(agenda_page, qtbot) -> None:
    page, ws, reception, doctor_id, patients = agenda_page
    monday = next_open_monday()
    appt = booking.book(
        ws,
        reception,
        BookingRequest(doctor_id, datetime.combine(monday, time(9)), patient_id=patients[0]),
    )
    page.go_to(monday)
    column = page.agenda.columns[0]
    assert [a.id for a in column.appointments] == [appt.id]
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    page.day_view.setFocus()
    qtbot.keyClick(page.day_view, Qt.Key.Key_PageDown)
    assert page.day == monday + timedelta(days=1)
    qtbot.keyClick(page.day_view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert page.day == monday
    qtbot.keyClick(page.day_view, Qt.Key.Key_T)
    assert page.day == local_now().date()
    # A click on the block selects it; Ctrl+Down moves it five minutes later.
    page.go_to(monday)
    rect = page.day_view.rect_of(0, appt.start, appt.end)
    qtbot.mouseClick(page.day_view, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert page.day_view.selected is not None and page.day_view.selected.id == appt.id
    qtbot.keyClick(page.day_view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert page.agenda.columns[0].appointments[0].start == appt.start + timedelta(minutes=5)


def test_booking_dialog_refuses_a_double_booking(agenda_page, qtbot) -> None:
    page, ws, reception, doctor_id, patients = agenda_page
    monday = next_open_monday()
    booking.book(
        ws,
        reception,
        BookingRequest(doctor_id, datetime.combine(monday, time(10)), patient_id=patients[0]),
    )
    page.go_to(monday)
    dialog = page.booking_dialog(0, datetime.combine(monday, time(10, 10)))
    qtbot.addWidget(dialog)
    dialog.patient_search.setText("roc")
    dialog.search_patients()
    assert dialog.patient_id == patients[1]
    dialog.show()
    dialog.submit()
    assert dialog.error_label.isVisible()
    assert (
        "Chevauche le rendez-vous de 10:00–10:20 du Dr Claire Moreau" in dialog.error_label.text()
    )
    dialog.at.setTime(dialog.at.time().addSecs(20 * 60))
    dialog.submit()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.result_value.start == datetime.combine(monday, time(10, 30))


def test_waiting_room_panel_marks_arrival(agenda_page, qtbot, monkeypatch) -> None:
    page, ws, reception, doctor_id, patients = agenda_page
    # A working morning, whatever the hour the suite runs at.
    freeze_agenda_clock(monkeypatch, datetime.combine(next_open_monday(), time(10, 3)))
    now = local_now()
    start = now + timedelta(minutes=10 - now.minute % 5)
    appt = booking.book(ws, reception, BookingRequest(doctor_id, start, patient_id=patients[0]))
    page.go_to(now.date())
    page.waiting.select_appointment(appt.id)
    assert page.waiting.buttons["arrived"].isEnabled()
    qtbot.mouseClick(page.waiting.buttons["arrived"], Qt.MouseButton.LeftButton)
    assert page.waiting.entries[0].appointment.status == VisitStatus.ARRIVED
    assert page.waiting.entries[0].waiting_minutes == 0


def test_double_booking_from_a_merge_is_shown_to_reception(agenda_page, qtbot) -> None:
    from datetime import UTC

    from cms_desktop.services.agenda.common import to_utc
    from cms_desktop.storage.models import Appointment, Patient

    page, ws, reception, doctor_id, patients = agenda_page
    monday = next_open_monday()
    booking.book(
        ws,
        reception,
        BookingRequest(doctor_id, datetime.combine(monday, time(9)), patient_id=patients[0]),
    )
    page.reload()
    assert page.overlap_label.isHidden()
    # As the sync merge would write it: another station booked the same slot while cut off.
    with ws.store.write() as s:
        s.add(
            Appointment(
                practitioner_id=doctor_id,
                patient_id=patients[1],
                type_code="consultation",
                start_at=to_utc(datetime.combine(monday, time(9, 10))),
                end_at=to_utc(datetime.combine(monday, time(9, 30))),
                booked_at=datetime.now(UTC),
                provisional=True,
            )
        )
    page.reload()
    assert not page.overlap_label.isHidden()
    text = page.overlap_label.text()
    assert "Double réservation (Dr Claire Moreau)" in text
    assert monday.strftime("%d/%m/%Y") in text
    # Whom to call: both patients are named next to their times.
    with ws.store.read() as s:
        names = [
            f"{p.birth_name} {p.first_given_name}"
            for p in (s.get(Patient, patients[0]), s.get(Patient, patients[1]))
        ]
    assert f"09:00 {names[0]}" in text and f"09:10 {names[1]}" in text
    # The line links to its day: reception goes there in one click.
    page.go_to(monday - timedelta(days=30))
    page.overlap_label.linkActivated.emit(monday.isoformat())
    assert page.day == monday
    # There, the two blocks stand side by side: each one can be seen and picked to move.
    view = page.day_view
    blocks = {a.patient_id: view.block_rect(i, a) for i, a in view.appointments()}
    first, second = blocks[patients[0]], blocks[patients[1]]
    assert not first.intersects(second)
    assert view.appointment_at(first.center().toPoint()).patient_id == patients[0]
    assert view.appointment_at(second.center().toPoint()).patient_id == patients[1]


def test_print_button_opens_the_preview_from_memory(agenda_page, qtbot) -> None:
    from cms_desktop.ui.printing.preview import PreviewDialog

    page, ws, reception, doctor_id, patients = agenda_page
    monday = next_open_monday()
    booking.book(
        ws,
        reception,
        BookingRequest(doctor_id, datetime.combine(monday, time(9)), patient_id=patients[0]),
    )
    page.go_to(monday)
    page.show()
    page.print_day_list()
    dialogs = page.findChildren(PreviewDialog)
    assert len(dialogs) == 1
    qtbot.waitUntil(lambda: dialogs[0].document.pageCount() == 1)
    dialogs[0].reject()


def test_booking_a_patient_already_expected_elsewhere_asks_first(
    agenda_page, qtbot, monkeypatch
) -> None:
    page, ws, reception, doctor_id, patients = agenda_page
    with ws.store.write() as s:
        room = Room(name="Cabinet 2", kind="consulting")
        s.add(room)
        s.flush()
        room_id = room.id
    nurse = resources.create_practitioner(
        ws,
        reception,
        resources.PractitionerDraft(title="", full_name="Julien Roux", profession="Infirmier"),
    )
    monday = next_open_monday()
    resources.add_range(
        ws,
        reception,
        nurse.id,
        resources.RangeDraft(monday.weekday(), time(8), time(20), room_id, own_hours=True),
    )
    booking.book(
        ws,
        reception,
        BookingRequest(nurse.id, datetime.combine(monday, time(10)), patient_id=patients[0]),
    )
    questions: list[str] = []
    answers = iter([False, True])

    def ask(_parent, _title, question):
        questions.append(question)
        return next(answers)

    monkeypatch.setattr(dialogs, "ask", ask)
    page.go_to(monday)
    column = next(i for i, c in enumerate(page.agenda.columns) if c.key == doctor_id)
    dialog = page.booking_dialog(column, datetime.combine(monday, time(10)))
    qtbot.addWidget(dialog)
    dialog.patient_search.setText("martin")
    dialog.search_patients()
    assert dialog.patient_id == patients[0]
    dialog.submit()  # « Non »: nothing saved, the dialog stays open with what was typed
    assert "Patient déjà attendu" in questions[0] and "Réserver quand même" in questions[0]
    assert dialog.result() != dialog.DialogCode.Accepted
    day = views.day_agenda(ws, reception, monday)
    assert [a.practitioner_id for c in day.columns for a in c.appointments] == [nurse.id]
    dialog.submit()  # « Oui »: booked
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.result_value.practitioner_id == doctor_id
