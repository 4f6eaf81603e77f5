"""On a centre made with `init`: the administrator adds an appointment type in
Administration › Types de rendez-vous (bad input refused in French first), and reception
books it in the agenda and sees it there with its label and colour."""

from __future__ import annotations

import io
import sys
from datetime import time
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLabel

from cms_desktop.cli import main
from cms_desktop.domain.permissions import Role
from cms_desktop.services import patients, users
from cms_desktop.services.agenda import resources, rooms, views
from cms_desktop.services.agenda.common import AppointmentView
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.agenda.types_page import ADDED_KIND, LABEL, RULES, NewTypeDialog
from tests.patient_helpers import form

ADMIN_PASSWORD = "Valbourg-Cms-2026!"
STAFF_PASSWORD = "Staff-Secret-42"


def test_a_type_added_in_administration_is_booked_and_shown_in_the_agenda(
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
    page = area.types_page
    assert page is not None
    area.setCurrentWidget(page)
    builtins = page.table.rowCount()
    page.new_button.click()
    dialog = page.new_dialog
    assert isinstance(dialog, NewTypeDialog) and dialog.isVisible()
    # Bad input: a French message in the dialog, nothing saved.
    dialog.label_edit.setText("Consultation")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.text() != "")
    assert dialog.error_label.text() == "Un type de rendez-vous s'appelle déjà « Consultation »."
    dialog.label_edit.setText("Entretien addictologie")
    dialog.minutes_spin.setValue(4)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "de 5 à 480 minutes" in dialog.error_label.text())
    dialog.minutes_spin.setValue(45)
    dialog.colour_edit.setText("rouge")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "au format #RRVVBB" in dialog.error_label.text())
    assert len(resources.list_appointment_types(ws, admin, include_retired=True)) == builtins
    # The colour chooser opens without blocking (window-modal) and fills the field.
    dialog.colour_button.click()
    chooser = dialog.findChild(QColorDialog)
    assert chooser is not None and chooser.isVisible()
    chooser.setCurrentColor(QColor("#123456"))
    chooser.accept()
    assert dialog.colour_edit.text() == "#123456"
    dialog.colour_edit.setText("#C0504D")
    dialog.reception_books.setChecked(True)
    with qtbot.waitSignal(dialog.sig_done):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == builtins + 1)
    last = page.table.rowCount() - 1
    assert page.table.item(last, 0).text() == ADDED_KIND
    assert page.table.item(last, LABEL).text() == "Entretien addictologie"
    assert page.table.item(last, RULES).text() == "salle, heures d'ouverture, plages"
    assert page.saved_label.text() == "Type « Entretien addictologie » ajouté."

    # The doctor, her Monday range in Cabinet 1, and reception (made as in the set-up test).
    users.create_user(
        ws, admin, users.NewUser("dr.martin", "Claire Martin", Role.DOCTOR, STAFF_PASSWORD)
    )
    users.create_user(
        ws, admin, users.NewUser("accueil", "Sophie Accueil", Role.RECEPTION, STAFF_PASSWORD)
    )
    (column,) = resources.list_practitioners(ws, admin)
    cabinet = rooms.list_all_rooms(ws, admin)[0]
    for weekday in range(5):
        resources.add_range(
            ws, admin, column.id, resources.RangeDraft(weekday, time(8), time(19), cabinet.id)
        )
    ws.close()

    ws, reception = login(data_dir, "accueil", STAFF_PASSWORD)
    patient_id = patients.create_patient(ws, reception, form(birth_name="Roche"))
    agenda = AgendaPage(ws, reception, runner)
    qtbot.addWidget(agenda)
    agenda.resize(1366, 728)
    agenda.show()
    qtbot.waitUntil(lambda: any(t.label == "Entretien addictologie" for t in agenda.types))
    legend = [w.text() for w in agenda.legend.findChildren(QLabel)]
    assert "Entretien addictologie" in legend

    booking = agenda.booking_dialog(0, agenda.day_view.cell.start)
    qtbot.addWidget(booking)
    booking.show()
    booking.practitioner.setCurrentIndex(booking.practitioner.findData(column.id))
    booking.type.setCurrentIndex(booking.type.findText("Entretien addictologie"))
    assert booking.length.value() == 45
    qtbot.keyClicks(booking.patient_search, "Roche")
    qtbot.keyClick(booking.patient_search, Qt.Key.Key_Return)
    assert booking.patient_id == patient_id
    code = booking.type.currentData()
    expected = views.next_free_slot(
        ws, reception, practitioner_id=column.id, type_code=code, limit=1
    )[0]
    booking.next_slot_button.click()
    assert booking.start() == expected.start
    with qtbot.waitSignal(booking.sig_done) as done:
        booking.ok_button.click()
    booked = done.args[0]
    assert isinstance(booked, AppointmentView)
    assert (booked.type_label, booked.minutes, booked.room_name) == (
        "Entretien addictologie",
        45,
        "Cabinet 1",
    )

    agenda.go_to(booked.start.date())
    qtbot.waitUntil(lambda: any(a.id == booked.id for _c, a in agenda.day_view.appointments()))
    column_index, shown = next(
        (c, a) for c, a in agenda.day_view.appointments() if a.id == booked.id
    )
    assert (shown.type_label, shown.colour) == ("Entretien addictologie", "#c0504d")
    # The block is painted in the type's colour: sample its lower right corner, off the text.
    rect = agenda.day_view.block_rect(column_index, shown)
    image = agenda.day_view.grab().toImage()
    corner = rect.bottomRight() - QPointF(4, 4)
    painted = QColor(image.pixelColor(int(corner.x()), int(corner.y())))
    assert abs(painted.hue() - QColor("#c0504d").hue()) <= 3
    assert painted.saturation() > 80
    ws.close()
