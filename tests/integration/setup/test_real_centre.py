"""A centre installed with `init` only (no demo code): rooms, a doctor and her ranges made
through the services, then reception books the slot « prochain créneau libre » offered.

The same search and booking on a centre without rooms (or whose room was deactivated):
the search never offers a slot that booking would refuse.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from cms_desktop.cli import main
from cms_desktop.domain.agenda.appointments import AppointmentType, IssueCode
from cms_desktop.domain.permissions import Role
from cms_desktop.domain.rpps import with_check_digit
from cms_desktop.services import users
from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import booking, resources, rooms, views
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace, login
from cms_desktop.storage.datadir import DataDir

ADMIN_PASSWORD = "Valbourg-Cms-2026!"
STAFF_PASSWORD = "Staff-Secret-42"
# A Monday morning well before the ranges' first day: the search starts from here.
NOW = datetime(2030, 3, 4, 8, 0)
DOCTOR_RPPS = with_check_digit("1000123456")


def cli(monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(args)


@dataclass
class RealCentre:
    data_dir: DataDir
    ws: Workspace
    admin: Actor

    def staff(self, login_name: str) -> tuple[Workspace, Actor]:
        return login(self.data_dir, login_name, STAFF_PASSWORD)


def _init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> RealCentre:
    d = str(tmp_path / "centre")
    code = cli(
        monkeypatch,
        ["--data-dir", d, "init", "--centre-name", "CMS de Valbourg", "--admin", "admin",
         "--admin-name", "Jeanne Admin", "--finess", "610000000", *extra, "--password-stdin"],
        ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0
    data_dir = DataDir(Path(d))
    ws, admin = login(data_dir, "admin", ADMIN_PASSWORD)
    return RealCentre(data_dir, ws, admin)


@pytest.fixture
def real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RealCentre]:
    centre = _init(tmp_path, monkeypatch)
    yield centre
    centre.ws.close()


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RealCentre]:
    centre = _init(tmp_path, monkeypatch, "--no-rooms")
    yield centre
    centre.ws.close()


def _doctor_with_ranges(centre: RealCentre, room_id: str | None) -> str:
    """Dr Claire Martin's account (its agenda column comes with it) and her Monday and
    Tuesday ranges, made by the administrator; returns the practitioner id."""
    users.create_user(
        centre.ws,
        centre.admin,
        users.NewUser(
            "dr.martin", "Claire Martin", Role.DOCTOR, STAFF_PASSWORD,
            "Médecin", "Médecine générale", DOCTOR_RPPS, "Dr",
        ),
    )  # fmt: skip
    users.create_user(
        centre.ws,
        centre.admin,
        users.NewUser("accueil", "Sophie Accueil", Role.RECEPTION, STAFF_PASSWORD),
    )
    (column,) = resources.list_practitioners(centre.ws, centre.admin)
    assert (column.display_name, column.rpps) == ("Dr Claire Martin", DOCTOR_RPPS)
    for weekday in (0, 1):
        resources.add_range(
            centre.ws,
            centre.admin,
            column.id,
            resources.RangeDraft(weekday, time(9), time(12), room_id),
        )
    return column.id


def test_init_proposes_the_usual_layout(real: RealCentre) -> None:
    listed = rooms.list_all_rooms(real.ws, real.admin)
    assert [(r.name, r.kind_label, r.sort_order) for r in listed] == [
        *((f"Cabinet {n}", "Cabinet médical", n) for n in range(1, 7)),
        ("Salle de soins", "Infirmerie", 7),
    ]


def test_a_centre_made_with_init_books_the_next_free_slot(real: RealCentre) -> None:
    added = rooms.add_room(real.ws, real.admin, "Cabinet 7", "consulting")
    doctor = _doctor_with_ranges(real, added.id)
    ws, reception = real.staff("accueil")
    try:
        offered = views.next_free_slot(ws, reception, practitioner_id=doctor, now=NOW)
        assert offered, "« prochain créneau libre » offered nothing"
        first = offered[0]
        assert (first.start, first.room_name) == (datetime(2030, 3, 4, 9, 0), "Cabinet 7")
        booked = booking.book(ws, reception, booking.BookingRequest(doctor, first.start), now=NOW)
        assert (booked.start, booked.room_id) == (first.start, added.id)
        again = views.next_free_slot(ws, reception, practitioner_id=doctor, now=NOW)
        assert again[0].start == first.start + timedelta(minutes=20)
    finally:
        ws.close()


def test_without_a_room_the_search_offers_nothing_booking_would_refuse(bare: RealCentre) -> None:
    assert rooms.list_all_rooms(bare.ws, bare.admin) == []
    doctor = _doctor_with_ranges(bare, None)
    ws, reception = bare.staff("accueil")
    try:
        assert views.next_free_slot(ws, reception, practitioner_id=doctor, now=NOW) == []
        at_nine = datetime(2030, 3, 4, 9, 0)
        check = booking.check_request(
            ws, reception, booking.BookingRequest(doctor, at_nine), now=NOW
        )
        assert check.has(IssueCode.ROOM_MISSING)
        # A home visit needs no room: offered, and booking accepts it.
        visits = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=AppointmentType.HOME_VISIT.value,
            now=NOW,
        )  # fmt: skip
        assert visits and visits[0].room_id is None
        booking.book(
            ws,
            reception,
            booking.BookingRequest(doctor, visits[0].start, AppointmentType.HOME_VISIT.value),
            now=NOW,
        )
    finally:
        ws.close()


def test_a_range_whose_room_was_deactivated_offers_no_slot(real: RealCentre) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, cabinet.id)
    rooms.disable_room(real.ws, real.admin, cabinet.id)
    ws, reception = real.staff("accueil")
    try:
        assert views.next_free_slot(ws, reception, practitioner_id=doctor, now=NOW) == []
        check = booking.check_request(
            ws, reception, booking.BookingRequest(doctor, datetime(2030, 3, 4, 9)), now=NOW
        )
        assert check.has(IssueCode.ROOM_MISSING)
    finally:
        ws.close()


def test_bad_room_input_is_refused_in_french_and_saves_nothing(real: RealCentre) -> None:
    before = rooms.list_all_rooms(real.ws, real.admin)
    with pytest.raises(ValidationFailed, match="Une salle « Cabinet 1 » existe déjà"):
        rooms.add_room(real.ws, real.admin, "  cabinet   1 ")
    with pytest.raises(ValidationFailed, match="Une salle « Cabinet 2 » existe déjà"):
        rooms.update_room(real.ws, real.admin, before[0].id, name="CABINET 2")
    with pytest.raises(ValidationFailed, match="Indiquez le nom de la salle"):
        rooms.add_room(real.ws, real.admin, "   ")
    assert rooms.list_all_rooms(real.ws, real.admin) == before


def test_a_range_on_a_deactivated_room_is_refused(real: RealCentre) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, None)
    rooms.disable_room(real.ws, real.admin, cabinet.id)
    with pytest.raises(ValidationFailed, match="La salle « Cabinet 1 » est désactivée"):
        resources.add_range(
            real.ws, real.admin, doctor, resources.RangeDraft(3, time(9), time(12), cabinet.id)
        )
    assert len(resources.list_ranges(real.ws, real.admin, doctor)) == 2


def test_a_wrong_rpps_check_digit_creates_no_account(real: RealCentre) -> None:
    wrong = DOCTOR_RPPS[:-1] + str((int(DOCTOR_RPPS[-1]) + 1) % 10)
    with pytest.raises(ValidationFailed, match=r"clé \(dernier chiffre\) ne correspond pas"):
        users.create_user(
            real.ws,
            real.admin,
            users.NewUser("dr.faux", "Paul Faux", Role.DOCTOR, STAFF_PASSWORD, rpps=wrong),
        )
    assert [u.login for u in users.list_users(real.ws, real.admin)] == ["admin"]
    assert resources.list_practitioners(real.ws, real.admin, include_inactive=True) == []


def test_deactivating_a_room_with_appointments_to_come_says_how_many(real: RealCentre) -> None:
    cabinet, second = rooms.list_all_rooms(real.ws, real.admin)[:2]
    doctor = _doctor_with_ranges(real, cabinet.id)
    ws, reception = real.staff("accueil")
    try:
        for hour in (9, 10):
            booking.book(
                ws, reception, booking.BookingRequest(doctor, datetime(2030, 3, 4, hour)), now=NOW
            )
    finally:
        ws.close()
    with pytest.raises(ValidationFailed, match="a 2 rendez-vous à venir"):
        rooms.disable_room(real.ws, real.admin, cabinet.id, now=NOW)
    assert rooms.list_all_rooms(real.ws, real.admin, now=NOW)[0].active
    done = rooms.disable_room(real.ws, real.admin, cabinet.id, move_to=second.id, now=NOW)
    assert (done.moved_appointments, done.moved_ranges) == (2, 2)
    after = {r.name: r for r in rooms.list_all_rooms(real.ws, real.admin, now=NOW)}
    assert not after["Cabinet 1"].active and after["Cabinet 2"].upcoming == 2
    # The ranges followed: the next slot is in Cabinet 2.
    ws, reception = real.staff("accueil")
    try:
        slot = views.next_free_slot(ws, reception, practitioner_id=doctor, now=NOW)[0]
    finally:
        ws.close()
    assert slot.room_name == "Cabinet 2"


def test_rooms_keep_the_order_given_for_the_agenda(real: RealCentre) -> None:
    care = rooms.list_all_rooms(real.ws, real.admin)[-1]
    assert care.name == "Salle de soins"
    rooms.move_room(real.ws, real.admin, care.id, -6)
    assert [r.name for r in rooms.list_all_rooms(real.ws, real.admin)][:2] == [
        "Salle de soins",
        "Cabinet 1",
    ]


def test_a_retired_type_is_not_offered_nor_booked_and_booked_ones_keep_it(
    real: RealCentre,
) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, cabinet.id)
    long = AppointmentType.LONG_CONSULTATION.value
    ws, reception = real.staff("accueil")
    try:
        kept = booking.book(
            ws, reception, booking.BookingRequest(doctor, datetime(2030, 3, 4, 9), long), now=NOW
        )
        resources.set_appointment_type_retired(real.ws, real.admin, long, True)
        offered = [t.code for t in resources.list_appointment_types(ws, reception)]
        assert long not in offered and AppointmentType.CONSULTATION.value in offered
        every = resources.list_appointment_types(real.ws, real.admin, include_retired=True)
        assert [t.active for t in every if t.code == long] == [False]
        with pytest.raises(ValidationFailed, match="« Consultation longue » n'est plus proposé"):
            booking.book(
                ws, reception, booking.BookingRequest(doctor, datetime(2030, 3, 4, 11), long),
                now=NOW,
            )  # fmt: skip
        day = views.day_agenda(ws, reception, kept.start.date())
        (shown,) = [a for c in day.columns for a in c.appointments]
        assert (shown.id, shown.type_code) == (kept.id, long)
        resources.set_appointment_type_retired(real.ws, real.admin, long, False)
        booking.book(
            ws, reception, booking.BookingRequest(doctor, datetime(2030, 3, 4, 11), long), now=NOW
        )
    finally:
        ws.close()
