"""Patient search results under a field (journal, archives): none said, one taken, several
offered in a menu whose actions pick the patient chosen."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from cms_desktop.ui.widgets import ErrorLabel, offer_patients


def test_search_results_are_said_taken_or_offered(qtbot: QtBot) -> None:
    edit, error = QLineEdit(), ErrorLabel()
    qtbot.addWidget(edit)
    qtbot.addWidget(error)
    picked: list[tuple[str, str]] = []

    def pick(patient_id: str, label: str) -> None:
        picked.append((patient_id, label))

    assert offer_patients(edit, error, [], pick) is None
    assert error.text() == "Aucun patient ne correspond."
    one = SimpleNamespace(id="p1", label="MARTIN Claire, née le 02/03/1980")
    assert offer_patients(edit, error, [one], pick) is None
    assert picked == [("p1", one.label)] and error.text() == ""
    two = SimpleNamespace(id="p2", label="MARTIN Paul, né le 04/05/1975")
    menu = offer_patients(edit, error, [one, two], pick)
    assert menu is not None
    assert [a.text() for a in menu.actions()] == [one.label, two.label]
    menu.actions()[1].trigger()
    assert picked[-1] == ("p2", two.label)
    menu.close()
