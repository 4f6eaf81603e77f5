"""Administration › Salles: the table, renaming, ordering, and deactivating a room that
still has appointments to come (the dialog says how many and moves them)."""

from __future__ import annotations

from datetime import datetime, time

from cms_desktop.services.agenda import booking, resources, rooms, views
from cms_desktop.services.agenda.rooms import RoomInfo
from cms_desktop.ui import widgets
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.admin.rooms_page import MoveAppointmentsDialog, RoomDialog, RoomsModel
from tests.ui.agenda_setup import next_open_monday


def _visible(parent, kind):
    found = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_rooms_model_passes_the_model_tester(qtmodeltester) -> None:
    model = RoomsModel()
    model.set_rooms(
        [
            RoomInfo("a", "Cabinet 1", "consulting", "Cabinet médical", True, 1, 2),
            RoomInfo("b", "Salle de réunion", "meeting", "Salle de réunion", False, 2, 0),
        ]
    )
    qtmodeltester.check(model)
    assert [model.data(model.index(0, c)) for c in range(5)] == [
        "1", "Cabinet 1", "Cabinet médical", "active", "2",
    ]  # fmt: skip
    assert model.data(model.index(1, 3)) == "désactivée"


def test_rename_order_and_deactivate_with_appointments_to_come(
    open_session, runner, qtbot, monkeypatch
) -> None:
    ws, admin = open_session("admin")
    first = rooms.add_room(ws, admin, "Cabinet 1")
    second = rooms.add_room(ws, admin, "Cabinet 2")
    (column,) = resources.list_practitioners(ws, admin)  # dr.moreau's account column
    for weekday in range(6):
        resources.add_range(
            ws, admin, column.id,
            resources.RangeDraft(weekday, time(8), time(20), first.id, own_hours=True),
        )  # fmt: skip
    rws, reception = open_session("accueil")
    monday = next_open_monday()
    booking.book(
        rws, reception, booking.BookingRequest(column.id, datetime.combine(monday, time(9)))
    )

    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.show()
    page = area.rooms_page
    assert page is not None
    area.setCurrentWidget(page)
    assert page.model.data(page.model.index(0, 4)) == "1"  # one appointment to come

    page.table.selectRow(1)
    page.edit_button.click()
    dialog = _visible(page, RoomDialog)
    dialog.name_edit.setText("Cabinet dentaire")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("dental"))
    dialog.ok_button.click()
    assert not dialog.isVisible()
    page.up_button.click()
    assert [r.name for r in rooms.list_all_rooms(ws, admin)] == ["Cabinet dentaire", "Cabinet 1"]
    assert page.selected() is not None and page.selected().name == "Cabinet dentaire"

    page.select_name("Cabinet 1")
    page.toggle_button.click()
    move = _visible(page, MoveAppointmentsDialog)
    assert move.text_label.text().startswith("La salle « Cabinet 1 » a 1 rendez-vous à venir.")
    assert move.target_combo.currentData() == second.id
    move.ok_button.click()
    assert not move.isVisible(), move.error_label.text()
    listed = {r.name: r for r in rooms.list_all_rooms(ws, admin)}
    assert not listed["Cabinet 1"].active and listed["Cabinet dentaire"].upcoming == 1
    slot = views.next_free_slot(rws, reception, practitioner_id=column.id, limit=1)[0]
    assert slot.room_name == "Cabinet dentaire"  # the ranges followed

    asked: list[str] = []
    monkeypatch.setattr(widgets, "ask", lambda _p, _t, question: asked.append(question) or False)
    page.select_name("Cabinet dentaire")
    page.toggle_button.click()  # appointments to come: the move dialog, not a question
    assert asked == []
    _visible(page, MoveAppointmentsDialog).reject()
