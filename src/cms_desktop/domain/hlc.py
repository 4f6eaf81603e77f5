"""Hybrid logical clock (Kulkarni et al., 2014) used to version replicated rows.

A timestamp never goes backwards on a station, even when the wall clock does, and it
orders causally related events across stations. Encoded as a fixed-width string so that
string order equals timestamp order (stored and compared as text in the database).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_FUTURE_SKEW_MS = 5 * 60 * 1000


class ClockSkewError(Exception):
    """A remote timestamp is too far ahead of the local wall clock to be trusted."""

    def __init__(self, remote_ms: int, local_ms: int) -> None:
        self.remote_ms = remote_ms
        self.local_ms = local_ms
        minutes = (remote_ms - local_ms) // 60000
        super().__init__(
            f"Horloge distante en avance de {minutes} min : modifications mises en attente."
        )


@dataclass(frozen=True, order=True)
class HlcTimestamp:
    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.wall_ms:015d}.{self.counter:06d}.{self.node}"

    @classmethod
    def decode(cls, text: str) -> HlcTimestamp:
        wall, counter, node = text.split(".", 2)
        return cls(int(wall), int(counter), node)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridLogicalClock:
    """Issues monotonic timestamps for one station (``node``)."""

    def __init__(
        self,
        node: str,
        last: HlcTimestamp | None = None,
        now_ms: Callable[[], int] = wall_clock_ms,
        max_future_skew_ms: int = MAX_FUTURE_SKEW_MS,
    ) -> None:
        self.node = node
        self._now_ms = now_ms
        self._max_skew = max_future_skew_ms
        self._wall = last.wall_ms if last else 0
        self._counter = last.counter if last else 0

    @property
    def last(self) -> HlcTimestamp:
        return HlcTimestamp(self._wall, self._counter, self.node)

    def now(self) -> HlcTimestamp:
        """Timestamp for a local event.

        Bounded drift: if this clock is more than the tolerated skew ahead of the wall
        clock (the wall clock was a day ahead and has been set right, or a timestamp from
        that time was read back), it comes back to the wall clock at once instead of
        staying ahead until the wall clock catches up: peers hold entries stamped that far
        ahead, so every change typed here would wait there for a day. Order among this
        station's own entries is kept by their sequence numbers, not by their stamps.
        """
        physical = self._now_ms()
        if self._wall > physical + self._max_skew:
            self._wall, self._counter = physical, 0
            return self.last
        if physical > self._wall:
            self._wall, self._counter = physical, 0
        else:
            self._counter += 1
        return self.last

    def now_after(self, seen: HlcTimestamp) -> HlcTimestamp:
        """Timestamp for a local edit of a row whose version was ``seen``: always above it
        (the merge orders a row's history by version, a base before what was based on it).
        Within the tolerated skew the clock follows ``seen``; beyond it (a version stamped
        while some clock was a day ahead) only this stamp goes just above it and the clock
        stays near the wall clock (bounded drift, see ``now``)."""
        stamp = self.now()
        if stamp > seen:
            return stamp
        if seen.wall_ms <= self._now_ms() + self._max_skew:
            self._wall, self._counter = seen.wall_ms, seen.counter
            return self.now()
        return HlcTimestamp(seen.wall_ms, seen.counter + 1, self.node)

    def check(self, remote: HlcTimestamp) -> None:
        """Raise ClockSkewError if ``remote`` is too far in the future."""
        physical = self._now_ms()
        if remote.wall_ms > physical + self._max_skew:
            raise ClockSkewError(remote.wall_ms, physical)

    def observe(self, remote: HlcTimestamp) -> HlcTimestamp:
        """Merge a received timestamp so later local events order after it."""
        self.check(remote)
        physical = self._now_ms()
        wall = max(self._wall, remote.wall_ms, physical)
        if wall == self._wall and wall == remote.wall_ms:
            counter = max(self._counter, remote.counter) + 1
        elif wall == self._wall:
            counter = self._counter + 1
        elif wall == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        self._wall, self._counter = wall, counter
        return self.last
