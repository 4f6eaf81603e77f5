"""Appointment types the centre adds replicate like the rest: the type and its rules
reach every station, and two stations recolouring it while cut off keep both colours
(a conflict for a person)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cms_desktop.services.agenda.common import type_from_row, type_infos
from cms_desktop.storage.models import AppointmentTypeRow
from tests.integration.sync.stations import Station, converge, make_stations


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[list[Station]]:
    stations = make_stations(tmp_path, 2)
    yield stations
    for station in stations:
        station.close()


def _recolour(station: Station, row_id: str, colour: str) -> None:
    with station.store.write() as session:
        row = session.get(AppointmentTypeRow, row_id)
        assert row is not None
        row.colour = colour


def test_an_added_type_and_its_rules_reach_the_other_station(pair: list[Station]) -> None:
    a, b = pair
    with a.store.write() as session:
        row = AppointmentTypeRow(
            code="centre_0123456789abcdef", label="Téléconsultation", default_minutes=15,
            colour="#2e7d32", needs_room=False, in_centre_hours=True,
            in_practitioner_ranges=True, reception_books=False, home_visit=False,
        )  # fmt: skip
        session.add(row)
    converge(pair)
    with b.store.read() as session:
        got = type_infos(session)["centre_0123456789abcdef"]
        stored = session.scalars(
            select(AppointmentTypeRow).where(AppointmentTypeRow.id == row.id)
        ).one()
        assert type_from_row(stored) == got
    assert (got.label, got.minutes, got.needs_room, got.reception_books, got.builtin) == (
        "Téléconsultation",
        15,
        False,
        False,
        False,
    )
    _recolour(a, row.id, "#aa0000")
    _recolour(b, row.id, "#0000aa")
    converge(pair)
    conflicts = [s.conflicts() for s in pair]
    assert conflicts[0] == conflicts[1]
    ((_, entity, row_id, field, kept, _, resolved),) = conflicts[0]
    assert (entity, row_id, field, resolved) == ("appointment_types", row.id, "colour", None)
    with a.store.read() as session:
        shown = type_infos(session)["centre_0123456789abcdef"].colour
    assert {shown, json.loads(kept)} == {"#aa0000", "#0000aa"}
