"""Issue #18: the permission matrix as a test.

Every public service function (a module-level function of ``cms_desktop.services`` taking an
``actor`` or a ``ws``) declares what it needs (``services/access.py``). Each declared
function is called with the real account of every role on a copy of a demo centre: a role
the declaration and ``domain.permissions`` refuse gets ``PermissionDenied`` naming one of the
declared permissions and nothing is written; a role they allow is never refused (the probe
arguments may still be rejected for other reasons: a missing form, a date in the past).
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import inspect
import pkgutil
import shutil
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import cms_desktop.services as services_package
from cms_desktop.domain.permissions import PermissionDenied, Role
from cms_desktop.services.access import DECLARED, Access, Rule
from cms_desktop.services.actor import Actor
from cms_desktop.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_centre
from cms_desktop.services.sync_conflicts import ConflictChoice
from cms_desktop.services.synthesis import Section
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.models import (
    AgendaClosure,
    AllergyRow,
    Appointment,
    AuditEntry,
    Consultation,
    ConsultationDraft,
    Document,
    OpLogRow,
    Patient,
    PatientAld,
    Practitioner,
    PractitionerAbsence,
    PractitionerRange,
    PrescriptionRecord,
    PrescriptionTemplate,
    RecordAccessRequest,
    SyncConflict,
    User,
    WaitingListEntry,
)
from cms_desktop.sync.merge import conflict_id
from tests.conftest import FAST_KDF


def _public_service_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.walk_packages(services_package.__path__, "cms_desktop.services."):
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            if function.__module__ != module.__name__:
                continue
            parameters = inspect.signature(function).parameters
            if "actor" in parameters or "ws" in parameters or "workspace" in parameters:
                found[f"{module.__name__}.{name}"] = function
    return found


FUNCTIONS = _public_service_functions()
CHECKED = sorted(
    name for name, access in DECLARED.items() if access.rule not in (Rule.NO_ACTOR, Rule.INTERNAL)
)


def test_every_public_service_function_declares_its_permission() -> None:
    assert len(FUNCTIONS) > 120
    assert sorted(set(FUNCTIONS) - set(DECLARED)) == []
    assert sorted(set(DECLARED) - set(FUNCTIONS)) == []  # declared, but not public any more
    for name, access in DECLARED.items():
        takes_actor = "actor" in inspect.signature(FUNCTIONS[name]).parameters
        if access.rule is not Rule.INTERNAL:
            assert takes_actor == (access.rule is not Rule.NO_ACTOR), name
        if access.rule in (Rule.ALL, Rule.ANY):
            assert access.permissions, name


@dataclass
class World:
    """A demo centre (every role has an account) plus one row of each kind a probe needs."""

    path: Path
    actors: dict[Role, Actor]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyslots, "DEFAULT_KDF", FAST_KDF)
        path = tmp_path_factory.mktemp("matrix") / "demo"
        create_demo_centre(DataDir(path), patients=12)
        actors: dict[Role, Actor] = {}
        for account in DEMO_ACCOUNTS:
            if account.role not in actors:
                ws, actor = login(DataDir(path), account.login, DEMO_PASSWORD)
                ws.close()
                actors[account.role] = actor
        ws, _ = login(DataDir(path), "admin", DEMO_PASSWORD)
        try:
            ids = _seed(ws, actors)
        finally:
            ws.close()
        yield World(path, actors, ids)


def _first(session: Any, model: Any, *where: Any) -> str:
    found = session.scalars(select(model.id).where(*where).order_by(model.id)).first()
    assert found is not None, model
    return str(found)


def _seed(ws: Workspace, actors: dict[Role, Actor]) -> dict[str, str]:
    doctor = actors[Role.DOCTOR]
    now = dt.datetime.now(dt.UTC)
    with ws.store.write() as session:
        clinical_doc = session.get(
            Document, _first(session, Document, Document.kind != "administrative")
        )
        assert clinical_doc is not None
        patient_id = clinical_doc.patient_id
        other = _first(session, Patient, Patient.id != patient_id)
        allergy = AllergyRow(
            patient_id=patient_id, substance="Latex", kind="other", severity="mild"
        )
        practitioner = _first(session, Practitioner)
        rows = [
            allergy,
            PatientAld(
                patient_id=patient_id, code="8", label="Diabète", start_date=dt.date(2020, 1, 1)
            ),
            PrescriptionRecord(
                patient_id=patient_id,
                author_id=doctor.user_id,
                issued_at=now,
                issued_on=now.date(),
                kind="ordonnance",
                lines_json="[]",
                pdf=b"%PDF-1.4 stored",
            ),
            PrescriptionTemplate(name="Angine", lines_json="[]", owner_id=doctor.user_id),
            RecordAccessRequest(
                reference="DA-2026-TEST-0001",
                patient_id=patient_id,
                requester_kind="patient",
                requester_name="Le patient",
                received_at=now,
                not_before=now + dt.timedelta(days=2),
                deadline=now + dt.timedelta(days=8),
            ),
            PractitionerAbsence(
                practitioner_id=practitioner, start_at=now, end_at=now + dt.timedelta(hours=2)
            ),
            AgendaClosure(first_day=now.date(), last_day=now.date(), label="Pont"),
        ]
        session.add_all(rows)
        session.flush()
        conflict = SyncConflict(
            id=conflict_id("synthesis_allergies", allergy.id, "note", "0" * 20),
            entity="synthesis_allergies",
            row_id=allergy.id,
            field="note",
            kept_value='"Écrit sur un autre poste"',
            kept_version="0" * 20,
            kept_origin=ws.store.station_id,
            detected_at=now,
        )
        session.add(conflict)
        ids = {
            "patient_id": patient_id,
            "keep_id": patient_id,
            "merged_id": other,
            "document_id": clinical_doc.id,
            "ald_id": rows[1].id,
            "prescription_id": rows[2].id,
            "template_id": rows[3].id,
            "request_id": rows[4].id,
            "absence_id": rows[5].id,
            "closure_id": rows[6].id,
            "conflict_id": conflict.id,
            "practitioner_id": practitioner,
            "range_id": _first(session, PractitionerRange),
            "appointment_id": _first(session, Appointment, Appointment.patient_id.is_not(None)),
            "waiting_entry_id": _first(session, WaitingListEntry),
            "allergy_id": allergy.id,
            "consultation_id": _first(session, Consultation, Consultation.patient_id == patient_id),
            "draft_id": _first(session, ConsultationDraft),
            # Someone else's account for every caller: a second doctor's (no probe acts as him).
            "user_id": _first(
                session, User, User.role == "doctor", User.id != actors[Role.DOCTOR].user_id
            ),
            "station_id": "00000000-0000-0000-0000-000000000000",
            "login_or_id": "dr.martin",
            "code": "consultation",
        }
    return ids


class _Probe:
    """Stands for a form the probe does not fill: allowed roles may fail on it, after the
    permission check; refused roles must never get that far."""


def _value(name: str, parameter: inspect.Parameter, hint: Any, world: World, ws: Workspace) -> Any:
    if name in ("ws", "workspace"):
        return ws
    if name == "entry_id":
        return world.ids["allergy_id"]
    if name in world.ids:
        return world.ids[name]
    if name == "section":
        return Section.ALLERGIES
    if name == "choice":
        return ConflictChoice.KEPT
    if name == "ids":
        return [world.ids["patient_id"]]
    origin = typing.get_origin(hint)
    simple = hint if origin is None else origin
    if isinstance(simple, type) and issubclass(simple, enum.Enum):
        return next(iter(simple))
    for kind, value in (
        (bool, False),
        (int, 1),
        (str, "x"),
        (bytes, b""),
        (dt.datetime, dt.datetime.now(dt.UTC)),
        (dt.date, dt.date.today()),
    ):
        if simple is kind:
            return value
    return _Probe()


def _call(function: Callable[..., Any], actor: Actor, world: World, ws: Workspace) -> Any:
    hints = typing.get_type_hints(function)
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "actor":
            arguments[name] = actor
        elif parameter.default is inspect.Parameter.empty:
            arguments[name] = _value(name, parameter, hints.get(name), world, ws)
    if function.__module__.endswith("waiting_list") and "entry_id" in arguments:
        arguments["entry_id"] = world.ids["waiting_entry_id"]
    return function(**arguments)


def _writes(ws: Workspace) -> tuple[int, int]:
    with ws.store.read() as session:
        return (
            session.scalar(select(func.count()).select_from(OpLogRow)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


@pytest.mark.parametrize("name", CHECKED)
def test_each_role_is_allowed_or_refused_exactly_as_declared(
    name: str, world: World, tmp_path: Path
) -> None:
    access: Access = DECLARED[name]
    copy = tmp_path / "centre"
    shutil.copytree(world.path, copy)
    data_dir = DataDir(copy)
    ws, _ = login(data_dir, "admin", DEMO_PASSWORD)
    outcomes: dict[Role, str] = {}
    try:
        for role in Role:
            before = _writes(ws)
            try:
                _call(FUNCTIONS[name], world.actors[role], world, ws)
                outcomes[role] = "allowed"
            except PermissionDenied as refused:
                outcomes[role] = "refused"
                assert refused.role is role
                if access.permissions:
                    assert refused.permission in access.permissions, (role, refused.permission)
                assert _writes(ws) == before, f"{role} was refused but something was written"
            except Exception:
                outcomes[role] = "allowed"
            if name.endswith("workspace.logout"):  # it closed the store
                ws, _ = login(data_dir, "admin", DEMO_PASSWORD)
    finally:
        ws.close()
    expected = {role: "allowed" if access.allows(role) else "refused" for role in Role}
    assert outcomes == expected
