"""National cancer-screening programmes: who is eligible, what is due and when.

Rules (FRENCH-RULES.md, "Prevention"), simplified on purpose:
- breast: women aged 50 to 74, mammography every 2 years;
- colorectal: women and men aged 50 to 74, immunological stool test every 2 years;
- cervical: women aged 25 to 65; cytology every 3 years from 25 to 29, then an HPV test every
  5 years from 30. The HAS detail "the first two cytologies one year apart" is left out: the
  clinician decides on it, the reminder only follows the 3-year rhythm.

"Aged 50 to 74" means from the 50th birthday to the eve of the 75th. A person born on
29 February has birthdays on 28 February in common years.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cms_desktop.domain.identity import Sex

__all__ = [
    "SCREENING_LABELS",
    "STATUS_LABELS",
    "ScreeningDue",
    "ScreeningKind",
    "ScreeningStatus",
    "due_screenings",
]


class ScreeningKind(StrEnum):
    BREAST = "breast"
    COLORECTAL = "colorectal"
    CERVICAL = "cervical"


SCREENING_LABELS: dict[ScreeningKind, str] = {
    ScreeningKind.BREAST: "Dépistage du cancer du sein",
    ScreeningKind.COLORECTAL: "Dépistage du cancer colorectal",
    ScreeningKind.CERVICAL: "Dépistage du cancer du col de l'utérus",
}


class ScreeningStatus(StrEnum):
    DUE = "due"  # eligible and no test recorded, or the next test falls today
    OVERDUE = "overdue"  # the next test date has passed
    UP_TO_DATE = "up_to_date"
    NOT_ELIGIBLE = "not_eligible"


STATUS_LABELS: dict[ScreeningStatus, str] = {
    ScreeningStatus.DUE: "À faire",
    ScreeningStatus.OVERDUE: "En retard",
    ScreeningStatus.UP_TO_DATE: "À jour",
    ScreeningStatus.NOT_ELIGIBLE: "Non concerné·e",
}

_MAMMOGRAPHY = "Mammographie"
_STOOL_TEST = "Test immunologique de recherche de sang dans les selles"
_CYTOLOGY = "Examen cytologique (frottis)"
_HPV_TEST = "Test HPV"
_HPV_FROM_AGE = 30


@dataclass(frozen=True)
class ScreeningDue:
    """Where one screening stands for a patient on a given day.

    ``due_date``: next test date (or today when nothing is recorded); for a person not yet
    eligible, the day eligibility starts; None when there is nothing more to plan.
    """

    kind: ScreeningKind
    status: ScreeningStatus
    due_date: date | None
    test_label: str

    @property
    def label(self) -> str:
        return SCREENING_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class _Programme:
    kind: ScreeningKind
    sexes: frozenset[Sex]
    from_age: int
    until_age: int  # inclusive: eligible until the eve of the next birthday


_PROGRAMMES = (
    _Programme(ScreeningKind.BREAST, frozenset({Sex.FEMALE}), 50, 74),
    _Programme(ScreeningKind.COLORECTAL, frozenset(Sex), 50, 74),
    _Programme(ScreeningKind.CERVICAL, frozenset({Sex.FEMALE}), 25, 65),
)


def _add_years(day: date, years: int) -> date:
    year = day.year + years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def _age_on(birth_date: date, day: date) -> int:
    age = day.year - birth_date.year
    return age if _add_years(birth_date, age) <= day else age - 1


def _interval_years(kind: ScreeningKind, age_at_test: int) -> int:
    if kind is ScreeningKind.CERVICAL:
        return 3 if age_at_test < _HPV_FROM_AGE else 5
    return 2


def _test_label(kind: ScreeningKind, age_at_test: int) -> str:
    if kind is ScreeningKind.BREAST:
        return _MAMMOGRAPHY
    if kind is ScreeningKind.COLORECTAL:
        return _STOOL_TEST
    return _CYTOLOGY if age_at_test < _HPV_FROM_AGE else _HPV_TEST


def _assess(
    programme: _Programme, sex: Sex, birth_date: date, last_done: date | None, today: date
) -> ScreeningDue:
    kind = programme.kind
    start = _add_years(birth_date, programme.from_age)
    end = _add_years(birth_date, programme.until_age + 1)  # first day no longer eligible
    if sex not in programme.sexes or today >= end:
        return ScreeningDue(kind, ScreeningStatus.NOT_ELIGIBLE, None, _test_label(kind, 0))
    if today < start:
        return ScreeningDue(
            kind, ScreeningStatus.NOT_ELIGIBLE, start, _test_label(kind, programme.from_age)
        )
    if last_done is None:
        return ScreeningDue(
            kind, ScreeningStatus.DUE, today, _test_label(kind, _age_on(birth_date, today))
        )
    next_date = _add_years(last_done, _interval_years(kind, _age_on(birth_date, last_done)))
    label = _test_label(kind, _age_on(birth_date, max(next_date, today)))
    if next_date >= end:
        # The next round would fall after the programme ends: nothing more to plan.
        return ScreeningDue(kind, ScreeningStatus.UP_TO_DATE, None, label)
    if today < next_date:
        status = ScreeningStatus.UP_TO_DATE
    else:
        status = ScreeningStatus.DUE if today == next_date else ScreeningStatus.OVERDUE
    return ScreeningDue(kind, status, next_date, label)


def due_screenings(
    sex: Sex,
    birth_date: date,
    last_done: Mapping[ScreeningKind, date | None],
    today: date,
) -> list[ScreeningDue]:
    """Status of every national screening programme for this patient, in a fixed order.

    ``last_done`` holds the date of the last recorded test per programme (missing = none).
    A patient of undetermined sex is eligible for the programmes open to both sexes only.
    """
    return [
        _assess(programme, sex, birth_date, last_done.get(programme.kind), today)
        for programme in _PROGRAMMES
    ]
