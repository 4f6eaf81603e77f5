"""Waiting-room status of an appointment: a small status machine that keeps each timestamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cms_desktop.domain.agenda.errors import StatusTransitionError


class VisitStatus(StrEnum):
    """Where the patient of an appointment stands; the value is the stored code."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    IN_CONSULTATION = "in_consultation"
    SEEN = "seen"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_final(self) -> bool:
        return not ALLOWED_TRANSITIONS[self]


_LABELS = {
    VisitStatus.BOOKED: "Prévu",
    VisitStatus.ARRIVED: "Arrivé",
    VisitStatus.IN_CONSULTATION: "En consultation",
    VisitStatus.SEEN: "Vu",
    VisitStatus.NO_SHOW: "Absent (non excusé)",
    VisitStatus.CANCELLED: "Annulé",
}

ALLOWED_TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.BOOKED: frozenset(
        {VisitStatus.ARRIVED, VisitStatus.NO_SHOW, VisitStatus.CANCELLED}
    ),
    VisitStatus.ARRIVED: frozenset({VisitStatus.IN_CONSULTATION, VisitStatus.CANCELLED}),
    VisitStatus.IN_CONSULTATION: frozenset({VisitStatus.SEEN}),
    VisitStatus.SEEN: frozenset(),
    VisitStatus.NO_SHOW: frozenset(),
    VisitStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class StatusChange:
    """One step of the visit: the new status, when, and why (required for a cancellation)."""

    status: VisitStatus
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class VisitState:
    """The current status and the full history of changes, oldest first."""

    history: tuple[StatusChange, ...]

    @classmethod
    def booked(cls, at: datetime) -> VisitState:
        return cls((StatusChange(VisitStatus.BOOKED, at),))

    @property
    def status(self) -> VisitStatus:
        return self.history[-1].status

    def changed_at(self, status: VisitStatus) -> datetime | None:
        """When the visit entered this status, or None if it never did."""
        return next((c.at for c in self.history if c.status == status), None)

    @property
    def arrived_at(self) -> datetime | None:
        return self.changed_at(VisitStatus.ARRIVED)

    @property
    def called_at(self) -> datetime | None:
        return self.changed_at(VisitStatus.IN_CONSULTATION)

    def transition(self, to: VisitStatus, at: datetime, reason: str | None = None) -> VisitState:
        """The state after the change; raises StatusTransitionError when the change is refused."""
        current = self.status
        if to not in ALLOWED_TRANSITIONS[current]:
            raise StatusTransitionError(
                f"Passage impossible de « {current.label} » à « {to.label} »"
            )
        if at < self.history[-1].at:
            raise StatusTransitionError("L'heure indiquée précède le changement précédent")
        clean_reason = reason.strip() if reason else None
        if to == VisitStatus.CANCELLED and not clean_reason:
            raise StatusTransitionError("Indiquez le motif de l'annulation")
        return VisitState((*self.history, StatusChange(to, at, clean_reason or None)))

    def waiting_minutes(self, now: datetime) -> int | None:
        """Minutes spent in the waiting room so far (or until called); None if not arrived."""
        arrived = self.arrived_at
        if arrived is None:
            return None
        return waiting_minutes(arrived, self.called_at or now)


def waiting_minutes(arrived_at: datetime, until: datetime) -> int:
    """Whole minutes between arrival and `until` (the call, or now); never negative."""
    return max(0, int((until - arrived_at).total_seconds() // 60))
