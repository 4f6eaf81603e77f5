"""An agenda ready to book: two rooms, Dr Test (linked to dr.test) in the Alençon hours,
a visiting practitioner sharing Cabinet 1 on Monday mornings, two synthetic patients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import resources, views
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import repositories
from cms_desktop.storage.models import Patient, Room
from tests.conftest import ADMIN_PASSWORD, Centre

MONDAY = date(2030, 3, 4)
NOW = datetime(2030, 3, 1, 8, 0)  # the Friday before, Europe/Paris wall clock


@dataclass
class Agenda:
    centre: Centre
    ws: Workspace
    reception: Actor
    doctor_id: str
    visitor_id: str
    room1: str
    room2: str
    nursing_room: str
    patient_a: str
    patient_b: str


def _patient(name: str, given: str) -> Patient:
    return Patient(birth_name=name, first_given_name=given, birth_date=date(1980, 5, 17), sex="F")


@pytest.fixture
def agenda(centre: Centre) -> Iterator[Agenda]:
    ws, _admin = centre.login("admin", ADMIN_PASSWORD)
    with ws.store.write() as s:
        rooms = [
            Room(name="Cabinet 1", kind="consulting"),
            Room(name="Cabinet 2", kind="consulting"),
            Room(name="Salle de soins", kind="nursing"),
        ]
        patients = [_patient("MARTINEAU", "Lucie"), _patient("ROCHE", "Inès")]
        s.add_all([*rooms, *patients])
        s.flush()
        room_ids = [r.id for r in rooms]
        patient_ids = [p.id for p in patients]
        doctor_user = repositories.user_by_login(s, "dr.test")
        assert doctor_user is not None
        doctor_user_id = doctor_user.id
    ws.close()
    ws, reception = centre.login("accueil")
    # The doctor's account came with its agenda column: give it the name the tests use.
    column = views.find_practitioner(ws, reception, "dr.test")
    assert column is not None and column.user_id == doctor_user_id
    doctor = resources.update_practitioner(
        ws,
        reception,
        column.id,
        resources.PractitionerDraft(title="Dr", full_name="Jeanne Test", profession="Médecin"),
    )
    for weekday in (0, 1, 3, 4):
        for start, end in ((time(9), time(12, 40)), (time(13, 40), time(19))):
            resources.add_range(
                ws, reception, doctor.id, resources.RangeDraft(weekday, start, end, room_ids[0])
            )
    resources.add_range(
        ws, reception, doctor.id, resources.RangeDraft(5, time(9), time(12), room_ids[0])
    )
    visitor = resources.create_practitioner(
        ws,
        reception,
        resources.PractitionerDraft(
            title="Dr",
            full_name="Paul Visiteur",
            profession="Médecin",
            specialty="Cardiologie",
            visiting=True,
        ),
    )
    resources.add_range(
        ws, reception, visitor.id, resources.RangeDraft(0, time(9), time(12), room_ids[0])
    )
    yield Agenda(centre, ws, reception, doctor.id, visitor.id, *room_ids, *patient_ids)
    ws.close()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def utc(moment: datetime) -> datetime:
    from cms_desktop.services.agenda.common import to_utc

    return to_utc(moment).astimezone(UTC)
