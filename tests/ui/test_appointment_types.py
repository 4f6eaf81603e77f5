"""Administration › Types de rendez-vous: label, default length and colour typed in a
table, saved together, refused in French without losing what was typed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog
from pytestqt.qtbot import QtBot

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.agenda import resources
from cms_desktop.services.agenda.resources import TypeChange
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.agenda.types_page import COLOUR, LABEL, MINUTES, AppointmentTypesPage


@pytest.fixture
def types_page(open_session, runner, qtbot: QtBot):
    ws, admin = open_session("admin")
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    qtbot.waitExposed(area)
    area.activateWindow()
    qtbot.waitUntil(area.isActiveWindow)  # Ctrl+S only reaches the active window
    page = area.types_page
    assert page is not None
    area.setCurrentWidget(page)
    page.area = area  # keeps the wrapper alive
    return page, ws, admin


def _row(page: AppointmentTypesPage, code: str) -> int:
    """Rows follow the types' fixed order; the first column names the built-in kind."""
    kinds = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    return kinds.index(AppointmentType(code).label)


def _type(ws, actor, code: str):
    return next(t for t in resources.list_appointment_types(ws, actor) if t.code == code)


def test_the_administrator_retypes_a_type_and_saves_with_ctrl_s(types_page, qtbot) -> None:
    page, ws, admin = types_page
    row = _row(page, "consultation")
    assert page.table.item(row, LABEL).text() == "Consultation"
    assert not page.save_button.isEnabled()  # nothing to save yet
    page.table.item(row, LABEL).setText("Consultation de médecine générale")
    page.table.item(row, MINUTES).setText("25")
    page.table.item(row, COLOUR).setText("#2E7D32")
    assert page.has_unsaved_changes() and page.area.has_unsaved_changes()
    assert page.table.item(row, COLOUR).background().color().name() == "#2e7d32"
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = _type(ws, admin, "consultation")
    assert (saved.label, saved.minutes, saved.colour) == (
        "Consultation de médecine générale",
        25,
        "#2e7d32",
    )
    assert page.saved_label.text() == "Types enregistrés."
    assert not page.has_unsaved_changes()


def test_bad_lengths_and_colours_are_refused_in_french_and_nothing_is_saved(types_page) -> None:
    page, ws, admin = types_page
    first, second = _row(page, "consultation"), _row(page, "home_visit")
    page.table.item(first, LABEL).setText("Consultation courte")
    page.table.item(second, MINUTES).setText("une heure")
    page.save()
    assert page.error.text() == "Durée de « Visite à domicile » : un nombre de minutes, de 5 à 480."
    page.table.item(second, MINUTES).setText("0")
    page.save()
    assert "de 5 à 480 minutes" in page.error.text()
    page.table.item(second, MINUTES).setText("45")
    page.table.item(second, COLOUR).setText("vert")
    page.save()
    assert "au format #RRVVBB" in page.error.text()
    # Nothing written (one transaction), and everything typed is still there.
    assert _type(ws, admin, "consultation").label == "Consultation"
    assert page.table.item(first, LABEL).text() == "Consultation courte"
    assert page.table.item(second, COLOUR).text() == "vert"
    page.undo_button.click()
    assert page.table.item(first, LABEL).text() == "Consultation"
    assert not page.has_unsaved_changes()


def test_reception_reads_the_saved_length_and_only_the_administrator_saves(open_session) -> None:
    ws, admin = open_session("admin")
    resources.update_appointment_types(
        ws, admin, [TypeChange("consultation", "Consultation", 30, "#4f81bd")]
    )
    ws_r, reception = open_session("accueil")
    assert _type(ws_r, reception, "consultation").minutes == 30
    with pytest.raises(PermissionDenied):
        resources.update_appointment_types(
            ws_r, reception, [TypeChange("consultation", "X", 30, "#4f81bd")]
        )
    with pytest.raises(ValidationFailed, match="inconnu"):
        resources.update_appointment_types(ws, admin, [TypeChange("surgery", "X", 30, "#000000")])


def test_a_colour_is_picked_in_the_colour_dialog(types_page, monkeypatch) -> None:
    page, _ws, _admin = types_page
    row = _row(page, "vaccination")
    page.table.setCurrentCell(row, LABEL)
    asked: list[str] = []

    def pick(initial, parent, title):  # what the person clicks in QColorDialog
        asked.append(f"{title} {initial.name()}")
        return QColor("#aa3366")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(pick))
    page.colour_button.click()
    assert asked == ["Couleur de « Vaccination » #8064a2"]
    assert page.table.item(row, COLOUR).text() == "#aa3366"
    assert page.has_unsaved_changes()
