"""Times shown to people are Paris times whatever the workstation's own time zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from cms_desktop.domain.paris_time import paris_date, paris_text
from cms_desktop.sync.service import SyncState, SyncStatus


@pytest.fixture(params=["UTC", "America/New_York", "Europe/Paris"])
def pc_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_a_utc_moment_is_shown_in_paris_time_on_any_pc(pc_zone: str) -> None:
    late_evening_utc = datetime(2026, 12, 5, 23, 24, tzinfo=UTC)
    assert paris_text(late_evening_utc) == "06/12/2026 00:24"
    assert paris_date(late_evening_utc) == date(2026, 12, 6)
    # Summer time: UTC+2. A naive stored moment is UTC.
    assert paris_text(datetime(2026, 7, 1, 8, 0)) == "01/07/2026 10:00"


def test_the_sync_status_bar_says_since_when_in_paris_time(pc_zone: str) -> None:
    status = SyncStatus(
        SyncState.UNREACHABLE, 0, 0, 0, datetime(2026, 12, 5, 23, 24, tzinfo=UTC), (), None
    )
    assert status.text == "Synchronisation : poste injoignable depuis le 06/12/2026 00:24"


def test_up_to_date_says_when_the_last_exchange_was(pc_zone: str) -> None:
    now = datetime.now(UTC)
    today = SyncStatus(SyncState.UP_TO_DATE, 0, 0, 0, None, (), now)
    assert today.text == f"Synchronisation : à jour (dernier échange à {paris_text(now)[-5:]})"
    earlier = datetime(2025, 1, 15, 13, 5, tzinfo=UTC)  # 14:05 in Paris (winter)
    before = SyncStatus(SyncState.UP_TO_DATE, 0, 0, 0, None, (), earlier)
    assert before.text == "Synchronisation : à jour (dernier échange le 15/01/2025 à 14:05)"
    never = SyncStatus(SyncState.UP_TO_DATE, 0, 0, 0, None, (), None)
    assert never.text == "Synchronisation : à jour"
