"""Recurring series of appointments ("every Monday for 6 weeks", "Mon/Wed/Fri for 3 weeks").

Occurrences keep the first appointment's wall-clock time, whatever the daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from cms_desktop.domain.agenda.appointments import (
    AppointmentCandidate,
    BookedAppointment,
    BookingCheck,
    Interval,
    check_booking,
)
from cms_desktop.domain.agenda.errors import InvalidRecurrenceError
from cms_desktop.domain.agenda.hours import CentreCalendar, Weekday
from cms_desktop.domain.agenda.practitioner import PractitionerSchedule

MAX_OCCURRENCES = 366
"""A series longer than this is refused: it is almost surely a typing mistake."""


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class SeriesRule:
    """Repeat every `interval` days or weeks, for `count` occurrences or until `until` included.

    For a weekly rule, `weekdays` picks several days of each selected week (Monday = 0);
    empty means the first appointment's weekday, which must be one of them. The first
    appointment is the first occurrence.
    """

    frequency: Frequency
    interval: int = 1
    count: int | None = None
    until: date | None = None
    weekdays: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise InvalidRecurrenceError("L'intervalle de répétition doit être d'au moins 1")
        if self.count is None and self.until is None:
            raise InvalidRecurrenceError("Indiquez un nombre de rendez-vous ou une date de fin")
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise InvalidRecurrenceError(
                f"Le nombre de rendez-vous doit aller de 1 à {MAX_OCCURRENCES}"
            )
        if self.weekdays and self.frequency != Frequency.WEEKLY:
            raise InvalidRecurrenceError(
                "Le choix des jours ne vaut que pour une série hebdomadaire"
            )
        for weekday in self.weekdays:
            Weekday(weekday)

    @classmethod
    def weekly(cls, weeks: int, *, interval: int = 1) -> SeriesRule:
        """Same weekday every `interval` weeks, `weeks` times: "every Monday for 6 weeks"."""
        return cls(Frequency.WEEKLY, interval=interval, count=weeks)


def _days(first: date, rule: SeriesRule) -> Iterator[date]:
    if rule.frequency == Frequency.DAILY:
        day = first
        while True:
            yield day
            day += timedelta(days=rule.interval)
    weekdays = sorted(rule.weekdays or {first.weekday()})
    monday = first - timedelta(days=first.weekday())
    while True:
        for weekday in weekdays:
            day = monday + timedelta(days=weekday)
            if day >= first:
                yield day
        monday += timedelta(weeks=rule.interval)


def occurrences(first: Interval, rule: SeriesRule) -> list[Interval]:
    """The series' intervals in time order, the first one included."""
    first_day = first.start.date()
    if rule.weekdays and first_day.weekday() not in rule.weekdays:
        raise InvalidRecurrenceError("Le premier rendez-vous doit tomber un des jours choisis")
    if rule.until is not None and rule.until < first_day:
        raise InvalidRecurrenceError("La date de fin précède le premier rendez-vous")
    result: list[Interval] = []
    length = first.length
    for day in _days(first_day, rule):
        if rule.until is not None and day > rule.until:
            break
        if rule.count is not None and len(result) >= rule.count:
            break
        if len(result) >= MAX_OCCURRENCES:
            raise InvalidRecurrenceError(
                f"La série dépasserait {MAX_OCCURRENCES} rendez-vous : raccourcissez-la"
            )
        start = datetime.combine(day, first.start.time())
        result.append(Interval(start, start + length))
    return result


@dataclass(frozen=True)
class PlannedOccurrence:
    """One appointment of a series and what the booking check says about it."""

    candidate: AppointmentCandidate
    check: BookingCheck

    @property
    def ok(self) -> bool:
        return self.check.ok


def plan_series(
    first: AppointmentCandidate,
    rule: SeriesRule,
    *,
    centre: CentreCalendar,
    practitioner_schedule: PractitionerSchedule,
    existing_for_practitioner: Iterable[BookedAppointment],
    existing_for_room: Iterable[BookedAppointment],
    existing_for_patient: Iterable[BookedAppointment],
    now: datetime,
    booked_by_reception: bool = False,
) -> list[PlannedOccurrence]:
    """Every occurrence with its check, so the user sees the clashes (holiday, overlap…) first."""
    for_practitioner = list(existing_for_practitioner)
    for_room = list(existing_for_room)
    for_patient = list(existing_for_patient)
    planned: list[PlannedOccurrence] = []
    for interval in occurrences(first.interval, rule):
        candidate = replace(first, interval=interval)
        check = check_booking(
            candidate,
            centre=centre,
            practitioner_schedule=practitioner_schedule,
            existing_for_practitioner=for_practitioner,
            existing_for_room=for_room,
            existing_for_patient=for_patient,
            now=now,
            booked_by_reception=booked_by_reception,
        )
        planned.append(PlannedOccurrence(candidate, check))
    return planned
