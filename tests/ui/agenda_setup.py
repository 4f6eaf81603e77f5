"""What the agenda UI tests share: a room, two patients, a doctor with ranges, and a
Monday on which the centre opens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import holidays
import pytest

from cms_desktop.services.agenda import common, resources, views, waiting_room
from cms_desktop.services.agenda.common import PARIS, local_now
from cms_desktop.storage.models import Patient, Room


def next_open_monday() -> date:
    """The next Monday that is not a French public holiday (Easter and Whit Mondays move)."""
    today = local_now().date()
    day = today + timedelta(days=7 - today.weekday())
    calendar = holidays.country_holidays("FR")
    while day in calendar:
        day += timedelta(days=7)
    return day


def freeze_agenda_clock(monkeypatch: pytest.MonkeyPatch, local: datetime) -> None:
    """Make the agenda's "now" the Paris wall time ``local``: ``local_now`` (the page's
    today, the waiting times) and the arrival stamp both read ``datetime.now``, so a
    waiting-room test runs the same whatever the hour the suite runs at."""
    moment = local.replace(tzinfo=PARIS)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return moment.astimezone(tz) if tz is not None else local

    monkeypatch.setattr(common, "datetime", Frozen)
    monkeypatch.setattr(waiting_room, "datetime", Frozen)


def seed_agenda(ws, reception, weekdays: Iterable[int]) -> tuple[str, str, list[str]]:
    """(doctor id, room id, patient ids): Dr Moreau in Cabinet 1, 8:00–20:00 on
    ``weekdays``, and the patients MARTINEAU Lucie and ROCHE Inès."""
    with ws.store.write() as s:
        room = Room(name="Cabinet 1", kind="consulting")
        patients = [
            Patient(birth_name=n, first_given_name=g, birth_date=date(1975, 1, 2), sex="F")
            for n, g in (("MARTINEAU", "Lucie"), ("ROCHE", "Inès"))
        ]
        s.add_all([room, *patients])
        s.flush()
        room_id, patient_ids = room.id, [p.id for p in patients]
    # dr.moreau's account came with its agenda column: the tests book into that one.
    column = views.find_practitioner(ws, reception, "dr.moreau")
    assert column is not None
    doctor = resources.update_practitioner(
        ws,
        reception,
        column.id,
        resources.PractitionerDraft(title="Dr", full_name="Claire Moreau", profession="Médecin"),
    )
    for weekday in weekdays:
        resources.add_range(
            ws,
            reception,
            doctor.id,
            resources.RangeDraft(weekday, time(8), time(20), room_id, own_hours=True),
        )
    return doctor.id, room_id, patient_ids
