"""When a backup is due, which old backups to keep, and what the status line says.

Rotation keeps, as restic's ``forget --keep-daily/--keep-weekly/--keep-monthly`` does, the
newest backup of each of the last N days, ISO weeks and months that have one; a backup
kept by any rule stays. Times are compared in Europe/Paris (the centre's days).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from cms_desktop.domain.paris_time import PARIS

OVERDUE_AFTER = timedelta(hours=48)
TEST_RESTORE_EVERY = timedelta(days=30)


@dataclass(frozen=True)
class Retention:
    daily: int = 7
    weekly: int = 5
    monthly: int = 12

    def __post_init__(self) -> None:
        if min(self.daily, self.weekly, self.monthly) < 0:
            raise ValueError("retention counts must be >= 0")
        if self.daily + self.weekly + self.monthly == 0:
            raise ValueError("at least one backup must be kept")


@dataclass(frozen=True)
class Schedule:
    """A station's backup settings (kept per station, never replicated)."""

    targets: tuple[str, ...] = ()
    daily_at: time = time(20, 0)
    at_last_logout: bool = True
    retention: Retention = field(default_factory=Retention)


def to_keep(stamps: Iterable[datetime], retention: Retention) -> set[datetime]:
    """The backups (by their UTC creation time) that rotation keeps."""
    ordered = sorted(set(stamps), reverse=True)
    keep: set[datetime] = set(ordered[:1])  # the newest is never rotated away

    def rule(count: int, bucket: Callable[[datetime], Hashable]) -> None:
        seen: list[Hashable] = []
        for stamp in ordered:
            key = bucket(stamp.astimezone(PARIS))
            if key in seen:
                continue
            if len(seen) == count:
                return
            seen.append(key)
            keep.add(stamp)

    rule(retention.daily, lambda d: d.date())
    rule(retention.weekly, lambda d: d.isocalendar()[:2])
    rule(retention.monthly, lambda d: (d.year, d.month))
    return keep


def due(now: datetime, last_good: datetime | None, daily_at: time) -> bool:
    """Is the daily backup due? Yes once today's set time (Paris) has passed and none was
    taken since; a PC switched off at that time backs up as soon as it runs again."""
    local = now.astimezone(PARIS)
    slot = datetime.combine(local.date(), daily_at, tzinfo=PARIS)
    if local < slot:
        slot -= timedelta(days=1)
    return last_good is None or last_good < slot


def overdue(now: datetime, last_good: datetime | None) -> bool:
    return last_good is None or now - last_good > OVERDUE_AFTER


def trial_restore_due(now: datetime, last_test: datetime | None) -> bool:
    return last_test is None or now - last_test >= TEST_RESTORE_EVERY
