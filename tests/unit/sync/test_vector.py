from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.sync.vector import VersionVector, missing_ranges

origins = st.sampled_from(["recep", "salle1", "salle2", "salle3"])
vectors = st.dictionaries(origins, st.integers(min_value=0, max_value=10_000)).map(VersionVector)


@given(vectors, vectors)
def test_sending_missing_ranges_brings_them_up_to_the_merge(
    mine: VersionVector, theirs: VersionVector
) -> None:
    ranges = missing_ranges(mine, theirs)
    updated = theirs
    for origin, (first, last) in ranges.items():
        assert first == theirs.seq(origin) + 1
        assert first <= last
        updated = updated.advanced(origin, last)
    assert updated == theirs.merge(mine)
    assert updated.dominates(mine)


@given(vectors, vectors)
def test_merge_is_commutative_and_idempotent(a: VersionVector, b: VersionVector) -> None:
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(b) == a.merge(b)


@given(vectors)
def test_json_round_trip(vector: VersionVector) -> None:
    assert VersionVector.from_json(vector.to_json()) == vector


def test_nothing_missing_when_they_hold_more() -> None:
    assert missing_ranges(VersionVector({"a": 3}), VersionVector({"a": 5, "b": 1})) == {}


def test_zero_means_absent_and_advance_never_goes_back() -> None:
    vector = VersionVector({"a": 0, "b": 4})
    assert "a" not in vector and vector.seq("a") == 0
    assert vector.advanced("b", 2).seq("b") == 4


@pytest.mark.parametrize("bad", ['{"a": -1}', '{"a": "3"}', "[1, 2]", '{"a": true}'])
def test_invalid_json_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        VersionVector.from_json(bad)
