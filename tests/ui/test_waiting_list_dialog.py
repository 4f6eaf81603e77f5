"""The médecin-traitant waiting list from the agenda: register, note contacts, change the
priority, offer a first appointment (the person becomes a patient), counts and months."""

from __future__ import annotations

from datetime import date

from cms_desktop.services.agenda import views, waiting_list
from cms_desktop.services.agenda.booking import BookingRequest
from cms_desktop.ui.agenda.page import AgendaPage
from cms_desktop.ui.agenda.waiting_list_dialog import (
    OfferDialog,
    RegisterDialog,
    WaitingListDialog,
    WaitingListModel,
)
from tests.ui.agenda_setup import seed_agenda


def _visible(parent, kind):
    found = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_model_passes_the_model_tester(qtmodeltester) -> None:
    model = WaitingListModel()
    entry = waiting_list.WaitingListView(
        "id", "Durand", "Léa", date(1950, 1, 2), "", date(2025, 1, 10), 1, "waiting", "ALD",
        None, 2, date(2025, 3, 1),
    )  # fmt: skip
    model.set_entries([entry], date(2025, 7, 9))
    qtmodeltester.check(model)
    assert model.data(model.index(0, 4)) == "5 mois"
    assert model.data(model.index(0, 7)) == "2 (dernier le 01/03/2025)"


def test_waiting_list_from_the_agenda(open_session, runner, qtbot) -> None:
    ws, reception = open_session("accueil")
    doctor_id, _room, _patients = seed_agenda(ws, reception, [0, 1, 2, 3, 4, 5])
    page = AgendaPage(ws, reception, runner)
    qtbot.addWidget(page)
    page.show()
    page.waiting_list_button.click()
    dialog = _visible(page, WaitingListDialog)
    assert dialog.summary.text().startswith("<b>0 personne(s) en attente</b>")

    dialog.add_button.click()
    register = _visible(dialog, RegisterDialog)
    register.ok_button.click()
    assert register.error_label.text() == "Indiquez le nom et le prénom."
    register.family_edit.setText("Lemaire")
    register.given_edit.setText("Odile")
    register.priority_combo.setCurrentIndex(register.priority_combo.findData(1))
    register.reason_edit.setText("ALD sans médecin traitant")
    register.ok_button.click()
    assert not register.isVisible()
    assert dialog.model.rowCount() == 1
    assert dialog.summary.text().startswith("<b>1 personne(s) en attente</b>")

    dialog.table.selectRow(0)
    dialog.contact_button.click()
    dialog.table.selectRow(0)
    dialog.contact_button.click()
    (entry,) = waiting_list.list_waiting(ws, reception)
    assert (entry.contact_attempts, entry.status, entry.priority) == (2, "contacted", 1)

    dialog.table.selectRow(0)
    dialog.offer_button.click()
    offer = _visible(dialog, OfferDialog)
    offer.practitioner.setCurrentIndex(offer.practitioner.findData(doctor_id))
    expected = views.next_free_slot(ws, reception, practitioner_id=doctor_id, limit=1)[0]
    assert offer.slot is not None and offer.slot.start == expected.start
    offer.ok_button.click()
    assert not offer.isVisible(), offer.error_label.text()
    assert waiting_list.list_waiting(ws, reception) == []
    (converted,) = waiting_list.list_waiting(ws, reception, include_closed=True)
    assert converted.status == "converted" and converted.converted_patient_id is not None
    day = views.day_agenda(ws, reception, expected.start.date())
    booked = [a for c in day.columns for a in c.appointments]
    assert [(a.start, a.patient_id) for a in booked] == [
        (expected.start, converted.converted_patient_id)
    ]
    assert dialog.summary.text().startswith("<b>0 personne(s) en attente</b>")


def test_a_patient_without_a_gp_is_registered_from_the_file_and_keeps_the_file(
    open_session, runner, qtbot
) -> None:
    from cms_desktop.services import patients
    from cms_desktop.ui.areas import AreaContext
    from cms_desktop.ui.patients.identity_page import IdentityPage
    from tests.patient_helpers import form

    ws, reception = open_session("accueil")
    doctor_id, _room, _patients = seed_agenda(ws, reception, [0, 1, 2, 3, 4, 5])
    pid = patients.create_patient(ws, reception, form(birth_name="Garnier"))
    page = IdentityPage(AreaContext(ws, reception, runner), pid)
    qtbot.addWidget(page)
    page.show()
    assert page.waiting_list_button.isVisible()  # no médecin traitant at the centre
    page.waiting_list_button.click()
    assert page.waiting_list_label.text().startswith("Inscrit(e) sur la liste d'attente")
    page.waiting_list_button.click()  # twice: refused, in French
    assert page.error_label.text() == "Ce patient est déjà sur la liste d'attente."
    (entry,) = waiting_list.list_waiting(ws, reception)
    assert (entry.family_name.upper(), entry.patient_id) == ("GARNIER", pid)

    slot = views.next_free_slot(ws, reception, practitioner_id=doctor_id, limit=1)[0]
    done = waiting_list.convert(ws, reception, entry.id, "", BookingRequest(doctor_id, slot.start))
    assert done.patient_id == pid  # no second patient: the file is the one booked
    assert done.appointment is not None and done.appointment.patient_id == pid
