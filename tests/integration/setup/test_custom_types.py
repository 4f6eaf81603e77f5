"""Appointment types the centre adds (issue #14, item 4), on a centre made with `init`:
created by the administrator, booked end to end by reception with the rules their flags
say, shown with their label and colour, refused in French on bad input, audited and
replicated; the built-in types go on working."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cms_desktop.domain.agenda.appointments import AppointmentType, IssueCode
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services.agenda import booking, resources, rooms, views
from cms_desktop.services.agenda.common import TypeInfo
from cms_desktop.services.agenda.resources import NewAppointmentType, TypeChange
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models import AppointmentTypeRow, AuditEntry, OpLogRow
from tests.integration.setup.test_real_centre import NOW, RealCentre, _doctor_with_ranges, _init

MONDAY_9 = datetime(2030, 3, 4, 9, 0)


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


def _add(centre: RealCentre, **changes: object) -> TypeInfo:
    fields: dict[str, object] = {
        "label": "Entretien addictologie",
        "minutes": 45,
        "colour": "#C0504D",
    }
    fields.update(changes)
    return resources.add_appointment_type(
        centre.ws,
        centre.admin,
        NewAppointmentType(**fields),  # type: ignore[arg-type]
    )


def _offered(ws, actor) -> dict[str, TypeInfo]:
    return {t.code: t for t in resources.list_appointment_types(ws, actor)}


def test_a_type_added_by_the_centre_is_booked_from_the_next_free_slot(real: RealCentre) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, cabinet.id)
    added = _add(real)
    assert (added.label, added.minutes, added.colour, added.active, added.builtin) == (
        "Entretien addictologie",
        45,
        "#c0504d",
        True,
        False,
    )
    ws, reception = real.staff("accueil")
    try:
        offered = resources.list_appointment_types(ws, reception)
        assert offered[-1].code == added.code  # after the built-in ones
        first = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=added.code, now=NOW
        )[0]
        assert (first.start, first.end - first.start) == (MONDAY_9, timedelta(minutes=45))
        assert first.room_name == "Cabinet 1"  # the range's room: the type needs one
        made = booking.book(
            ws, reception, booking.BookingRequest(doctor, first.start, added.code), now=NOW
        )
        assert (made.type_code, made.type_label, made.colour, made.room_id) == (
            added.code,
            "Entretien addictologie",
            "#c0504d",
            cabinet.id,
        )
        day = views.day_agenda(ws, reception, MONDAY_9.date())
        (shown,) = [a for c in day.columns for a in c.appointments]
        assert (shown.type_label, shown.colour, shown.minutes) == (
            "Entretien addictologie",
            "#c0504d",
            45,
        )
        again = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=added.code, now=NOW
        )
        assert again[0].start == MONDAY_9 + timedelta(minutes=45)
    finally:
        ws.close()


def test_a_type_without_room_is_offered_and_booked_on_a_centre_without_rooms(
    bare: RealCentre,
) -> None:
    doctor = _doctor_with_ranges(bare, None)
    phone = _add(bare, label="Téléconsultation", minutes=15, needs_room=False)
    needs = _add(bare, label="Bilan", minutes=30, colour="#336699")
    ws, reception = bare.staff("accueil")
    try:
        assert (
            views.next_free_slot(
                ws, reception, practitioner_id=doctor, type_code=needs.code, now=NOW
            )
            == []
        )
        slot = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=phone.code, now=NOW
        )[0]
        assert (slot.start, slot.room_id) == (MONDAY_9, None)
        booking.book(ws, reception, booking.BookingRequest(doctor, slot.start, phone.code), now=NOW)
    finally:
        ws.close()


def test_the_flags_of_an_added_type_are_the_rules_booking_follows(real: RealCentre) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, cabinet.id)
    private = _add(real, label="Entretien médecin", reception_books=False)
    same_day = _add(real, label="Urgence du jour", minutes=15, unscheduled_care=True)
    anytime = _add(
        real, label="Astreinte", minutes=60, needs_room=False, in_centre_hours=False,
        in_practitioner_ranges=False,
    )  # fmt: skip
    ws, reception = real.staff("accueil")
    dr_ws, dr = real.staff("dr.martin")
    try:
        # Kept from reception: not offered, refused by the check, no slot searched.
        assert private.code not in _offered(ws, reception)
        assert private.code in _offered(dr_ws, dr)
        req = booking.BookingRequest(doctor, MONDAY_9, private.code)
        assert booking.check_request(ws, reception, req, now=NOW).has(IssueCode.NOT_FOR_RECEPTION)
        with pytest.raises(ValidationFailed, match="n'est pas pris par l'accueil"):
            views.next_free_slot(ws, reception, type_code=private.code, now=NOW)
        booking.book(dr_ws, dr, req, now=NOW)
        # Unscheduled care: reception books it on the day itself only.
        later = booking.BookingRequest(doctor, MONDAY_9 + timedelta(days=1), same_day.code)
        check = booking.check_request(ws, reception, later, now=NOW)
        assert check.has(IssueCode.UNSCHEDULED_NOT_RELEASED)
        assert booking.check_request(dr_ws, dr, later, now=NOW).ok
        # Outside the ranges and the opening hours (a Monday evening), no room: accepted.
        evening = booking.BookingRequest(doctor, datetime(2030, 3, 4, 20), anytime.code)
        assert booking.check_request(dr_ws, dr, evening, now=NOW).ok
        consultation = booking.BookingRequest(doctor, datetime(2030, 3, 4, 20))
        assert booking.check_request(dr_ws, dr, consultation, now=NOW).has(
            IssueCode.OUTSIDE_OPENING_HOURS
        )
    finally:
        ws.close()
        dr_ws.close()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": "   "}, "Donnez un libellé"),
        ({"label": " consultation "}, "Un type de rendez-vous s'appelle déjà « Consultation »"),
        ({"minutes": 4}, "de 5 à 480 minutes"),
        ({"minutes": 481}, "de 5 à 480 minutes"),
        ({"colour": "rouge"}, "au format #RRVVBB"),
        ({"colour": "#12345"}, "au format #RRVVBB"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_saved(
    real: RealCentre, changes: dict[str, object], message: str
) -> None:
    before = resources.list_appointment_types(real.ws, real.admin, include_retired=True)
    with pytest.raises(ValidationFailed, match=message):
        _add(real, **changes)
    assert resources.list_appointment_types(real.ws, real.admin, include_retired=True) == before


def test_duplicates_are_refused_on_renaming_too_retired_types_included(real: RealCentre) -> None:
    added = _add(real)
    resources.set_appointment_type_retired(real.ws, real.admin, added.code, True)
    with pytest.raises(ValidationFailed, match="s'appelle déjà « Entretien addictologie »"):
        _add(real, label="entretien  ADDICTOLOGIE")
    with pytest.raises(ValidationFailed, match="s'appelle déjà"):
        resources.update_appointment_types(
            real.ws,
            real.admin,
            [
                TypeChange(
                    AppointmentType.VACCINATION.value, "Entretien addictologie", 10, "#000000"
                )
            ],
        )
    # Its own label again, with another length and colour: accepted.
    resources.update_appointment_types(
        real.ws, real.admin, [TypeChange(added.code, "Entretien addictologie", 50, "#00AA00")]
    )
    every = {t.code: t for t in resources.list_appointment_types(real.ws, real.admin, True)}
    assert (every[added.code].minutes, every[added.code].colour, every[added.code].active) == (
        50,
        "#00aa00",
        False,
    )
    assert every[AppointmentType.VACCINATION.value].label == "Vaccination"


def test_adding_is_the_administrators_audited_and_replicated(real: RealCentre) -> None:
    _doctor_with_ranges(real, None)
    dr_ws, dr = real.staff("dr.martin")
    try:
        with pytest.raises(PermissionDenied):
            resources.add_appointment_type(
                dr_ws, dr, NewAppointmentType("Entretien", 30, "#123456")
            )
    finally:
        dr_ws.close()
    added = _add(real)
    with real.ws.store.read() as s:
        row_id = s.scalars(
            select(AppointmentTypeRow.id).where(AppointmentTypeRow.code == added.code)
        ).one()
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.target_id == row_id)))
        ops = s.scalar(
            select(func.count()).where(
                OpLogRow.row_id == row_id, OpLogRow.entity == "appointment_types"
            )
        )
    assert actions == ["appointment_type_added"]
    assert ops == 1  # in the op log: it syncs like the other settings


def test_a_retired_added_type_is_refused_and_booked_ones_keep_it(real: RealCentre) -> None:
    cabinet = rooms.list_all_rooms(real.ws, real.admin)[0]
    doctor = _doctor_with_ranges(real, cabinet.id)
    added = _add(real)
    ws, reception = real.staff("accueil")
    try:
        kept = booking.book(
            ws, reception, booking.BookingRequest(doctor, MONDAY_9, added.code), now=NOW
        )
        resources.set_appointment_type_retired(real.ws, real.admin, added.code, True)
        assert added.code not in _offered(ws, reception)
        with pytest.raises(ValidationFailed, match="n'est plus proposé"):
            booking.book(
                ws, reception,
                booking.BookingRequest(doctor, datetime(2030, 3, 4, 11), added.code), now=NOW,
            )  # fmt: skip
        day = views.day_agenda(ws, reception, MONDAY_9.date())
        (shown,) = [a for c in day.columns for a in c.appointments]
        assert (shown.id, shown.type_label) == (kept.id, "Entretien addictologie")
    finally:
        ws.close()


def test_a_type_away_from_the_centre_is_offered_outside_opening_hours(bare: RealCentre) -> None:
    """Neither a room nor the centre's hours (like a home visit): the search offers the
    practitioner's evening range; a room-less type bound to the hours gets nothing there."""
    doctor = _doctor_with_ranges(bare, None)
    resources.add_range(
        bare.ws, bare.admin, doctor, resources.RangeDraft(2, time(20), time(22), None)
    )
    away = _add(bare, label="Visite en EHPAD", needs_room=False, in_centre_hours=False)
    phone = _add(bare, label="Téléconsultation", minutes=15, needs_room=False)
    wednesday = datetime(2030, 3, 6, 0, 0)
    ws, reception = bare.staff("accueil")
    try:
        slot = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=away.code, from_dt=wednesday, now=NOW
        )[0]
        assert slot.start == datetime(2030, 3, 6, 20, 0)
        booking.book(ws, reception, booking.BookingRequest(doctor, slot.start, away.code), now=NOW)
        evening = views.next_free_slot(
            ws, reception, practitioner_id=doctor, type_code=phone.code, from_dt=wednesday,
            now=NOW, days=1,
        )  # fmt: skip
        assert evening == []
    finally:
        ws.close()
