"""Exceptions raised by the agenda rules; their str() is a French message for the user."""

from __future__ import annotations


class AgendaError(ValueError):
    """Base class of the agenda rule errors."""


class InvalidRangeError(AgendaError):
    """A time range, interval or date range whose end does not follow its start."""


class OverlappingRangesError(AgendaError):
    """Two opening or consulting ranges that would cover the same time."""


class UnknownSubdivisionError(AgendaError):
    """A French subdivision the public-holiday calendar does not know."""


class InvalidRecurrenceError(AgendaError):
    """A recurring-series rule that cannot produce a finite, sensible list of dates."""


class StatusTransitionError(AgendaError):
    """A waiting-room status change the status machine refuses."""
