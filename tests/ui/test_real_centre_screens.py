"""A centre made with `init` only, set up through the real screens: the administrator adds
a room (Administration › Salles) and the doctor's account (Comptes, with her RPPS), the
receptionist gives her ranges in that room (« Plages… ») and books the slot that
« Prochain créneau libre » offered, without choosing a room."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTime

from cms_desktop.cli import main
from cms_desktop.domain.permissions import Role
from cms_desktop.domain.rpps import with_check_digit
from cms_desktop.services import patients, users
from cms_desktop.services.agenda import resources, views
from cms_desktop.services.agenda.common import AppointmentView
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.admin.dialogs import NewUserDialog
from cms_desktop.ui.admin.rooms_page import RoomDialog
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.agenda.schedule_page import RangeDialog, ScheduleDialog
from tests.patient_helpers import form

ADMIN_PASSWORD = "Valbourg-Cms-2026!"
STAFF_PASSWORD = "Staff-Secret-42"
RPPS = with_check_digit("1000123456")


def _visible(parent, kind):
    found = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_set_up_a_real_centre_through_the_screens_and_book(
    tmp_path: Path, monkeypatch, qtbot, runner
) -> None:
    d = str(tmp_path / "centre")
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    init = ["--data-dir", d, "init", "--centre-name", "CMS de Valbourg", "--admin", "admin"]
    assert main([*init, "--password-stdin"]) == 0
    data_dir = DataDir(Path(d))

    ws, admin = login(data_dir, "admin", ADMIN_PASSWORD)
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.resize(1366, 728)
    area.show()
    rooms_page = area.rooms_page
    assert rooms_page is not None
    assert rooms_page.model.rowCount() == 7  # the usual layout made by init
    area.setCurrentWidget(rooms_page)
    rooms_page.add_button.click()
    dialog = _visible(rooms_page, RoomDialog)
    qtbot.keyClicks(dialog.name_edit, "cabinet 1")
    dialog.ok_button.click()
    assert dialog.error_label.text() == "Une salle « Cabinet 1 » existe déjà."
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Cabinet 7")
    dialog.ok_button.click()
    assert not dialog.isVisible()
    assert rooms_page.model.rowCount() == 8
    assert rooms_page.selected() is not None and rooms_page.selected().name == "Cabinet 7"

    users_page = area.users_page
    assert users_page is not None
    area.setCurrentWidget(users_page)
    users_page.new_button.click()
    new_user = _visible(users_page, NewUserDialog)
    qtbot.keyClicks(new_user.login_edit, "dr.martin")
    qtbot.keyClicks(new_user.name_edit, "Claire Martin")
    qtbot.keyClicks(new_user.title_edit, "Dr")
    new_user.role_combo.setCurrentIndex(new_user.role_combo.findData(Role.DOCTOR.value))
    # Accented text is set, not typed: Qt's test key map is ASCII only.
    new_user.profession_edit.setText("Médecin")
    new_user.specialty_edit.setText("Médecine générale")
    qtbot.keyClicks(new_user.rpps_edit, RPPS[:-1] + str((int(RPPS[-1]) + 1) % 10))
    qtbot.keyClicks(new_user.password_edit, STAFF_PASSWORD)
    qtbot.keyClicks(new_user.confirm_edit, STAFF_PASSWORD)
    new_user.ok_button.click()
    assert new_user.error_label.text() == (
        "Numéro RPPS incorrect : la clé (dernier chiffre) ne correspond pas."
    )
    assert [u.login for u in users.list_users(ws, admin)] == ["admin"]
    new_user.rpps_edit.clear()
    qtbot.keyClicks(new_user.rpps_edit, RPPS)
    new_user.ok_button.click()
    assert not new_user.isVisible()
    users.create_user(
        ws, admin, users.NewUser("accueil", "Sophie Accueil", Role.RECEPTION, STAFF_PASSWORD)
    )
    (column,) = resources.list_practitioners(ws, admin)
    assert (column.display_name, column.rpps, column.profession) == (
        "Dr Claire Martin",
        RPPS,
        "Médecin",
    )
    ws.close()

    ws, reception = login(data_dir, "accueil", STAFF_PASSWORD)
    patient_id = patients.create_patient(ws, reception, form(birth_name="Roche"))
    page = AgendaPage(ws, reception, runner)
    qtbot.addWidget(page)
    page.resize(1366, 728)
    page.show()
    page.open_schedules()
    schedule = _visible(page, ScheduleDialog).schedule_page
    assert schedule.current() is not None and schedule.current().id == column.id
    for weekday in (0, 1):
        schedule.add_range_button.click()
        ranges = _visible(schedule, RangeDialog)
        ranges.weekday.setCurrentIndex(ranges.weekday.findData(weekday))
        ranges.start.setTime(QTime(9, 0))
        ranges.end.setTime(QTime(12, 0))
        ranges.room.setCurrentIndex(ranges.room.findText("Cabinet 7"))
        ranges.ok_button.click()
        assert not ranges.isVisible(), ranges.error_label.text()
    assert [r.room_name for r in resources.list_ranges(ws, reception, column.id)] == [
        "Cabinet 7",
        "Cabinet 7",
    ]

    booking = page.booking_dialog(0, page.day_view.cell.start)
    qtbot.addWidget(booking)
    booking.show()
    booking.practitioner.setCurrentIndex(booking.practitioner.findData(column.id))
    qtbot.keyClicks(booking.patient_search, "Roche")
    qtbot.keyClick(booking.patient_search, Qt.Key.Key_Return)
    assert booking.patient_id == patient_id
    expected = views.next_free_slot(ws, reception, practitioner_id=column.id, limit=1)[0]
    booking.next_slot_button.click()
    assert booking.start() == expected.start
    assert booking.error_label.text() == ""
    with qtbot.waitSignal(booking.sig_done) as done:
        booking.ok_button.click()
    booked = done.args[0]
    assert isinstance(booked, AppointmentView)
    assert (booked.start, booked.room_name, booked.patient_id) == (
        expected.start,
        "Cabinet 7",
        patient_id,
    )
