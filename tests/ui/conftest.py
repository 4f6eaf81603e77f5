"""pytest-qt fixtures: offscreen Qt, the synchronous task runner, a small test centre."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.actor import Actor
from cms_desktop.services.setup import CentreDraft, initialise_centre
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.conftest import approve_clinicians

FAST_KDF = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
PASSWORD = "Essai-Cms-2026"
CENTRE_NAME = "Centre municipal de santé d'Essai"
STAFF = (
    ("accueil", "Sophie Lambert", Role.RECEPTION),
    ("dr.moreau", "Claire Moreau", Role.DOCTOR),
    ("direction", "Hélène Dubois", Role.MEDICAL_DIRECTOR),
)


@pytest.fixture(scope="session")
def template_centre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One centre built once (argon2 is slow on purpose); each test gets a copy."""
    data_dir = DataDir(tmp_path_factory.mktemp("template") / "centre")
    result = initialise_centre(
        data_dir,
        CentreDraft(CENTRE_NAME, city="Valbourg", rooms=()),
        "admin",
        "Administrateur Essai",
        PASSWORD,
        kdf=FAST_KDF,
    )
    ws, actor = login(data_dir, "admin", PASSWORD)
    try:
        for login_name, name, role in STAFF:
            users.create_user(
                ws,
                actor,
                users.NewUser(
                    login_name,
                    name,
                    role,
                    PASSWORD,
                    may_prescribe_bizone=users.prescribes(role),
                ),
            )
    finally:
        ws.close()
    approve_clinicians(data_dir, "dr.moreau", ["direction"], PASSWORD)
    return data_dir.path, result.recovery_code


@pytest.fixture
def centre(template_centre: tuple[Path, str], tmp_path: Path) -> DataDir:
    target = tmp_path / "centre"
    shutil.copytree(template_centre[0], target)
    return DataDir(target)


@pytest.fixture
def recovery_code(template_centre: tuple[Path, str]) -> str:
    return template_centre[1]


@pytest.fixture
def runner() -> SyncTaskRunner:
    return SyncTaskRunner()


@pytest.fixture
def open_session(centre: DataDir) -> Iterator[Callable[[str], tuple[Workspace, Actor]]]:
    opened: list[Workspace] = []

    def _open(login_name: str) -> tuple[Workspace, Actor]:
        ws, actor = login(centre, login_name, PASSWORD)
        opened.append(ws)
        return ws, actor

    yield _open
    for ws in opened:
        ws.close()


@pytest.fixture(autouse=True)
def _settings_in_tmp(tmp_path: Path) -> Iterator[None]:
    """What screens remember (QSettings) goes to the test's directory, not the user's."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    yield
