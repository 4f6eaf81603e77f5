"""« Agenda du centre » in the Administration area: opening hours typed per weekday, the
Saturdays of the month, the holiday zone and closures, saved through the services.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from PySide6.QtCore import QDate, Qt

from cms_desktop.services.agenda import settings
from cms_desktop.ui import widgets
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.agenda.centre_settings import (
    CentreSettingsPage,
    ClosureDialog,
    parse_ranges,
)
from cms_desktop.ui.agenda.models import TextRowsModel


@pytest.fixture
def admin_page(open_session, runner, qtbot):
    ws, admin = open_session("admin")
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.resize(1280, 720)
    area.show()
    qtbot.waitExposed(area)
    area.activateWindow()
    qtbot.waitUntil(area.isActiveWindow)  # shortcuts only reach the active window
    page = area.agenda_page
    assert page is not None and page.editable
    area.setCurrentWidget(page)
    page.area = area  # keeps the Python wrapper, hence the widgets, alive
    return page, ws, admin


def test_parse_ranges_reads_several_ranges_and_names_the_day() -> None:
    assert parse_ranges("Lundi", "9:00-12:40, 13h40 – 19h") == [
        (time(9), time(12, 40)),
        (time(13, 40), time(19)),
    ]
    assert parse_ranges("Mercredi", "  ") == []
    with pytest.raises(Exception, match="Lundi : « 9h-midi » n'est pas une plage horaire"):
        parse_ranges("Lundi", "9h-midi")
    with pytest.raises(Exception, match="Mardi : la plage 12:00-09:00 se termine avant"):
        parse_ranges("Mardi", "12:00-09:00")


def test_model_passes_the_model_tester(qtmodeltester) -> None:
    model = TextRowsModel(("A", "B"))
    model.set_rows([("1", ("x", "y")), ("2", ("z", "t"))])
    qtmodeltester.check(model)
    assert model.id_at(1) == "2" and model.row_of("2") == 1 and model.id_at(5) is None


def test_admin_types_new_hours_and_saves_with_enter(admin_page, qtbot) -> None:
    page, ws, admin = admin_page
    # The Alençon defaults are shown until the hours are saved once.
    assert page.day_edits[0].text() == "09:00-12:40, 13:40-19:00"
    assert page.day_edits[2].text() == ""
    wednesday = page.day_edits[2]
    wednesday.setFocus()
    qtbot.keyClicks(wednesday, "8:30-12:00, 14h-17h30")
    page.rank_boxes[3].setChecked(True)  # open the 4th Saturday too
    page.zone.setCurrentIndex(page.zone.findData("alsace-moselle"))
    qtbot.keyClick(wednesday, Qt.Key.Key_Return)
    saved = settings.get_settings(ws, admin)
    assert saved.hours[2] == ((time(8, 30), time(12)), (time(14), time(17, 30)))
    assert saved.hours[0] == ((time(9), time(12, 40)), (time(13, 40), time(19)))
    assert saved.saturday_ranks == frozenset({1, 2, 3, 4})
    assert saved.holiday_zone == "alsace-moselle"
    assert wednesday.text() == "08:30-12:00, 14:00-17:30"
    assert page.status_label.text() == "Horaires enregistrés."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12:00-09:00", "Lundi : la plage 12:00-09:00 se termine avant de commencer."),
        ("09:00-12:00, 11:00-13:00", "Les plages du lundi se chevauchent"),
        ("9 heures", "Lundi : « 9 heures » n'est pas une plage horaire"),
    ],
)
def test_bad_hours_are_refused_in_french_and_the_text_kept(
    admin_page, qtbot, typed, message
) -> None:
    page, ws, admin = admin_page
    monday = page.day_edits[0]
    monday.clear()
    qtbot.keyClicks(monday, typed)
    qtbot.keyClick(monday, Qt.Key.Key_Return)
    assert page.error_label.isVisible()
    assert message in page.error_label.text()
    assert monday.text() == typed
    assert settings.get_settings(ws, admin).hours[0][0] == (time(9), time(12, 40))


def test_no_saturday_ticked_is_refused(admin_page, qtbot) -> None:
    page, ws, admin = admin_page
    for box in page.rank_boxes:
        box.setChecked(False)
    page.day_edits[0].setFocus()
    qtbot.keyClick(page.day_edits[0], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "Cochez au moins un samedi" in page.error_label.text()
    page.some_saturdays.setChecked(False)  # every Saturday
    page.save_button.click()
    assert settings.get_settings(ws, admin).saturday_ranks == frozenset()
    assert not page.error_label.isVisible()


def _closure_dialog(page: CentreSettingsPage) -> ClosureDialog:
    dialogs = [d for d in page.findChildren(ClosureDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_closures_are_added_checked_and_removed(admin_page, qtbot, monkeypatch) -> None:
    page, ws, admin = admin_page
    page.day_edits[0].setFocus()
    qtbot.keyClick(page.day_edits[0], Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = _closure_dialog(page)
    dialog.first_day.setDate(QDate(2030, 8, 12))
    dialog.last_day.setDate(QDate(2030, 8, 5))
    qtbot.keyClicks(dialog.label, "Fermeture estivale")
    qtbot.keyClick(dialog.label, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.error_label.text() == "Le dernier jour de fermeture précède le premier jour."
    assert dialog.label.text() == "Fermeture estivale"
    assert settings.list_closures(ws, admin) == []
    dialog.last_day.setDate(QDate(2030, 8, 23))
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.label, Qt.Key.Key_Return)
    [closure] = settings.list_closures(ws, admin)
    assert (closure.first_day, closure.last_day, closure.label) == (
        date(2030, 8, 12),
        date(2030, 8, 23),
        "Fermeture estivale",
    )
    model = page.closures_model
    assert [model.data(model.index(0, c)) for c in range(3)] == [
        "12/08/2030",
        "23/08/2030",
        "Fermeture estivale",
    ]
    # An empty label is refused in the dialog.
    page.add_closure_button.click()
    empty = _closure_dialog(page)
    empty.ok_button.click()
    assert empty.error_label.text() == "Indiquez le motif de la fermeture."
    empty.reject()
    # Suppr on the table asks, « Non » keeps it, « Oui » removes it.
    page.closures_table.setFocus()
    page.closures_table.selectRow(0)
    monkeypatch.setattr(widgets, "ask", lambda *_a: False)
    qtbot.keyClick(page.closures_table, Qt.Key.Key_Delete)
    assert len(settings.list_closures(ws, admin)) == 1
    monkeypatch.setattr(widgets, "ask", lambda *_a: True)
    qtbot.keyClick(page.closures_table, Qt.Key.Key_Delete)
    assert settings.list_closures(ws, admin) == []
    assert page.closures_model.rowCount() == 0


def test_reception_sees_the_settings_read_only_and_cannot_save(open_session, runner, qtbot):
    ws, reception = open_session("accueil")
    page = CentreSettingsPage(ws, reception, runner)
    qtbot.addWidget(page)
    assert not page.editable
    assert page.day_edits[0].isReadOnly() and not page.zone.isEnabled()
    assert page.save_button.isHidden() and page.add_closure_button.isHidden()
    page.save()  # ignored: the page is read-only
    assert page.status_label.text() == ""
    with pytest.raises(Exception, match="modifier les paramètres"):
        settings.save_settings(ws, reception, {0: [(time(9), time(12))]})
    with pytest.raises(Exception, match="modifier les paramètres"):
        settings.add_closure(ws, reception, date(2030, 1, 2), date(2030, 1, 2), "x")


def test_audit_trail_names_the_agenda_changes() -> None:
    from datetime import UTC, datetime

    from cms_desktop.services.audit_trail import AuditLine
    from cms_desktop.ui.admin.models import AuditModel

    at = datetime(2030, 1, 2, 9, tzinfo=UTC)
    model = AuditModel(
        [
            AuditLine(at, "accueil", "appointment_changed", "appointment", "abcdef12-0000"),
            AuditLine(at, "admin", "agenda_closure_added", "agenda_closure", "0000-12345678"),
        ]
    )
    assert model.data(model.index(0, 2)) == "Modification d'un rendez-vous"
    assert model.data(model.index(1, 2)) == "Ajout d'une fermeture du centre"
    assert model.data(model.index(1, 3)) == "Fermeture 12345678"
