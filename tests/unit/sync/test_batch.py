from __future__ import annotations

import dataclasses
import hashlib
import json
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_desktop.domain.oplog import GENESIS_HASH, OpEntry, canonical_json, seal
from cms_desktop.sync.batch import (
    MAGIC,
    MAX_BATCH_ENTRIES,
    BatchRejected,
    RejectReason,
    decode_batch,
    encode_batch,
)

from .factories import make_chain

SIGNER = Ed25519PrivateKey.generate()
KEYS = {"salle1": SIGNER.public_key()}
CHAIN = make_chain("recep", 30)


def frame(entries: list[OpEntry], signer: Ed25519PrivateKey = SIGNER) -> bytes:
    return encode_batch(entries, signer, "salle1")


def resign(header: dict[str, object], payload: bytes, signer: Ed25519PrivateKey = SIGNER) -> bytes:
    """Forge a well-formed frame around ``payload``, as a peer with a valid key could."""
    header = {**header, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    raw = canonical_json(header)
    signed = MAGIC + struct.pack(">I", len(raw)) + raw + payload
    return signed + signer.sign(signed)


def header_of(entries: list[OpEntry]) -> dict[str, object]:
    return {
        "v": 1,
        "station": "salle1",
        "origin": entries[0].origin,
        "first": entries[0].seq,
        "last": entries[-1].seq,
        "count": len(entries),
    }


def payload_of(entries: list[OpEntry]) -> bytes:
    return b"\n".join(canonical_json(entry.to_dict()) for entry in entries)


def reject_reason(data: bytes, last_seq: int = 0, last_hash: str = GENESIS_HASH) -> RejectReason:
    with pytest.raises(BatchRejected) as caught:
        decode_batch(data, KEYS, last_seq, last_hash)
    return caught.value.reason


def test_round_trip_from_genesis() -> None:
    assert decode_batch(frame(CHAIN[:10]), KEYS, 0, GENESIS_HASH) == CHAIN[:10]


def test_continues_from_local_tip() -> None:
    tip = CHAIN[9]
    assert decode_batch(frame(CHAIN[10:20]), KEYS, tip.seq, tip.hash) == CHAIN[10:20]


def test_replay_overlap_returns_only_new_tail() -> None:
    tip = CHAIN[14]
    assert decode_batch(frame(CHAIN[10:20]), KEYS, tip.seq, tip.hash) == CHAIN[15:20]


def test_entirely_old_batch_is_harmless_and_empty() -> None:
    tip = CHAIN[24]
    assert decode_batch(frame(CHAIN[10:20]), KEYS, tip.seq, tip.hash) == []
    assert decode_batch(frame(CHAIN[10:20]), KEYS, CHAIN[19].seq, CHAIN[19].hash) == []


def test_gap_is_rejected() -> None:
    assert reject_reason(frame(CHAIN[12:20]), CHAIN[9].seq, CHAIN[9].hash) is RejectReason.GAP


def test_batch_not_linking_to_local_tip_is_rejected() -> None:
    other = make_chain("recep", 10, wall_ms=42)  # same origin and seqs, different history
    assert reject_reason(frame(CHAIN[10:20]), other[9].seq, other[9].hash) is RejectReason.DIVERGED


def test_overlap_with_different_history_is_rejected() -> None:
    other = make_chain("recep", 15, wall_ms=42)
    assert (
        reject_reason(frame(CHAIN[10:20]), other[14].seq, other[14].hash) is RejectReason.DIVERGED
    )


def test_altered_entry_even_correctly_signed_is_rejected() -> None:
    entries = list(CHAIN[:5])
    entries[2] = dataclasses.replace(entries[2], values={"nom_usage": "Autre"})
    assert (
        reject_reason(resign(header_of(entries), payload_of(entries))) is RejectReason.ALTERED_ENTRY
    )


def test_resealed_entry_breaks_the_chain() -> None:
    entries = list(CHAIN[:5])
    entries[2] = seal(dataclasses.replace(entries[2], values={"nom_usage": "Autre"}))
    assert (
        reject_reason(resign(header_of(entries), payload_of(entries))) is RejectReason.BROKEN_CHAIN
    )


def test_internal_gap_is_rejected_even_if_header_agrees() -> None:
    entries = [*CHAIN[:3], *CHAIN[4:6]]
    header = {**header_of(entries), "count": len(entries)}
    assert reject_reason(resign(header, payload_of(entries))) is RejectReason.GAP


def test_truncated_frames_are_rejected() -> None:
    data = frame(CHAIN[:10])
    for cut in (0, 3, 9, 40, len(data) // 2, len(data) - 1):
        assert reject_reason(data[:cut]) in {RejectReason.TRUNCATED, RejectReason.MALFORMED}
    assert reject_reason(data[:-1]) is RejectReason.TRUNCATED


def test_checksum_mismatch_is_rejected() -> None:
    data = bytearray(frame(CHAIN[:10]))
    data[-100] ^= 0x01  # inside the payload's last line
    assert reject_reason(bytes(data)) is RejectReason.CHECKSUM


def test_bad_signature_is_rejected() -> None:
    data = bytearray(frame(CHAIN[:10]))
    data[-1] ^= 0x01
    assert reject_reason(bytes(data)) is RejectReason.BAD_SIGNATURE


def test_signature_by_another_key_is_rejected() -> None:
    assert (
        reject_reason(frame(CHAIN[:10], Ed25519PrivateKey.generate())) is RejectReason.BAD_SIGNATURE
    )


def test_unknown_sender_is_rejected() -> None:
    data = encode_batch(CHAIN[:3], SIGNER, "inconnu")
    assert reject_reason(data) is RejectReason.UNKNOWN_STATION


def test_mixed_origins_in_payload_are_rejected() -> None:
    entries = [*CHAIN[:2], *make_chain("salle2", 1, start_seq=3, prev_hash=CHAIN[1].hash)]
    assert reject_reason(resign(header_of(entries), payload_of(entries))) is RejectReason.MALFORMED


@pytest.mark.parametrize("hlc", ["1700000000001", "soon.000000.x", "1700000000001.0.recep", ""])
def test_an_entry_whose_clock_is_not_an_hlc_is_rejected(hlc: str) -> None:
    # Sealed by its origin, so the chain holds: only the shape of the HLC is wrong, and the
    # merge relies on that shape to read the wall clock.
    entry = seal(dataclasses.replace(CHAIN[0], hlc=hlc))
    assert reject_reason(frame([entry])) is RejectReason.MALFORMED


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
def test_non_standard_json_numbers_are_rejected_and_never_written(number: str) -> None:
    # Python's json module reads these; the batch parser (orjson) is strict RFC 8259, so an
    # origin must never write them: canonical_json refuses, and a forged line is refused.
    with pytest.raises(ValueError):
        canonical_json({"weight_kg": float(number)})
    line = canonical_json(CHAIN[0].to_dict()).replace(
        b'"values":{', b'"values":{"w":' + number.encode() + b","
    )
    assert reject_reason(resign(header_of(CHAIN[:1]), line)) is RejectReason.MALFORMED


def test_unsupported_version_is_rejected() -> None:
    header = {**header_of(CHAIN[:2]), "v": 99}
    assert reject_reason(resign(header, payload_of(CHAIN[:2]))) is RejectReason.UNSUPPORTED_VERSION


def test_rejection_message_is_french_and_names_no_values() -> None:
    entries = list(CHAIN[:5])
    entries[2] = dataclasses.replace(entries[2], values={"nom_usage": "Martin-Secret"})
    with pytest.raises(BatchRejected) as caught:
        decode_batch(resign(header_of(entries), payload_of(entries)), KEYS, 0, GENESIS_HASH)
    message = str(caught.value)
    assert message.startswith("Lot refusé")
    assert "recep" in message and "3" in message
    assert "Martin" not in message and "Patient" not in message


def test_encode_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_batch([], SIGNER, "salle1")
    with pytest.raises(ValueError):
        encode_batch([CHAIN[0], CHAIN[2]], SIGNER, "salle1")
    big = make_chain("recep", MAX_BATCH_ENTRIES + 1)
    with pytest.raises(ValueError):
        encode_batch(big, SIGNER, "salle1")


def test_full_batch_of_1000_round_trips() -> None:
    big = make_chain("recep", MAX_BATCH_ENTRIES)
    assert decode_batch(frame(big), KEYS, 0, GENESIS_HASH) == big


def test_header_is_canonical_json_naming_only_codes() -> None:
    data = frame(CHAIN[:4])
    (length,) = struct.unpack_from(">I", data, 4)
    header = json.loads(data[8 : 8 + length])
    assert set(header) == {"v", "station", "origin", "first", "last", "count", "size", "sha256"}


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_rejected(data: st.DataObject) -> None:
    original = frame(CHAIN[:3])
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = bytearray(original)
    tampered[position] ^= flip
    with pytest.raises(BatchRejected):
        decode_batch(bytes(tampered), KEYS, 0, GENESIS_HASH)


def _reformatted(entries: list[OpEntry], index: int, line: bytes) -> bytes:
    lines = payload_of(entries).split(b"\n")
    lines[index] = line
    return resign(header_of(entries), b"\n".join(lines))


@pytest.mark.parametrize(
    "rewrite",
    [
        # same content, other spacing
        lambda d, raw: json.dumps(d, sort_keys=True, ensure_ascii=False).encode(),
        # same content, other key order
        lambda d, raw: json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode(),
        # a second "values" key after the sealed one: JSON keeps the last one
        lambda d, raw: raw[:-1] + b',"values":{"nom_usage":"Autre"}}',
        # a second "hash" key before the real one
        lambda d, raw: raw.replace(b'"hash":"', b'"hash":"0","hash":"', 1),
        # a space after the hash field, where the decoder slices the line
        lambda d, raw: raw.replace(b'","hlc":', b'", "hlc":', 1),
    ],
    ids=["spacing", "key-order", "duplicate-values", "duplicate-hash", "space-after-hash"],
)
def test_a_line_not_byte_identical_to_what_was_sealed_is_refused(rewrite: object) -> None:
    # The decoder hashes each line as received (minus its hash field) instead of
    # re-encoding it: any other encoding of the entry, even with the same values, must fail.
    entries = list(CHAIN[:5])
    raw = canonical_json(entries[2].to_dict())
    line = rewrite(entries[2].to_dict(), raw)  # type: ignore[operator]
    assert line != raw
    with pytest.raises(BatchRejected) as caught:
        decode_batch(_reformatted(entries, 2, line), KEYS, 0, GENESIS_HASH)
    assert caught.value.reason in {RejectReason.MALFORMED, RejectReason.ALTERED_ENTRY}
