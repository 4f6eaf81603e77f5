"""Rooms replicate like the rest: an added room reaches every station, and two stations
renaming the same room while cut off keep both names (a conflict for a person)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms_desktop.storage.models import Room
from tests.integration.sync.stations import Station, converge, make_stations


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[list[Station]]:
    stations = make_stations(tmp_path, 2)
    yield stations
    for station in stations:
        station.close()


def _rename(station: Station, room_id: str, name: str) -> None:
    with station.store.write() as session:
        room = session.get(Room, room_id)
        assert room is not None
        room.name = name


def _name(station: Station, room_id: str) -> tuple[str, int]:
    with station.store.read() as session:
        room = session.get(Room, room_id)
        assert room is not None
        return room.name, room.sort_order


def test_two_stations_renaming_one_room_keep_both_names(pair: list[Station]) -> None:
    a, b = pair
    with a.store.write() as session:
        room = Room(name="Cabinet 3", kind="consulting", sort_order=3)
        session.add(room)
    converge(pair)
    assert _name(b, room.id) == ("Cabinet 3", 3)
    _rename(a, room.id, "Cabinet dentaire")
    _rename(b, room.id, "Cabinet du Dr Martin")
    converge(pair)
    shown = _name(a, room.id)[0]
    assert shown == _name(b, room.id)[0]
    conflicts = [s.conflicts() for s in pair]
    assert conflicts[0] == conflicts[1]
    ((_, entity, row_id, field, kept, _, resolved),) = conflicts[0]
    assert (entity, row_id, field, resolved) == ("rooms", room.id, "name", None)
    assert {shown, json.loads(kept)} == {"Cabinet dentaire", "Cabinet du Dr Martin"}
