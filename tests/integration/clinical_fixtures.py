"""A synthetic patient created by reception, shared by the clinical integration tests."""

from __future__ import annotations

from datetime import date

from cms_desktop.storage.models import Patient
from tests.conftest import Centre


def make_patient(centre: Centre, sex: str = "F", birth: date = date(1960, 3, 9)) -> str:
    ws, _ = centre.login("accueil")
    with ws.store.write() as session:
        p = Patient(birth_name="LEROY", first_given_name="Inès", birth_date=birth, sex=sex)
        session.add(p)
        session.flush()
        pid = p.id
    ws.close()
    return pid
