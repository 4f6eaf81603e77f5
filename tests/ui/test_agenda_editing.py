"""From the agenda: double-click or Entrée on an appointment edits its type, length, reason
and note; Ctrl+H opens the practitioners' ranges and absences. Saved state is read back
through the services.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from PySide6.QtCore import QDate, Qt, QTime

from cms_desktop.services.agenda import booking, resources, views
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.ui import widgets
from cms_desktop.ui.agenda.dialogs import EditAppointmentDialog
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.agenda.schedule_page import AbsenceDialog, RangeDialog, ScheduleDialog
from tests.ui.agenda_setup import next_open_monday, seed_agenda


@pytest.fixture
def agenda(open_session, runner, qtbot):
    ws, reception = open_session("accueil")
    doctor_id, room_id, patient_ids = seed_agenda(ws, reception, [0])
    page = AgendaPage(ws, reception, runner)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    return page, ws, reception, doctor_id, room_id, patient_ids


def _visible(page, kind):
    found = [d for d in page.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def _book(ws, reception, doctor_id, patient_id, day, hour, minute=0):
    req = BookingRequest(
        doctor_id, datetime.combine(day, time(hour, minute)), patient_id=patient_id
    )
    return booking.book(ws, reception, req)


def _column(ws, reception, day, doctor_id):
    agenda = views.day_agenda(ws, reception, day)
    return {a.id: a for a in next(c for c in agenda.columns if c.key == doctor_id).appointments}


def test_double_click_edits_reason_type_and_length(agenda, qtbot) -> None:
    page, ws, reception, doctor_id, _room, patients = agenda
    monday = next_open_monday()
    appt = _book(ws, reception, doctor_id, patients[0], monday, 9)
    page.go_to(monday)
    centre = page.day_view.rect_of(0, appt.start, appt.end).center().toPoint()
    qtbot.mouseDClick(page.day_view, Qt.MouseButton.LeftButton, pos=centre)
    dialog = _visible(page, EditAppointmentDialog)
    assert dialog.focusWidget() is dialog.reason  # typing starts in the reason
    assert dialog.length.value() == 20
    dialog.type.setCurrentIndex(dialog.type.findData("long_consultation"))
    assert dialog.length.value() == 40  # the type's default length
    qtbot.keyClicks(dialog.reason, "Bilan annuel")
    dialog.note.setFocus()
    qtbot.keyClicks(dialog.note, "Apporter les analyses")
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    saved = _column(ws, reception, monday, doctor_id)[appt.id]
    assert (saved.reason, saved.note, saved.type_code) == (
        "Bilan annuel",
        "Apporter les analyses",
        "long_consultation",
    )
    assert saved.start == appt.start and saved.end == appt.start + timedelta(minutes=40)
    assert page.agenda.columns[0].appointments[0].reason == "Bilan annuel"


def test_enter_edits_and_a_clash_is_refused_in_the_dialog(agenda, qtbot) -> None:
    page, ws, reception, doctor_id, _room, patients = agenda
    monday = next_open_monday()
    first = _book(ws, reception, doctor_id, patients[0], monday, 10)
    _book(ws, reception, doctor_id, patients[1], monday, 10, 20)
    page.go_to(monday)
    centre = page.day_view.rect_of(0, first.start, first.end).center().toPoint()
    qtbot.mouseClick(page.day_view, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.keyClick(page.day_view, Qt.Key.Key_Return)
    dialog = _visible(page, EditAppointmentDialog)
    qtbot.keyClicks(dialog.reason, "Suivi")
    dialog.length.setValue(30)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "Chevauche le rendez-vous de 10:20–10:40 du Dr Claire Moreau" in (
        dialog.error_label.text()
    )
    assert dialog.reason.text() == "Suivi" and dialog.length.value() == 30
    saved = _column(ws, reception, monday, doctor_id)[first.id]
    assert saved.reason == "" and saved.minutes == 20
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    # A cancelled appointment is not edited: Entrée shows its menu instead.
    booking.cancel(ws, reception, first.id, "Erreur de saisie")
    page.reload()
    page.day_view.select(page.agenda.columns[0].appointments[0])
    assert page.day_view.selected is not None and page.day_view.selected.cancelled
    qtbot.keyClick(page.day_view, Qt.Key.Key_Return)
    assert not [d for d in page.findChildren(EditAppointmentDialog) if d.isVisible()]


def test_ranges_and_absences_are_managed_from_the_agenda(agenda, qtbot, monkeypatch) -> None:
    page, ws, reception, doctor_id, room_id, _patients = agenda
    page.day_view.setFocus()
    qtbot.keyClick(page.day_view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    dialog = _visible(page, ScheduleDialog)
    schedule = dialog.schedule_page
    assert schedule.current() is not None and schedule.current().id == doctor_id
    assert schedule.ranges_model.rowCount() == 1
    assert not dialog.centre_page.editable  # reception reads the centre's hours
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    schedule.ranges_table.setFocus()
    qtbot.keyClick(schedule.ranges_table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    ranges = _visible(schedule, RangeDialog)
    ranges.weekday.setCurrentIndex(2)
    ranges.start.setTime(QTime(14, 0))
    ranges.end.setTime(QTime(12, 0))
    qtbot.keyClick(ranges.weekday, Qt.Key.Key_Return)
    assert ranges.error_label.text() == "La plage se termine avant de commencer."
    # Monday 8:00–20:00 is taken: an overlapping Monday range is refused by the service.
    ranges.weekday.setCurrentIndex(0)
    ranges.end.setTime(QTime(18, 0))
    qtbot.keyClick(ranges.weekday, Qt.Key.Key_Return)
    assert ranges.error_label.text() == (
        "Les plages de Dr Claire Moreau se chevauchent le lundi : 08:00–20:00 et 14:00–18:00"
    )
    assert len(resources.list_ranges(ws, reception, doctor_id)) == 1
    ranges.weekday.setCurrentIndex(2)
    ranges.valid_until.check.setChecked(True)
    ranges.valid_until.edit.setDate(QDate(2031, 6, 30))
    with qtbot.waitSignal(ranges.finished):
        qtbot.keyClick(ranges.weekday, Qt.Key.Key_Return)
    wednesday = [r for r in resources.list_ranges(ws, reception, doctor_id) if r.weekday == 2]
    assert [(r.start, r.end, r.room_id, r.valid_until) for r in wednesday] == [
        (time(14), time(18), room_id, date(2031, 6, 30))
    ]
    model = schedule.ranges_model
    row = model.row_of(wednesday[0].id)
    assert [model.data(model.index(row, c)) for c in range(4)] == [
        "chaque mercredi",
        "14:00-18:00",
        "Cabinet 1",
        "jusqu'au 30/06/2031",
    ]

    # An absence over whole days, then withdrawn with Suppr.
    qtbot.keyClick(schedule.ranges_table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    absence = _visible(schedule, AbsenceDialog)
    absence.first_day.setDate(QDate(2031, 2, 3))
    absence.last_day.setDate(QDate(2031, 2, 1))
    qtbot.keyClicks(absence.reason, "Formation")
    qtbot.keyClick(absence.reason, Qt.Key.Key_Return)
    assert absence.error_label.text() == "L'absence se termine avant de commencer."
    assert absence.reason.text() == "Formation"
    absence.last_day.setDate(QDate(2031, 2, 7))
    with qtbot.waitSignal(absence.finished):
        qtbot.keyClick(absence.reason, Qt.Key.Key_Return)
    [saved] = resources.list_absences(ws, reception, doctor_id)
    assert (saved.start, saved.end, saved.reason) == (
        datetime(2031, 2, 3),
        datetime(2031, 2, 8),
        "Formation",
    )
    absences = schedule.absences_model
    assert [absences.data(absences.index(0, c)) for c in range(3)] == [
        "03/02/2031",
        "07/02/2031",
        "Formation",
    ]
    schedule.absences_table.setFocus()
    schedule.absences_table.selectRow(0)
    monkeypatch.setattr(widgets, "ask", lambda *_a: True)
    qtbot.keyClick(schedule.absences_table, Qt.Key.Key_Delete)
    assert resources.list_absences(ws, reception, doctor_id) == []
    schedule.ranges_table.setFocus()
    schedule.ranges_table.selectRow(row)
    qtbot.keyClick(schedule.ranges_table, Qt.Key.Key_Delete)
    assert [r.weekday for r in resources.list_ranges(ws, reception, doctor_id)] == [0]
    qtbot.keyClick(schedule.ranges_table, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_menu_key_opens_the_actions_with_modify(agenda, qtbot) -> None:
    page, ws, reception, doctor_id, _room, patients = agenda
    monday = next_open_monday()
    appt = _book(ws, reception, doctor_id, patients[0], monday, 11)
    page.go_to(monday)
    page.day_view.setFocus()
    page.day_view.select(page.agenda.columns[0].appointments[0])
    qtbot.keyClick(page.day_view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    texts = [a.text() for a in page._menu.actions()]
    assert "Modifier le rendez-vous…" in texts and "Annuler le rendez-vous…" in texts
    page._menu.close()
    modify = next(a for a in page._menu.actions() if a.text() == "Modifier le rendez-vous…")
    modify.trigger()
    dialog = _visible(page, EditAppointmentDialog)
    assert dialog._appt.id == appt.id
    dialog.reject()


def test_a_range_on_the_third_wednesday_and_a_rota_every_two_weeks(agenda, qtbot) -> None:
    page, ws, reception, doctor_id, _room_id, _patients = agenda
    page.day_view.setFocus()
    qtbot.keyClick(page.day_view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    window = _visible(page, ScheduleDialog)
    schedule = window.schedule_page

    def new_range() -> RangeDialog:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        schedule.ranges_table.setFocus()
        qtbot.keyClick(schedule.ranges_table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        return _visible(schedule, RangeDialog)

    dialog = new_range()
    assert not dialog.nth.isVisible() and not dialog.interval.isVisible()
    dialog.weekday.setCurrentIndex(2)  # mercredi
    dialog.pattern.setCurrentIndex(dialog.pattern.findData("nth_of_month"))
    assert dialog.nth.isVisible() and not dialog.anchor.isVisible()
    dialog.nth.setCurrentIndex(dialog.nth.findData(3))
    dialog.start.setTime(QTime(14, 0))
    dialog.end.setTime(QTime(17, 0))
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.weekday, Qt.Key.Key_Return)
    rota = new_range()
    rota.weekday.setCurrentIndex(3)  # jeudi
    rota.pattern.setCurrentIndex(rota.pattern.findData("every_n_weeks"))
    assert rota.interval.isVisible() and rota.anchor.isVisible()
    rota.interval.setValue(2)
    rota.anchor.setDate(QDate(2031, 1, 7))  # a Tuesday: refused, nothing saved
    rota.start.setTime(QTime(9, 0))
    rota.end.setTime(QTime(12, 0))
    qtbot.keyClick(rota.weekday, Qt.Key.Key_Return)
    assert rota.error_label.text() == "La première date doit tomber le jour choisi (jeudi)."
    rota.anchor.setDate(QDate(2031, 1, 9))
    with qtbot.waitSignal(rota.finished):
        qtbot.keyClick(rota.weekday, Qt.Key.Key_Return)
    described = sorted(r.description for r in resources.list_ranges(ws, reception, doctor_id))
    assert any("3e mercredi" in d for d in described), described
    assert any("2 semaines" in d and "jeudi" in d for d in described), described
