"""Signed, checksummed batches of op-log entries (one origin, seq order, at most 1,000).

Frame: ``MAGIC | u32 header length | header (canonical JSON) | payload | Ed25519 signature``.
The payload is one canonical JSON entry per line; the signature covers everything before it
and is made by the *sending* station (which may be relaying another origin's entries).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import struct
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cms_desktop.domain.oplog import OpEntry, OpKind, canonical_json
from cms_desktop.sync.errors import SyncError

MAGIC = b"CMSB"
FORMAT_VERSION = 1
MAX_BATCH_ENTRIES = 1000
SIGNATURE_SIZE = 64
_LEN = struct.Struct(">I")
_MAX_HEADER = 4096


class RejectReason(StrEnum):
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    CHECKSUM = "checksum"
    UNKNOWN_STATION = "unknown_station"
    BAD_SIGNATURE = "bad_signature"
    GAP = "gap"
    BROKEN_CHAIN = "broken_chain"
    ALTERED_ENTRY = "altered_entry"
    # A sound, signed batch that does not continue what is held here: the same origin and
    # seq with another hash, two histories (a station put back from a copy, before #21).
    DIVERGED = "diverged"


_MESSAGES = {
    RejectReason.TRUNCATED: "lot de synchronisation tronqué",
    RejectReason.MALFORMED: "lot de synchronisation illisible",
    RejectReason.UNSUPPORTED_VERSION: "format de lot non pris en charge",
    RejectReason.CHECKSUM: "somme de contrôle du lot incorrecte",
    RejectReason.UNKNOWN_STATION: "lot signé par un poste inconnu",
    RejectReason.BAD_SIGNATURE: "signature du lot invalide",
    RejectReason.GAP: "opérations manquantes avant ce lot",
    RejectReason.BROKEN_CHAIN: "chaînage des opérations rompu",
    RejectReason.ALTERED_ENTRY: "opération altérée",
    RejectReason.DIVERGED: "historique divergé",
}


class BatchRejected(SyncError):
    """A received batch was refused; nothing from it may be applied.

    The message names only the origin station and sequence numbers, never values.
    """

    def __init__(self, reason: RejectReason, detail: str = "", at_seq: int = 0) -> None:
        self.reason = reason
        self.detail = detail
        self.at_seq = at_seq  # DIVERGED: the last seq held here that the batch contradicts
        text = f"Lot refusé : {_MESSAGES[reason]}"
        super().__init__(f"{text} ({detail})." if detail else f"{text}.")


def encode_batch(entries: Sequence[OpEntry], signer: Ed25519PrivateKey, station_id: str) -> bytes:
    """Frame and sign ``entries`` (non-empty, one origin, consecutive seqs, ≤ 1,000)."""
    if not entries or len(entries) > MAX_BATCH_ENTRIES:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ENTRIES} entries, got {len(entries)}")
    origin = entries[0].origin
    for previous, entry in itertools.pairwise(entries):
        if entry.origin != origin or entry.seq != previous.seq + 1:
            raise ValueError(f"batch entries must be one origin in consecutive seq ({origin})")
    payload = b"\n".join(_line(entry) for entry in entries)
    header = canonical_json(
        {
            "v": FORMAT_VERSION,
            "station": station_id,
            "origin": origin,
            "first": entries[0].seq,
            "last": entries[-1].seq,
            "count": len(entries),
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    )
    signed = MAGIC + _LEN.pack(len(header)) + header + payload
    return signed + signer.sign(signed)


def _line(entry: OpEntry) -> bytes:
    """``canonical_json(entry.to_dict())``, reusing the stored canonical values if any.

    "values" sorts last among the keys, so the line is the other fields' canonical object
    with the values appended before its closing brace.
    """
    if entry.encoded_values is None:
        return canonical_json(entry.to_dict())
    fields: dict[str, Any] = {
        "origin": entry.origin,
        "seq": entry.seq,
        "hlc": entry.hlc,
        "schema": entry.schema,
        "entity": entry.entity,
        "row_id": entry.row_id,
        "op": str(entry.op),
        "base": entry.base,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
    if entry.redacted is not None:
        fields["redacted"] = entry.redacted
    head = canonical_json(fields)
    return head[:-1] + b',"values":' + entry.encoded_values.encode() + b"}"


def read_header(data: bytes) -> dict[str, Any]:
    """Parse and sanity-check the header only (no signature check): origin, seqs, sender."""
    if len(data) < len(MAGIC) + _LEN.size or data[: len(MAGIC)] != MAGIC:
        raise BatchRejected(RejectReason.TRUNCATED if len(data) < 8 else RejectReason.MALFORMED)
    (header_len,) = _LEN.unpack_from(data, len(MAGIC))
    start = len(MAGIC) + _LEN.size
    if header_len > _MAX_HEADER:
        raise BatchRejected(RejectReason.MALFORMED)
    if len(data) < start + header_len:
        raise BatchRejected(RejectReason.TRUNCATED)
    try:
        header = json.loads(data[start : start + header_len])
        fields = {
            "v": int(header["v"]),
            "station": str(header["station"]),
            "origin": str(header["origin"]),
            "first": int(header["first"]),
            "last": int(header["last"]),
            "count": int(header["count"]),
            "size": int(header["size"]),
            "sha256": str(header["sha256"]),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise BatchRejected(RejectReason.MALFORMED) from exc
    if fields["v"] != FORMAT_VERSION:
        raise BatchRejected(RejectReason.UNSUPPORTED_VERSION, f"version {fields['v']}")
    fields["_start"] = start + header_len
    return fields


def decode_batch(
    data: bytes,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    last_seq: int,
    last_hash: str,
) -> list[OpEntry]:
    """Check a received batch against the local chain tip and return the entries to apply.

    Entries at or below ``last_seq`` (a replay) are dropped; an entirely old batch gives an
    empty list. Raises ``BatchRejected`` if anything is wrong, before anything is applied.
    """
    header = read_header(data)
    origin, first, last = header["origin"], header["first"], header["last"]
    where = f"poste {origin}, opérations {first} à {last}"
    start, size = header["_start"], header["size"]
    end = start + size
    if size < 0 or len(data) < end + SIGNATURE_SIZE:
        raise BatchRejected(RejectReason.TRUNCATED, where)
    if len(data) > end + SIGNATURE_SIZE:
        raise BatchRejected(RejectReason.MALFORMED, where)
    payload = data[start:end]
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise BatchRejected(RejectReason.CHECKSUM, where)
    key = trusted_keys.get(header["station"])
    if key is None:
        raise BatchRejected(RejectReason.UNKNOWN_STATION, f"expéditeur {header['station']}")
    try:
        key.verify(data[end:], data[:end])
    except InvalidSignature as exc:
        raise BatchRejected(RejectReason.BAD_SIGNATURE, where) from exc
    entries, digests = _parse_entries(payload, header, where)
    return _new_tail(entries, digests, last_seq, last_hash, where)


_KINDS = {str(kind): kind for kind in OpKind}
_ENTRY_KEYS = frozenset(
    ("origin", "seq", "hlc", "schema", "entity", "row_id", "op", "values", "base", "prev_hash")
) | {"hash"}
# An entry whose plaintext values a legacy seal replaced by ciphertext (#17) says so.
_REDACTED_KEYS = _ENTRY_KEYS | {"redacted"}
_HASH_FIELD = b',"hash":"'  # canonical JSON: sorted keys, "hash" right after "entity"
_HASH_FIELD_LEN = len('"hash":"",') + 64
_VALUES_FIELD = b',"values":'  # ... and "values" last


def _parse_entries(
    payload: bytes, header: Mapping[str, Any], where: str
) -> tuple[list[OpEntry], list[str]]:
    """The entries and the SHA-256 of each one's body, hashed as received (not re-encoded).

    A line is ``canonical_json(entry.to_dict())``: the line minus its ``"hash":"…",``
    field is the body its origin hashed. An entry is accepted only if those bytes hash to
    its chained hash, so what is parsed is exactly what the origin sealed; a relay cannot
    reformat or alter a line without breaking the chain.
    """
    try:
        # Canonical JSON escapes control characters, so a raw newline only ever separates
        # entries; parsing the lines as one array is three times faster than line by line.
        # orjson: strict RFC 8259 (no NaN, UTF-8 only), what canonical_json writes.
        rows = orjson.loads(b"[" + payload.replace(b"\n", b",") + b"]")
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise BatchRejected(RejectReason.MALFORMED, where) from exc
    lines = payload.split(b"\n")
    count, first, last = header["count"], header["first"], header["last"]
    if (
        type(rows) is not list
        or not 0 < count <= MAX_BATCH_ENTRIES
        or len(rows) != count
        or len(lines) != count
    ):
        raise BatchRejected(RejectReason.MALFORMED, where)
    entries: list[OpEntry] = []
    digests: list[str] = []
    sha256 = hashlib.sha256
    try:
        for row, line in zip(rows, lines, strict=True):
            # A '",' pair never occurs inside a JSON string (quotes are escaped), and only
            # "base" and "entity" (strings or null) come before "hash": the first match is
            # the field. A line that is not canonical simply fails the hash comparison.
            at = line.find(_HASH_FIELD) + 1
            if type(row) is dict and "redacted" in row:
                # Its values are no longer those its hash was made over: it is taken on its
                # links (checked below) and the batch's signature; see legacy_seal.
                digests.append(str(row["hash"]))
            else:
                digests.append(sha256(line[:at] + line[at + _HASH_FIELD_LEN :]).hexdigest())
            # "values" is the last key: the rest of the line is its canonical JSON.
            start = line.find(_VALUES_FIELD) + len(_VALUES_FIELD)
            entries.append(_entry(row, line[start:-1].decode()))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BatchRejected(RejectReason.MALFORMED, where) from exc
    if (
        entries[0].seq != first
        or entries[-1].seq != last
        or any(entry.origin != header["origin"] for entry in entries)
    ):
        raise BatchRejected(RejectReason.MALFORMED, where)
    return entries, digests


# HlcTimestamp.encode(): 15-digit wall clock, 6-digit counter, node. Checked here, in the
# verifying stage, so that the merge can read the wall clock straight from the text.
_HLC = re.compile(r"[0-9]{15}\.[0-9]{6}\.[^\n]+")


def _entry(row: dict[str, Any], encoded_values: str) -> OpEntry:
    """An entry from its decoded JSON object; exact keys and types, else MALFORMED."""
    if type(row) is not dict:
        raise ValueError("entry keys")
    keys = row.keys()
    if keys == _ENTRY_KEYS:
        row["redacted"] = None
    elif keys != _REDACTED_KEYS or type(row["redacted"]) is not str:
        raise ValueError("entry keys")
    base = row["base"]
    if not (
        type(row["seq"]) is int
        and type(row["schema"]) is int
        and type(row["values"]) is dict
        and (base is None or type(base) is str)
        and type(row["origin"]) is str
        and type(row["hlc"]) is str
        and type(row["entity"]) is str
        and type(row["row_id"]) is str
        and type(row["prev_hash"]) is str
        and type(row["hash"]) is str
        and _HLC.fullmatch(row["hlc"])
    ):
        raise ValueError("entry types")
    row["op"] = _KINDS[row["op"]]
    row["encoded_values"] = encoded_values
    return OpEntry.from_checked_fields(row)


def _new_tail(
    entries: list[OpEntry], digests: list[str], last_seq: int, last_hash: str, where: str
) -> list[OpEntry]:
    first = entries[0]
    if first.seq > last_seq + 1:
        raise BatchRejected(RejectReason.GAP, f"{where}, attendu {last_seq + 1}")
    # The batch must be internally sound even where it overlaps what we already hold.
    seq, prev = first.seq - 1, first.prev_hash
    for entry, digest in zip(entries, digests, strict=True):
        if entry.seq != seq + 1 or entry.prev_hash != prev or entry.hash != digest:
            raise _classify(entries, digests, where)
        seq, prev = entry.seq, entry.hash
    if first.seq == last_seq + 1:
        if first.prev_hash != last_hash:
            raise BatchRejected(RejectReason.DIVERGED, f"{where}, à {first.seq}", last_seq)
        return entries
    # Overlap with what we hold: the entry at our tip must be the one we hold (no fork).
    index = last_seq - first.seq
    if index < len(entries) and entries[index].hash != last_hash:
        raise BatchRejected(RejectReason.DIVERGED, f"{where}, à {last_seq}", last_seq)
    return entries[index + 1 :]


def _classify(entries: Sequence[OpEntry], digests: Sequence[str], where: str) -> BatchRejected:
    seq, prev = entries[0].seq - 1, entries[0].prev_hash
    for entry, digest in zip(entries, digests, strict=True):
        if entry.seq != seq + 1:
            return BatchRejected(RejectReason.GAP, f"{where}, attendu {seq + 1}")
        if entry.prev_hash != prev:
            return BatchRejected(RejectReason.BROKEN_CHAIN, f"{where}, à {entry.seq}")
        # The received bytes are not what the origin sealed (altered, or re-encoded).
        if digest != entry.hash:
            return BatchRejected(RejectReason.ALTERED_ENTRY, f"{where}, à {entry.seq}")
        seq, prev = entry.seq, entry.hash
    return BatchRejected(RejectReason.BROKEN_CHAIN, where)
