"""The record-access deadlines on the Paris calendar, whatever the workstation's zone: the
cases of issue #16, at 23:30 and 00:30 Paris time, on a PC set to UTC, Paris or Cayenne."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cms_desktop.domain.record_access import access_deadline, is_overdue
from tests.machine_zone import machine_zone  # noqa: F401  (fixture)

PARIS = ZoneInfo("Europe/Paris")
OLD = date(2015, 1, 1)  # information older than 5 years: the 2-month delay


@pytest.mark.parametrize(
    ("received", "oldest", "last_day"),
    [
        # 22:30 UTC: the UTC calendar gave 03/04 00:30 Paris; 8 days after 25/03 is 02/04.
        (datetime(2027, 3, 25, 23, 30, tzinfo=PARIS), None, date(2027, 4, 2)),
        # 28/02 23:30 UTC: the UTC calendar gave 28/04 (shown 29/04); 2 months after 01/03.
        (datetime(2027, 3, 1, 0, 30, tzinfo=PARIS), OLD, date(2027, 5, 1)),
        # 30/06 22:30 UTC: the UTC calendar gave 30/08 (shown 31/08); 2 months after 01/07.
        (datetime(2027, 7, 1, 0, 30, tzinfo=PARIS), OLD, date(2027, 9, 1)),
    ],
)
@pytest.mark.usefixtures("machine_zone")
def test_issue_cases_on_any_machine_zone(
    received: datetime, oldest: date | None, last_day: date
) -> None:
    assert time.tzname[0] in {"UTC", "CET", "-03"}  # the zone really is in force
    for same_moment in (received, received.astimezone(UTC)):
        window = access_deadline(same_moment, oldest)
        assert window.last_day == last_day
        assert window.extended is (oldest is not None)
        end = datetime.combine(last_day, datetime.max.time(), tzinfo=PARIS)
        assert not is_overdue(window, now=end)
        assert is_overdue(window, now=end + timedelta(microseconds=1))
        # The 48 hours are real hours from the moment of receipt.
        assert window.not_before.astimezone(UTC) - same_moment.astimezone(UTC) == timedelta(
            hours=48
        )


@pytest.mark.usefixtures("machine_zone")
def test_five_years_are_counted_from_the_paris_day_of_receipt() -> None:
    # 01/03/2027 00:30 in Paris is still 28/02 in UTC: five years before is 01/03/2022.
    received = datetime(2027, 3, 1, 0, 30, tzinfo=PARIS).astimezone(UTC)
    assert access_deadline(received, date(2022, 2, 28)).extended
    assert not access_deadline(received, date(2022, 3, 1)).extended
