"""Rotation, daily schedule and overdue rules of the backups (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from cms_desktop.domain.backup_policy import Retention, due, overdue, to_keep, trial_restore_due


def _daily(days: int, start: datetime) -> list[datetime]:
    return [start - timedelta(days=n) for n in range(days)]


def test_rotation_keeps_seven_days_five_weeks_twelve_months() -> None:
    newest = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)  # a Sunday
    stamps = _daily(800, newest)
    keep = to_keep(stamps, Retention())
    days = sorted({k.date() for k in keep}, reverse=True)
    # The 7 newest days, then one per ISO week back to 5 weeks, then one per month.
    assert days[:7] == [newest.date() - timedelta(days=n) for n in range(7)]
    weeks = {k.isocalendar()[:2] for k in keep}
    assert len(weeks) >= 5
    months = {(k.year, k.month) for k in keep}
    assert len(months) == 12
    assert len(keep) <= 7 + 5 + 12
    assert min(keep) > newest - timedelta(days=366)


def test_rotation_keeps_the_newest_of_each_day() -> None:
    day = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    stamps = [day, day + timedelta(hours=3), day + timedelta(hours=9)]
    assert to_keep(stamps, Retention(1, 0, 0)) == {day + timedelta(hours=9)}


def test_days_are_paris_days() -> None:
    # 23:30 UTC on 31/03 is already 01/04 in Paris: another day than 22:00 UTC on 31/03.
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    early = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
    assert to_keep([late, early], Retention(2, 0, 0)) == {late, early}


def test_the_newest_is_always_kept_and_nothing_is_refused() -> None:
    one = datetime(2026, 1, 1, tzinfo=UTC)
    assert to_keep([one], Retention(0, 0, 1)) == {one}
    assert to_keep([], Retention()) == set()
    with pytest.raises(ValueError):
        Retention(0, 0, 0)
    with pytest.raises(ValueError):
        Retention(-1, 5, 5)


def test_daily_backup_due_after_the_set_time_paris() -> None:
    at = time(20, 0)
    # 18:30 UTC = 19:30 Paris in winter: today's 20:00 has not come; yesterday's was done.
    now = datetime(2026, 1, 15, 18, 30, tzinfo=UTC)
    assert not due(now, datetime(2026, 1, 14, 19, 5, tzinfo=UTC), at)
    assert due(now, datetime(2026, 1, 14, 18, 59, tzinfo=UTC), at)  # 19:59 Paris: before
    later = datetime(2026, 1, 15, 19, 1, tzinfo=UTC)  # 20:01 Paris
    assert due(later, datetime(2026, 1, 15, 8, 0, tzinfo=UTC), at)
    assert not due(later, datetime(2026, 1, 15, 19, 0, 30, tzinfo=UTC), at)
    assert due(now, None, at)


def test_overdue_after_48_hours_and_monthly_test() -> None:
    now = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    assert not overdue(now, now - timedelta(hours=47, minutes=59))
    assert overdue(now, now - timedelta(hours=48, minutes=1))
    assert overdue(now, None)
    assert trial_restore_due(now, None)
    assert not trial_restore_due(now, now - timedelta(days=29))
    assert trial_restore_due(now, now - timedelta(days=30))
