"""Issue #6, done-when: two cut-off stations each book the same slot and write a note; after
the cut heals both appointments exist everywhere, the double booking shows on both stations,
and the note written on the consulting-room PC is at reception."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from cms_desktop.services.agenda.overlaps import find_overlaps
from cms_desktop.storage.models import Appointment, Consultation, Patient, Practitioner, Room, User
from tests.integration.sync.stations import Station, converge, make_stations

MONDAY_9 = dt.datetime(2030, 3, 4, 8, 0, tzinfo=dt.UTC)


def _book(station: Station, ids: dict[str, str], patient: str, minutes_after: int) -> str:
    start = MONDAY_9 + dt.timedelta(minutes=minutes_after)
    with station.store.write() as session:
        appointment = Appointment(
            practitioner_id=ids["practitioner"],
            room_id=ids["room"],
            patient_id=ids[patient],
            type_code="consultation",
            start_at=start,
            end_at=start + dt.timedelta(minutes=20),
            booked_at=MONDAY_9 - dt.timedelta(days=3),
            provisional=True,
        )
        session.add(appointment)
    return appointment.id


def test_double_booking_and_note_made_while_cut_off(tmp_path: Path) -> None:
    reception, room_pc = make_stations(tmp_path, 2)
    with reception.store.write() as session:
        doctor = User(login="dr.sync", full_name="Dr Sync", role="doctor", password_hash="x")
        room = Room(name="Cabinet 1", kind="consulting")
        practitioner = Practitioner(full_name="Dr Sync", profession="Médecin")
        patients = [
            Patient(birth_name=n, first_given_name="Lou", birth_date=dt.date(1980, 1, 1), sex="F")
            for n in ("AUBRY", "BESSON")
        ]
        session.add_all([doctor, room, practitioner, *patients])
        session.flush()
        ids = {
            "doctor": doctor.id,
            "room": room.id,
            "practitioner": practitioner.id,
            "a": patients[0].id,
            "b": patients[1].id,
        }
    converge([reception, room_pc])

    # The network is cut: each station books the same practitioner at overlapping times.
    first = _book(reception, ids, "a", 0)
    second = _book(room_pc, ids, "b", 10)
    with room_pc.store.write() as session:
        note = Consultation(
            patient_id=ids["b"],
            author_id=ids["doctor"],
            seen_at=MONDAY_9,
            signed_at=MONDAY_9,
            reason="Écrit pendant la coupure",
        )
        session.add(note)
    for station in (reception, room_pc):
        with station.store.read() as session:
            assert find_overlaps(session, MONDAY_9, MONDAY_9 + dt.timedelta(hours=1)) == []

    converge([reception, room_pc])

    for station in (reception, room_pc):
        with station.store.read() as session:
            found = find_overlaps(session, MONDAY_9, MONDAY_9 + dt.timedelta(hours=1))
            kept = session.scalars(
                select(Appointment.id).where(Appointment.deleted.is_(False))
            ).all()
            reasons = session.scalars(select(Consultation.reason)).all()
        assert {(o.first_id, o.second_id) for o in found} == {(first, second)}
        assert sorted(kept) == sorted([first, second])
        assert reasons == ["Écrit pendant la coupure"]
    assert note.id
    for station in (reception, room_pc):
        station.close()
