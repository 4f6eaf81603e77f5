"""Batches reuse the stored canonical values text; older, non-canonical rows are re-encoded."""

from __future__ import annotations

import dataclasses
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.oplog import GENESIS_HASH, OpEntry, OpKind, canonical_json, seal
from cms_desktop.storage.oplog_capture import stored_values_if_canonical
from cms_desktop.sync.batch import decode_batch, encode_batch

NAMES = st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True)
# What a column can hold: 64-bit integers (SQLite's), finite floats (canonical_json refuses
# the others, and the batch parser reads a wider integer as a float).
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
VALUES = st.dictionaries(NAMES, SCALARS, max_size=8)
SIGNER = Ed25519PrivateKey.generate()
KEYS = {"poste": SIGNER.public_key()}


@given(VALUES)
def test_canonical_text_is_reused_and_old_dumps_are_not(values: dict[str, object]) -> None:
    canonical = canonical_json(values).decode()
    assert stored_values_if_canonical(canonical) == canonical
    old = json.dumps(values, ensure_ascii=False)  # how rows were stored before
    if values:
        assert stored_values_if_canonical(old) is None


@given(VALUES)
def test_a_line_built_from_stored_text_is_the_sealed_encoding(values: dict[str, object]) -> None:
    entry = seal(
        OpEntry(
            "poste",
            7,
            "000000000000001.000000.poste",
            10,
            "patients",
            "id-1",
            OpKind.UPDATE,
            values,
            None,
            GENESIS_HASH,
        )
    )
    stored = dataclasses.replace(entry, encoded_values=canonical_json(values).decode())
    # Ed25519 signatures are deterministic: the frames are equal only if the lines are.
    assert encode_batch([stored], SIGNER, "poste") == encode_batch([entry], SIGNER, "poste")
    assert decode_batch(encode_batch([stored], SIGNER, "poste"), KEYS, 6, GENESIS_HASH) == [entry]
