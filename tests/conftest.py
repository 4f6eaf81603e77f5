"""Shared fixtures: a centre on real SQLCipher files in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cms_desktop.domain.permissions import Role
from cms_desktop.services import clinical_access, setup, users
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir

# argon2 at its cheapest: tests check behaviour, the benchmarks check the real cost.
FAST_KDF = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
ADMIN_PASSWORD = "Chef-Secret-42"
STAFF_PASSWORD = "Staff-Secret-42"


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    from cms_desktop.storage import keyslots

    monkeypatch.setattr(keyslots, "DEFAULT_KDF", FAST_KDF)


@pytest.fixture(autouse=True)
def _own_station_seals(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test is a PC of its own: the seals kept outside data directories
    (``storage.origin.outside_seal_path``) go to a folder of the test, not the user's."""
    from cms_desktop.storage import origin

    folder = tmp_path_factory.mktemp("station-seals")
    monkeypatch.setenv(origin.OUTSIDE_SEALS_ENV, str(folder))


@dataclass
class Centre:
    data_dir: DataDir
    recovery_code: str

    def login(self, login_name: str, password: str = STAFF_PASSWORD) -> tuple[Workspace, Actor]:
        return login(self.data_dir, login_name, password)

    def disable(self, login_name: str) -> str:
        """The administrator disables ``login_name`` (as on the accounts screen); its id."""
        ws, admin = self.login("admin", ADMIN_PASSWORD)
        try:
            target = next(u for u in users.list_users(ws, admin) if u.login == login_name)
            users.set_active(ws, admin, target.id, False)
            return target.id
        finally:
            ws.close()


def hand_over(
    data_dir: DataDir,
    name: str,
    password: str = STAFF_PASSWORD,
    holder: str = "dr.test",
    holder_password: str = STAFF_PASSWORD,
) -> None:
    """A holder gives ``name`` the clinical key at its screen (#17), as a centre does for
    each new clinician after their first login."""
    ws, actor = login(data_dir, name, password)
    try:
        clinical_access.receive_key(ws, actor, holder, holder_password)
    finally:
        ws.close()


def approve_clinicians(
    data_dir: DataDir, holder: str, logins: list[str], password: str = STAFF_PASSWORD
) -> None:
    """What a centre's first clinician does once: log in (making the clinical key), then
    hand it to each colleague at their screen (#17)."""
    login(data_dir, holder, password)[0].close()
    for name in logins:
        hand_over(data_dir, name, password, holder, password)


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Centre]:
    data_dir = DataDir(tmp_path / "centre")
    result = setup.initialise_centre(
        data_dir,
        setup.CentreDraft(name="CMS des Tests", finess="610000000", rooms=()),
        "admin",
        "Admin Test",
        ADMIN_PASSWORD,
        kdf=FAST_KDF,
    )
    ws, admin = login(data_dir, "admin", ADMIN_PASSWORD)
    for login_name, role in [
        ("accueil", Role.RECEPTION),
        ("dr.test", Role.DOCTOR),
        ("direction", Role.MEDICAL_DIRECTOR),
    ]:
        users.create_user(
            ws,
            admin,
            users.NewUser(
                login_name,
                f"Compte {login_name}",
                role,
                STAFF_PASSWORD,
                may_prescribe_bizone=users.prescribes(role),
            ),
        )
    ws.close()
    approve_clinicians(data_dir, "dr.test", ["direction"])
    yield Centre(data_dir, result.recovery_code)
