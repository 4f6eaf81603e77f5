"""Version vectors: for each origin station, the highest contiguous sequence number held."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping


class VersionVector(Mapping[str, int]):
    """Immutable map origin → highest contiguous seq (0, the default, means nothing held)."""

    __slots__ = ("_seqs",)

    def __init__(self, seqs: Mapping[str, int] | None = None) -> None:
        clean: dict[str, int] = {}
        for origin, seq in (seqs or {}).items():
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise ValueError(f"invalid seq for origin {origin!r}")
            if seq:
                clean[str(origin)] = seq
        self._seqs = clean

    def __getitem__(self, origin: str) -> int:
        return self._seqs[origin]

    def __iter__(self) -> Iterator[str]:
        return iter(self._seqs)

    def __len__(self) -> int:
        return len(self._seqs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VersionVector):
            return self._seqs == other._seqs
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._seqs.items()))

    def __repr__(self) -> str:
        return f"VersionVector({self._seqs!r})"

    def seq(self, origin: str) -> int:
        return self._seqs.get(origin, 0)

    def advanced(self, origin: str, seq: int) -> VersionVector:
        """A copy where ``origin`` is at least ``seq`` (never goes back)."""
        return VersionVector({**self._seqs, origin: max(seq, self.seq(origin))})

    def merge(self, other: Mapping[str, int]) -> VersionVector:
        """Pointwise maximum."""
        merged = dict(self._seqs)
        for origin, seq in other.items():
            merged[origin] = max(seq, merged.get(origin, 0))
        return VersionVector(merged)

    def dominates(self, other: Mapping[str, int]) -> bool:
        """True if this vector holds everything ``other`` holds."""
        return all(self.seq(origin) >= seq for origin, seq in other.items())

    def to_json(self) -> str:
        return json.dumps(self._seqs, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> VersionVector:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("version vector must be a JSON object")
        return cls(data)


def missing_ranges(
    mine: Mapping[str, int], theirs: Mapping[str, int]
) -> dict[str, tuple[int, int]]:
    """What I hold that they lack: origin → (from_seq, to_seq), both inclusive."""
    ranges: dict[str, tuple[int, int]] = {}
    for origin, my_seq in mine.items():
        their_seq = theirs.get(origin, 0)
        if my_seq > their_seq:
            ranges[origin] = (their_seq + 1, my_seq)
    return ranges
