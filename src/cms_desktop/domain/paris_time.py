"""Times shown to people: Europe/Paris, whatever the workstation's own time zone.

Stored moments are UTC (aware, or naive as SQLite hands some back). Formatting them with
``astimezone()`` used the PC's zone: a PC left on UTC showed a sync contact at 23:24 and
the note written at that moment at 00:24. Every screen, printout and CLI line uses these.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def in_paris(moment: datetime) -> datetime:
    """``moment`` (naive means UTC) as an aware Europe/Paris datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def paris_text(moment: datetime) -> str:
    """dd/mm/yyyy HH:MM, Paris time."""
    return in_paris(moment).strftime("%d/%m/%Y %H:%M")


def paris_date(moment: datetime) -> date:
    return in_paris(moment).date()


def paris_today() -> date:
    return datetime.now(PARIS).date()
