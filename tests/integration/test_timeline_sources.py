"""The timeline gathers appointments and printed prescriptions along with the notes."""

from __future__ import annotations

from datetime import date

from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.services import prescriptions as rx
from cms_desktop.services import timeline
from cms_desktop.services.agenda.booking import BookingRequest, book
from tests.integration.agenda.conftest import MONDAY, NOW, Agenda, at
from tests.integration.agenda.conftest import agenda as agenda
from tests.integration.printing.helpers import set_practitioner

LINE = PrescriptionLine(
    dci="paracétamol",
    strength="500 mg",
    form="comprimé",
    dosage="1 comprimé trois fois par jour",
    route="orale",
    duration="5 jours",
)


def test_appointment_and_prescription_appear_for_the_doctor_only(agenda: Agenda) -> None:
    book(
        agenda.ws,
        agenda.reception,
        BookingRequest(agenda.doctor_id, at(MONDAY, 10), patient_id=agenda.patient_a),
        now=NOW,
    )
    ws, doctor = agenda.centre.login("dr.test")
    try:
        set_practitioner(ws, "dr.test")
        rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(agenda.patient_a, (LINE,)))
        items = timeline.timeline(ws, doctor, agenda.patient_a)
        other = timeline.timeline(ws, doctor, agenda.patient_b)
    finally:
        ws.close()
    kinds = {item.kind: item for item in items}
    assert set(kinds) == {"appointment", "prescription"}
    assert kinds["appointment"].at.date() == date(2030, 3, 4)
    assert "Consultation" in kinds["appointment"].title
    assert kinds["prescription"].kind_label == "Ordonnance"
    assert items[0].kind == "appointment"  # newest first: the 2030 booking
    assert other == []
