"""The administrator's « Mise en route » tab: what a new centre lacks, each line a link to
the screen that does it, each line gone once done, the tab gone once all are."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from unittest.mock import patch

from cms_desktop.domain.backup_policy import Schedule
from cms_desktop.services import backups, setup_checklist
from cms_desktop.services.agenda import resources, rooms
from cms_desktop.storage.models import SyncStation
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.admin.practitioners_page import VisitingPractitionerDialog
from cms_desktop.ui.printing.preview import PreviewDialog

backups_status = backups.last_good_backup


def _visible(parent, kind):
    found = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_checklist_lines_link_to_their_screen_and_disappear_when_done(
    open_session, runner, qtbot, tmp_path
) -> None:
    ws, admin = open_session("admin")
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.resize(1366, 728)
    area.show()
    page = area.checklist_page
    assert page is not None
    assert area.tabText(0) == "Mise en route" and area.currentWidget() is page
    assert [i.key for i in page.pending()] == [
        "rooms",
        "practitioner",
        "printer",
        "station",
        "backup",
    ]

    rooms_line = page.line("rooms")
    assert rooms_line is not None
    rooms_line.linkActivated.emit("rooms")
    assert area.currentWidget() is area.rooms_page
    added = rooms.add_room(ws, admin, "Cabinet 1")
    area.setCurrentWidget(page)
    assert page.line("rooms") is None  # done: the line is gone

    page.line("practitioner").linkActivated.emit("practitioners")
    practitioners = area.practitioners_page
    assert practitioners is not None and area.currentWidget() is practitioners
    practitioners.new_visiting_button.click()
    dialog = _visible(practitioners, VisitingPractitionerDialog)
    dialog.name_edit.setText("Équipe mobile de vaccination")
    dialog.profession_edit.setText("Infirmier")
    dialog.rpps_edit.setText("12345678901")
    dialog.ok_button.click()
    assert "RPPS" in dialog.error_label.text()
    dialog.rpps_edit.clear()
    dialog.ok_button.click()
    assert not dialog.isVisible()
    team = practitioners.schedule.current()
    assert team is not None and team.visiting and team.full_name == "Équipe mobile de vaccination"
    resources.add_range(
        ws,
        admin,
        team.id,
        resources.RangeDraft(
            2, time(9), time(12), added.id, pattern="nth_of_month", nth=3, own_hours=True
        ),
    )
    area.setCurrentWidget(page)
    assert page.line("practitioner") is None

    page.line("printer").linkActivated.emit("printer")
    preview = _visible(area, PreviewDialog)
    assert preview.page_count() == 1
    preview.close()
    setup_checklist.record_printer_test(ws, admin)  # what printing the page records
    page.reload()
    assert page.line("printer") is None

    with ws.store.write() as session:  # a second station, as pairing leaves it
        session.add(SyncStation(name="Cabinet 2"))
    page.reload()
    assert [i.key for i in page.pending()] == ["backup"]

    page.line("backup").linkActivated.emit("backups")
    assert area.currentWidget() is area.backups_page
    usb = tmp_path / "usb"
    usb.mkdir()
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    backups.create_backup(ws, admin)
    area.setCurrentWidget(page)
    page.reload()
    assert page.pending() == []
    assert area.indexOf(page) == -1  # all done: the tab is gone
    assert area.tabText(0) == "Comptes"


def test_the_rooms_line_is_done_by_one_active_room(open_session) -> None:
    ws, admin = open_session("admin")
    items = {i.key: i for i in setup_checklist.checklist(ws, admin)}
    assert not items["rooms"].done  # the UI template centre was made without rooms
    rooms.add_room(ws, admin, "Salle de soins", "nursing")
    items = {i.key: i for i in setup_checklist.checklist(ws, admin)}
    assert items["rooms"].done


def test_the_backup_line_needs_a_chosen_folder_and_a_recent_good_backup(
    open_session, tmp_path
) -> None:
    ws, admin = open_session("admin")

    def backup_done() -> bool:
        return {i.key: i for i in setup_checklist.checklist(ws, admin)}["backup"].done

    backups.create_backup(ws, admin)  # to the default folder, on the station's own disk
    assert not backup_done()
    usb = tmp_path / "usb"
    usb.mkdir()
    backups.save_schedule(ws, admin, Schedule(targets=(str(usb),)))
    assert not backup_done()  # chosen, but nothing written there yet
    backups.create_backup(ws, admin)
    assert backup_done()
    in_three_days = datetime.now(UTC) + timedelta(days=3)
    assert backups.last_good_backup(ws, in_three_days).overdue
    with patch.object(backups, "last_good_backup", lambda w: backups_status(w, in_three_days)):
        assert not backup_done()  # overdue again after 48 h
