"""A station told that its own clock is off, from the clocks its peers announce."""

from __future__ import annotations

from cms_desktop.sync.service import SyncState, SyncStatus, own_clock_off_ms

HOUR = 3_600_000
MINUTE = 60_000


def test_off_only_when_every_peer_disagrees_the_same_way() -> None:
    # Offsets are each peer's clock minus ours.
    assert own_clock_off_ms([]) is None
    assert own_clock_off_ms([-2 * HOUR]) == 2 * HOUR  # everyone is 2 h behind us: we are ahead
    assert own_clock_off_ms([-2 * HOUR, -1 * HOUR]) == HOUR  # the smallest gap is said
    assert own_clock_off_ms([10 * MINUTE, 3 * HOUR]) == -10 * MINUTE  # we are behind
    assert own_clock_off_ms([-2 * HOUR, 0]) is None  # one wrong peer does not make us wrong
    assert own_clock_off_ms([-4 * MINUTE]) is None  # within the tolerated skew (5 min)


def _status(off: int, peers: int) -> SyncStatus:
    return SyncStatus(SyncState.OWN_CLOCK, 0, 0, 0, None, (), None, (), off, peers)


def test_the_words_say_what_to_do() -> None:
    assert _status(2 * HOUR + 5 * MINUTE, 3).text == (
        "Synchronisation : l'horloge de ce poste est en avance de 2 h 05 sur les autres "
        "postes, réglez sa date et son heure"
    )
    assert _status(-12 * MINUTE, 2).text == (
        "Synchronisation : l'horloge de ce poste est en retard de 12 min sur les autres "
        "postes, réglez sa date et son heure"
    )
    # With one peer, which clock is wrong cannot be told: both are to be checked.
    assert _status(3 * 24 * HOUR, 1).text == (
        "Synchronisation : les horloges de ce poste et de l'autre poste diffèrent de 3 jours, "
        "vérifiez leur date et leur heure"
    )
