"""Display helpers of the clinical screens: French dates (Paris time) and decimal numbers."""

from __future__ import annotations

from datetime import date, datetime

from cms_desktop.domain.measurements import MeasurementError, parse_decimal
from cms_desktop.domain.paris_time import paris_text
from cms_desktop.services.errors import ValidationFailed


def fmt_date(day: date | None) -> str:
    return "" if day is None else f"{day:%d/%m/%Y}"


def fmt_datetime(moment: datetime) -> str:
    return paris_text(moment)


def fmt_number(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def read_number(text: str, label: str) -> float | None:
    """An optional decimal typed the French way; ValidationFailed in French otherwise."""
    if not text.strip():
        return None
    try:
        return parse_decimal(text, label)
    except MeasurementError as exc:
        raise ValidationFailed(str(exc)) from None
