"""The operation-log entry: the unit of replication between workstations (see SYNC.md).

Each station numbers its own entries 1, 2, 3… (``seq``) and chains them by hash, so a
receiver can detect gaps, reordering and tampering. Values are JSON-ready: strings,
numbers, booleans, None (dates as ISO strings, bytes as base64), encoded by storage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64

JsonValue = str | int | float | bool | None


class OpKind(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    TOMBSTONE = "tombstone"


class ChainError(Exception):
    """Entries of one origin are missing, out of order or altered."""


@dataclass(frozen=True)
class OpEntry:
    origin: str
    seq: int
    hlc: str
    schema: int
    entity: str
    row_id: str
    op: OpKind
    values: Mapping[str, JsonValue]
    base: str | None
    prev_hash: str
    hash: str = field(default="")
    # The canonical JSON of ``values`` as received in a batch, so that storing the entry
    # does not encode it again; None for entries built locally. Not part of the entry.
    encoded_values: str | None = field(default=None, compare=False, repr=False)
    # The legacy seal that replaced plaintext values by ciphertext (#17): ``hash`` is then
    # the hash of the values as first written, which no longer match; the entry is checked
    # by its links (and against the seal where it is held). Not part of the body.
    redacted: str | None = field(default=None, compare=False)

    def body(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "seq": self.seq,
            "hlc": self.hlc,
            "schema": self.schema,
            "entity": self.entity,
            "row_id": self.row_id,
            "op": str(self.op),
            "values": dict(self.values),
            "base": self.base,
            "prev_hash": self.prev_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        if self.redacted is not None:
            return {**self.body(), "hash": self.hash, "redacted": self.redacted}
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_checked_fields(cls, fields: dict[str, Any]) -> OpEntry:
        """The entry whose attributes are ``fields``, taken over as they are: exactly the
        dataclass's fields, each already of its type (the batch decoder checks them).
        Skips the frozen dataclass's one ``object.__setattr__`` per field, which cost more
        than parsing the entry."""
        entry = object.__new__(cls)
        object.__setattr__(entry, "__dict__", fields)
        return entry

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpEntry:
        return cls(
            origin=str(data["origin"]),
            seq=int(data["seq"]),
            hlc=str(data["hlc"]),
            schema=int(data["schema"]),
            entity=str(data["entity"]),
            row_id=str(data["row_id"]),
            op=OpKind(data["op"]),
            values=dict(data["values"]),
            base=data.get("base"),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
            redacted=None if data.get("redacted") is None else str(data["redacted"]),
        )


# One encoder for every call: ``json.dumps`` with options builds a new encoder each time.
# allow_nan=False: strict JSON (RFC 8259), which the receiving side parses (orjson); an
# infinite or NaN value is refused where it is written rather than by every other station.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on every station for the same data."""
    return _CANONICAL.encode(data).encode()


def compute_hash(entry: OpEntry) -> str:
    return hashlib.sha256(canonical_json(entry.body())).hexdigest()


def seal(entry: OpEntry) -> OpEntry:
    """Return the entry with its hash filled in."""
    return replace(entry, hash=compute_hash(entry))


def verify_chain(entries: Iterable[OpEntry], last_seq: int, last_hash: str) -> None:
    """Check that ``entries`` (one origin) follow ``last_seq``/``last_hash`` without gap or alteration."""
    seq, prev = last_seq, last_hash
    for entry in entries:
        if entry.seq != seq + 1:
            raise ChainError(f"gap: expected seq {seq + 1}, got {entry.seq} from {entry.origin}")
        if entry.prev_hash != prev:
            raise ChainError(f"broken chain at seq {entry.seq} from {entry.origin}")
        if entry.redacted is None and compute_hash(entry) != entry.hash:
            raise ChainError(f"altered entry at seq {entry.seq} from {entry.origin}")
        seq, prev = entry.seq, entry.hash
