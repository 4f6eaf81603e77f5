"""Live screens: one change signal after each local save and each sync merge; the agenda,
the waiting room, the patient list and open records refresh from it, keeping the selection
and what is being typed."""

from __future__ import annotations

from datetime import datetime, time

from cms_desktop.services import patients, records
from cms_desktop.services.agenda import booking
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.services.records import NoteContent
from cms_desktop.ui import widgets
from cms_desktop.ui.main_window import MainWindow
from tests.patient_helpers import form
from tests.ui.agenda_setup import freeze_agenda_clock, next_open_monday, seed_agenda
from tests.ui.conftest import CENTRE_NAME


def test_a_local_save_signals_once_and_the_agenda_and_waiting_room_follow(
    qtbot, open_session, runner, monkeypatch
) -> None:
    monday = next_open_monday()
    freeze_agenda_clock(monkeypatch, datetime.combine(monday, time(8, 30)))
    ws, reception = open_session("accueil")
    doctor_id, _room, patient_ids = seed_agenda(ws, reception, range(6))
    first = booking.book(
        ws,
        reception,
        BookingRequest(doctor_id, datetime.combine(monday, time(9)), patient_id=patient_ids[0]),
    )
    window = MainWindow(ws, reception, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    agenda = window.area_widget("agenda")
    agenda.waiting.select_appointment(first.id)
    received: list[frozenset[str]] = []
    window.changes.changed.connect(received.append)
    # Another screen (or a service call) books: one signal, after the commit.
    with qtbot.waitSignal(window.changes.changed):
        second = booking.book(
            ws,
            reception,
            BookingRequest(
                doctor_id, datetime.combine(monday, time(10)), patient_id=patient_ids[1]
            ),
        )
    assert received == [frozenset({"appointments"})]
    assert [e.appointment.id for e in agenda.waiting.entries] == [first.id, second.id]
    assert agenda.waiting.selected_id() == first.id  # the selection stays
    assert second.id in {a.id for c in agenda.agenda.columns for a in c.appointments}
    # Reading changes nothing: no signal.
    patients.get_patient(ws, reception, patient_ids[0])
    qtbot.wait(50)  # a queued signal would have been delivered by now
    assert len(received) == 1


def test_a_merge_refreshes_the_open_record_and_keeps_the_note_being_typed(
    qtbot, open_session, runner, monkeypatch
) -> None:
    # Closing the window at the end would ask about the unsaved identity: answer yes.
    monkeypatch.setattr(widgets, "ask", lambda *_a: True)
    ws, doctor = open_session("dr.moreau")
    pid = patients.create_patient(ws, doctor, form())
    window = MainWindow(ws, doctor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    window.show()
    area = window.area_widget("patients")
    tab = area.open_patient(pid)
    page = tab.clinical
    editor = page.consultations.open_editor()
    editor.texts["examination"].setPlainText("Auscultation en cours")
    tab.identity.edits["phone_mobile"].setText("06 00 00 00 00")
    tab.identity._touched()
    # What a merge from another station brings: a signed note, an identity change.
    other_ws, other_doctor = open_session("dr.moreau")
    draft = records.save_draft(other_ws, other_doctor, pid, NoteContent(reason="Vue ailleurs"))
    records.sign_draft(other_ws, other_doctor, draft)
    with qtbot.waitSignal(window.changes.changed):
        window.changes.notify(frozenset({"consultations", "patients"}))  # the sync listener
    notes = [page.consultations.list.item(r).text() for r in range(page.consultations.list.count())]
    assert any("Vue ailleurs" in n for n in notes)
    assert editor.texts["examination"].toPlainText() == "Auscultation en cours"
    assert page.consultations.editor is editor
    assert tab.identity.edits["phone_mobile"].text() == "06 00 00 00 00"  # unsaved, kept
