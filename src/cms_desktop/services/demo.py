"""The demo centre: synthetic staff, rooms and patients (Faker fr_FR). No real person in it."""

from __future__ import annotations

import random
from datetime import date

from faker import Faker

from cms_desktop.domain.agenda.rooms import RoomDraft, RoomKind
from cms_desktop.domain.nir import compute_nir_key
from cms_desktop.domain.permissions import Permission, Role
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_fields import seal_text
from cms_desktop.services.demo_accounts import (  # noqa: F401 - re-exported
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DemoAccount,
    demo_logins,
)
from cms_desktop.services.demo_agenda import add_demo_agenda
from cms_desktop.services.demo_clinical import add_demo_clinical, demo_clinical_key
from cms_desktop.services.demo_patients import demo_patient_rows
from cms_desktop.services.patients import ALD_TABLE
from cms_desktop.services.setup import CentreDraft, initialise_centre
from cms_desktop.services.users import NewUser, create_user, prescribes
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage import audit, repositories
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import new_id

DEMO_ROOMS = (
    *(RoomDraft(f"Cabinet {n}", RoomKind.CONSULTING) for n in range(1, 7)),
    RoomDraft("Salle de soins infirmiers", RoomKind.NURSING),
    RoomDraft("Salle de réunion", RoomKind.MEETING),
)

DEMO_CENTRE = CentreDraft(
    name="Centre municipal de santé de Valbourg (démonstration)",
    address="12 rue de la République",
    postcode="61000",
    city="Valbourg",
    phone="02 33 00 00 00",
    finess="610000000",
    rooms=DEMO_ROOMS,
)


def create_demo_centre(data_dir: DataDir, patients: int = 2000, seed: int = 2026) -> None:
    admin = DEMO_ACCOUNTS[0]
    initialise_centre(data_dir, DEMO_CENTRE, admin.login, admin.full_name, DEMO_PASSWORD, demo=True)
    ws, actor = login(data_dir, admin.login, DEMO_PASSWORD)
    try:
        for account in DEMO_ACCOUNTS[1:]:
            create_user(
                ws,
                actor,
                NewUser(
                    account.login,
                    account.full_name,
                    account.role,
                    DEMO_PASSWORD,
                    account.profession,
                    account.specialty,
                    account.rpps,
                    account.title,
                    # The demo's prescribers use the bizone (ALD) form.
                    may_prescribe_bizone=prescribes(account.role),
                ),
            )
        reception = Actor(*_account_id(ws, "accueil"), Role.RECEPTION)
        add_demo_patients(ws, reception, patients, seed)
        add_demo_clinical(ws, seed)
        add_demo_agenda(ws, seed)
    finally:
        ws.close()


def _account_id(ws: Workspace, login_name: str) -> tuple[str, str, str]:
    with ws.store.read() as session:
        user = repositories.user_by_login(session, login_name)
        assert user is not None
        return user.id, user.login, user.full_name


def _nir(sex: str, birth: date, rng: random.Random) -> str:
    dept = f"{rng.randint(1, 95):02d}"
    first13 = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{dept}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return first13 + f"{compute_nir_key(first13):02d}"


_GP_ROLES = (Role.DOCTOR.value, Role.MEDICAL_DIRECTOR.value)


@requires(Permission.PATIENT_IDENTITY_WRITE)
def add_demo_patients(
    ws: Workspace, actor: Actor, count: int, seed: int = 2026, batch: int = 2000
) -> int:
    """Add ``count`` synthetic patients; returns how many were added."""
    actor.require(Permission.PATIENT_IDENTITY_WRITE)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    today = date.today()
    added = 0
    # The ALD labels name diseases (#17): sealed under the demo's clinical key, or left
    # for a clinician to type when it cannot be had (never stored in clear).
    key = demo_clinical_key(ws)
    while added < count:
        n = min(batch, count - added)
        with ws.store.write() as session:
            doctors = [u.id for u in repositories.users(session) if u.role in _GP_ROLES]
            rows, alds = demo_patient_rows(fake, rng, n, today, doctors)
            session.add_all(rows)
            session.flush()
            for ald in alds:
                ald.id = new_id()
                if key is None:
                    ald.label = ald.code = ""
                else:
                    ald.label = seal_text(key, ALD_TABLE, ald.id, "label", ald.label)
                    ald.code = seal_text(key, ALD_TABLE, ald.id, "code", ald.code)
            session.add_all(alds)
            audit.append(
                session,
                ws.store.station_id,
                "demo_patients_added",
                user_id=actor.user_id,
                user_login=actor.login,
                details={"count": n},
            )
        added += n
    return added
