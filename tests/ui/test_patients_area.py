"""The Patients area with pytest-qt: typing searches, the keyboard opens, the form validates."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from cms_desktop.services import patients
from cms_desktop.services.patient_form import AldForm
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.patients.area import PatientsArea
from cms_desktop.ui.patients.dialogs import DuplicateDialog
from cms_desktop.ui.patients.picker import PatientPicker
from tests.patient_helpers import form


@pytest.fixture
def reception_ctx(open_session, runner):
    ws, actor = open_session("accueil")
    return AreaContext(ws, actor, runner)


def _type(qtbot, picker: PatientPicker, text: str) -> None:
    picker.field.clear()
    qtbot.keyClicks(picker.field, text)
    picker.search_now()  # the debounce timer, without waiting for it


def test_typing_shows_results_and_enter_opens(qtbot, reception_ctx) -> None:
    ws, actor = reception_ctx.workspace, reception_ctx.actor
    jean = patients.create_patient(ws, actor, form())
    patients.create_patient(
        ws,
        actor,
        form(
            birth_name="Durand",
            first_given_name="Anne",
            given_names="",
            sex="F",
            birth_date="02/02/1990",
            phone_mobile="",
        ),
    )
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    area.resize(1100, 650)
    area.show()
    _type(qtbot, area.picker, "du")
    assert [h.display_name for h in area.picker.model.hits] == ["DUPONT Jean", "DURAND Anne"]
    qtbot.keyClick(area.picker.field, Qt.Key.Key_Down)
    assert area.picker.current_id() != jean
    qtbot.keyClick(area.picker.field, Qt.Key.Key_Up)
    qtbot.keyClick(area.picker.field, Qt.Key.Key_Return)
    (tab,) = area.patient_tabs()
    assert tab.patient_id == jean
    assert area.tabs.tabText(area.tabs.currentIndex()) == "DUPONT Jean"
    assert tab.identity.edits["phone_mobile"].text() == "06 12 34 56 78"
    assert tab.tabs.count() == 1  # reception: identity only, no clinical sub-tab
    # Opening the same patient again focuses the existing tab.
    area.open_patient(jean)
    assert len(area.patient_tabs()) == 1


def test_stale_results_are_ignored(qtbot, reception_ctx) -> None:
    picker = PatientPicker(reception_ctx)
    qtbot.addWidget(picker)
    hit = patients.PatientHit(
        "x",
        "OLD Answer",
        __import__("datetime").date(2000, 1, 1),
        26,
        "M",
        "",
        "",
        "provisional",
        "Identité provisoire",
    )
    picker._sequence = 5
    picker._show(4, [hit])
    assert picker.model.hits == []


def test_new_patient_validation_message_and_nothing_lost(qtbot, reception_ctx) -> None:
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    with qtbot.waitActive(area):
        area.show()
        area.activateWindow()
    qtbot.keyClick(area.picker.field, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    (tab,) = area.patient_tabs()
    page = tab.identity
    qtbot.keyClicks(page.edits["birth_name"], "Martin")
    qtbot.keyClicks(page.edits["first_given_name"], "Lou")
    qtbot.keyClicks(page.edits["birth_date"], "31/02/2001")
    qtbot.keyClicks(page.edits["nir"], "2 01 02 75 056 123 00")
    assert page.dirty and area.tabs.tabText(area.tabs.currentIndex()).endswith("*")
    qtbot.keyClick(page.edits["birth_name"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    message = page.error_label.text()
    assert "31/02/2001" in message and "n'existe pas" in message
    assert "clé du NIR ne correspond pas" in message
    assert page.edits["birth_name"].text() == "Martin"
    page.edits["birth_date"].setText("28/02/2001")
    page.edits["nir"].setText("")
    page.sex.setCurrentIndex(page.sex.findData("F"))
    page.save()
    assert page.patient_id is not None and not page.dirty
    assert area.tabs.tabText(area.tabs.currentIndex()) == "MARTIN Lou"


def test_duplicate_dialog_then_create_anyway(qtbot, reception_ctx, monkeypatch) -> None:
    ws, actor = reception_ctx.workspace, reception_ctx.actor
    existing = patients.create_patient(ws, actor, form())
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    tab = area.new_patient()
    page = tab.identity
    page.fill_form(form(birth_name="Dupond"))
    page.save()
    dialog = page.duplicate_dialog
    assert isinstance(dialog, DuplicateDialog)
    assert dialog.list.count() == 1 and "DUPONT Jean" in dialog.list.item(0).text()
    dialog.create_button.click()
    assert page.patient_id not in (None, existing)


@pytest.mark.parametrize("how", ["click", "keyboard"])
def test_save_button_and_ctrl_s_both_warn_of_a_duplicate(qtbot, reception_ctx, how) -> None:
    ws, actor = reception_ctx.workspace, reception_ctx.actor
    patients.create_patient(ws, actor, form())
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    with qtbot.waitActive(area):
        area.show()
        area.activateWindow()
    page = area.new_patient().identity
    page.fill_form(form(birth_name="Dupond"))
    if how == "click":
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    else:
        page.edits["birth_name"].setFocus()
        qtbot.keyClick(page.edits["birth_name"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "inattendue" not in page.error_label.text()
    assert page.error_label.text() == "Doublon possible : choisissez dans la fenêtre ouverte."
    dialog = page.duplicate_dialog
    assert dialog.list.item(0).text().startswith("DUPONT Jean — né le 05/03/1980")
    assert page.patient_id is None  # nothing created until the user chooses


def test_duplicate_dialog_opens_the_existing_record(qtbot, reception_ctx) -> None:
    ws, actor = reception_ctx.workspace, reception_ctx.actor
    existing = patients.create_patient(ws, actor, form())
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    page = area.new_patient().identity
    page.fill_form(form())
    page.save()
    page.duplicate_dialog.open_button.click()
    assert [t.patient_id for t in area.patient_tabs()] == [None, existing]


def test_closing_a_dirty_tab_asks(qtbot, reception_ctx, monkeypatch) -> None:
    ws, actor = reception_ctx.workspace, reception_ctx.actor
    pid = patients.create_patient(ws, actor, form())
    area = PatientsArea(reception_ctx)
    qtbot.addWidget(area)
    with qtbot.waitActive(area):
        area.show()
        area.activateWindow()
    tab = area.open_patient(pid)
    qtbot.keyClicks(tab.identity.edits["city"], "Valbourg")
    answers = []
    monkeypatch.setattr(area, "confirm_discard", lambda _tab: answers.append(1) or False)
    qtbot.keyClick(tab.identity.edits["city"], Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert answers == [1] and area.patient_tabs() == [tab]
    tab.identity.save()
    area.close_current()
    assert area.patient_tabs() == []


def test_clinician_gets_the_clinical_sub_tab_first(qtbot, open_session, runner) -> None:
    ws, doctor = open_session("dr.moreau")
    pid = patients.create_patient(ws, doctor, form())
    ctx = AreaContext(ws, doctor, runner)
    built = []

    def factory(c: AreaContext, patient_id: str) -> QLabel:
        built.append(patient_id)
        return QLabel("clinique")

    area = PatientsArea(ctx, factory)
    qtbot.addWidget(area)
    tab = area.open_patient(pid)
    assert built == [pid]
    assert [tab.tabs.tabText(i) for i in range(tab.tabs.count())] == [
        "Dossier médical",
        "Identité et couverture",
    ]
    assert not tab.identity.merge_button.isVisible()


def test_director_merges_from_the_identity_page(qtbot, open_session, runner, monkeypatch) -> None:
    ws, director = open_session("direction")
    keep = patients.create_patient(ws, director, form())
    other = patients.create_patient(
        ws, director, form(birth_name="Dupond"), confirmed_not_duplicate_of=(keep,)
    )
    area = PatientsArea(AreaContext(ws, director, runner))
    qtbot.addWidget(area)
    area.show()
    page = area.open_patient(keep).identity
    assert page.merge_button.isVisible()
    page.merge()
    dialog = page.merge_dialog
    monkeypatch.setattr(dialog, "ask", lambda _q: True)
    _type(qtbot, dialog.picker, "dupond")
    dialog.picker.choose_current()
    assert [h.id for h in patients.search_patients(ws, director, "dup")] == [keep]
    assert other != keep


def _ald_page(qtbot, ctx: AreaContext, pid: str):  # type: ignore[no-untyped-def]
    area = PatientsArea(ctx, lambda _c, _p: QLabel("clinique"))
    qtbot.addWidget(area)
    area.show()
    page = area.open_patient(pid).identity
    qtbot.waitUntil(lambda: page.ald_table.rowCount() == 1 and page.version != "")
    return page


def _editable(item) -> bool:  # type: ignore[no-untyped-def]
    return bool(item.flags() & Qt.ItemFlag.ItemIsEditable)


def test_an_ald_label_is_hidden_from_reception_and_typed_by_a_clinician(
    qtbot, open_session, runner
) -> None:
    """#17: the label names a disease; reception keeps the ALD's dates, a clinician its label."""
    ws_r, reception = open_session("accueil")
    pid = patients.create_patient(ws_r, reception, form(alds=(AldForm("", "", "01/01/2020"),)))
    ws_d, doctor = open_session("dr.moreau")
    page = _ald_page(qtbot, AreaContext(ws_d, doctor, runner), pid)
    label, _code, start, _end = (page.ald_table.item(0, c) for c in range(4))
    assert _editable(label) and not _editable(start)
    assert not page._ald_add.isEnabled()
    label.setText("Diabète de type 2")
    page.save()
    qtbot.waitUntil(lambda: not page.dirty)
    assert [a.label for a in patients.get_patient(ws_d, doctor, pid).alds] == ["Diabète de type 2"]

    page = _ald_page(qtbot, AreaContext(ws_r, reception, runner), pid)
    label, code, start, _end = (page.ald_table.item(0, c) for c in range(4))
    assert label.text() == "(réservé aux soignants)" and code.text() == ""
    assert not _editable(label) and not _editable(code) and _editable(start)
    start.setText("01/02/2020")
    page.save()
    qtbot.waitUntil(lambda: not page.dirty)
    (ald,) = patients.get_patient(ws_d, doctor, pid).alds
    assert (ald.label, f"{ald.start_date:%d/%m/%Y}") == ("Diabète de type 2", "01/02/2020")
