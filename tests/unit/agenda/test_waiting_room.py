"""Waiting-room status machine."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.agenda.errors import StatusTransitionError
from cms_desktop.domain.agenda.waiting_room import (
    ALLOWED_TRANSITIONS,
    VisitState,
    VisitStatus,
    waiting_minutes,
)

T0 = datetime(2027, 6, 7, 8, 0)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def test_the_usual_visit_keeps_each_timestamp() -> None:
    state = VisitState.booked(T0)
    state = state.transition(VisitStatus.ARRIVED, minutes(55))
    assert state.waiting_minutes(minutes(70)) == 15
    state = state.transition(VisitStatus.IN_CONSULTATION, minutes(80))
    state = state.transition(VisitStatus.SEEN, minutes(100))
    assert state.status == VisitStatus.SEEN
    assert [c.status for c in state.history] == [
        VisitStatus.BOOKED,
        VisitStatus.ARRIVED,
        VisitStatus.IN_CONSULTATION,
        VisitStatus.SEEN,
    ]
    assert state.arrived_at == minutes(55)
    assert state.called_at == minutes(80)
    # Once called, the wait no longer grows.
    assert state.waiting_minutes(minutes(500)) == 25
    assert state.status.is_final


def test_labels_are_french() -> None:
    assert [s.label for s in VisitStatus] == [
        "Prévu",
        "Arrivé",
        "En consultation",
        "Vu",
        "Absent (non excusé)",
        "Annulé",
    ]


def test_no_show_and_cancellation() -> None:
    assert VisitState.booked(T0).transition(VisitStatus.NO_SHOW, minutes(90)).status == (
        VisitStatus.NO_SHOW
    )
    arrived = VisitState.booked(T0).transition(VisitStatus.ARRIVED, minutes(5))
    cancelled = arrived.transition(VisitStatus.CANCELLED, minutes(10), "  malaise, parti  ")
    assert cancelled.history[-1].reason == "malaise, parti"


def test_cancellation_needs_a_reason() -> None:
    with pytest.raises(StatusTransitionError, match="motif"):
        VisitState.booked(T0).transition(VisitStatus.CANCELLED, minutes(1), "   ")


def test_refused_transition_names_both_statuses() -> None:
    seen = (
        VisitState.booked(T0)
        .transition(VisitStatus.ARRIVED, minutes(1))
        .transition(VisitStatus.IN_CONSULTATION, minutes(2))
        .transition(VisitStatus.SEEN, minutes(3))
    )
    with pytest.raises(StatusTransitionError, match="Passage impossible de « Vu » à « Arrivé »"):
        seen.transition(VisitStatus.ARRIVED, minutes(4))


def test_time_cannot_go_backwards() -> None:
    arrived = VisitState.booked(T0).transition(VisitStatus.ARRIVED, minutes(30))
    with pytest.raises(StatusTransitionError, match="précède"):
        arrived.transition(VisitStatus.IN_CONSULTATION, minutes(20))


@given(st.lists(st.sampled_from(list(VisitStatus)), max_size=6))
def test_only_listed_transitions_are_accepted(path: list[VisitStatus]) -> None:
    state = VisitState.booked(T0)
    for step, target in enumerate(path, start=1):
        allowed = target in ALLOWED_TRANSITIONS[state.status]
        try:
            state = state.transition(target, minutes(step), reason="motif")
        except StatusTransitionError:
            assert not allowed
        else:
            assert allowed and state.status == target


def test_waiting_minutes_floor_and_never_negative() -> None:
    assert waiting_minutes(minutes(0), minutes(0) + timedelta(seconds=119)) == 1
    assert waiting_minutes(minutes(10), minutes(5)) == 0
    assert VisitState.booked(T0).waiting_minutes(minutes(30)) is None
