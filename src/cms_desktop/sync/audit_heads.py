"""Witnessed audit chain heads: a rewrite on one PC is caught by what the others saw (#17).

At the start of every sync session (before its HELLO, so they travel in it) a station signs,
with its station key (the Ed25519 key of its TLS certificate, certified by the site CA),
the head (last number and hash) of every audit chain it holds, when it has not signed that
head yet. These rows replicate, so each station keeps the heads its peers signed. Checking
compares the local chains with every signed head: a chain changed and re-hashed after a
peer saw it no longer matches; the first entry that differs is named.

The signed text is ``cms-audit-head-1|witness|origin|seq|hash``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.storage import origin as origins
from cms_desktop.storage.models import (
    AuditEntry,
    AuditHead,
    OpLogRow,
    SyncStation,
    SyncVector,
    utcnow,
)
from cms_desktop.storage.store import Store
from cms_desktop.sync.pki import PkiError, certificate_public_key, load_certificate

log = logging.getLogger(__name__)

FORMAT = "cms-audit-head-1"

# A witness signs a chain's head at most this often: one row per chain and witness every
# quarter of an hour at most (7 stations: under 2,000 small rows on a busy day), instead
# of one per exchange. Entries written since the last signed head are the window a
# rewrite can still hide in (docs/DECISIONS.md).
SIGN_INTERVAL = timedelta(minutes=15)


def _message(witness: str, origin: str, seq: int, hash_: str) -> bytes:
    return f"{FORMAT}|{witness}|{origin}|{seq}|{hash_}".encode()


def _origins(session: Session, station_id: str) -> list[str]:
    """The chains held here: this station's own origins and every origin it received from
    (``sync_vector``), both small tables (no scan of the audit log at each session)."""
    conn = session.connection()
    own = origins.own_origins(conn, station_id)
    received = session.scalars(select(SyncVector.origin)).all()
    # Not a chain of ours that a copy wrote on before its first session: its head here
    # is not what the peers hold, and is about to move (``sync.db_store._reissue``).
    return sorted((set(own) | set(received)) - set(origins.resolving(conn)))


def _unsigned_heads(session: Session, witness: str, now: datetime) -> list[tuple[str, int, str]]:
    """(origin, seq, hash) of each chain head held here that ``witness`` has not signed,
    if its last signed head of that chain is older than ``SIGN_INTERVAL``."""
    out: list[tuple[str, int, str]] = []
    for origin in _origins(session, witness):
        head = session.execute(  # the (station_id, seq) unique index: one seek per chain
            select(AuditEntry.seq, AuditEntry.hash)
            .where(AuditEntry.station_id == origin)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
        if head is None:
            continue
        seq, hash_ = int(head[0]), str(head[1])
        last = session.execute(
            select(AuditHead.seq, AuditHead.at)
            .where(AuditHead.origin_id == origin, AuditHead.witness_id == witness)
            .order_by(AuditHead.seq.desc())
            .limit(1)
        ).first()
        if last is not None and (int(last[0]) >= seq or now - last[1] < SIGN_INTERVAL):
            continue
        out.append((origin, seq, hash_))
    return out


def attest(store: Store, signer: Ed25519PrivateKey) -> int:
    """Sign the heads this station holds and has not signed yet; returns how many. Reads
    first: a session with nothing new to sign takes no write lock."""
    witness = store.station_id
    now = utcnow()
    with store.read() as session:
        pending = _unsigned_heads(session, witness, now)
    if not pending:
        return 0
    with store.write() as session:
        for origin, seq, hash_ in pending:
            signature = signer.sign(_message(witness, origin, seq, hash_))
            session.add(
                AuditHead(
                    witness_id=witness,
                    origin_id=origin,
                    seq=seq,
                    hash=hash_,
                    at=now,
                    signature=base64.b64encode(signature).decode("ascii"),
                )
            )
    return len(pending)


@dataclass(frozen=True)
class HeadMismatch:
    origin: str  # whose chain
    seq: int  # the first entry that differs (exact, or the earliest it can be)
    entry_id: str | None
    witness: str  # the station whose signed head disagrees
    witness_name: str
    latest_possible: int  # the differing entry is between ``seq`` and this one
    reason: str  # "rewritten" (differs from the head) or "forged_head" (bad signature)


def _station_keys(session: Session) -> dict[str, tuple[str, Ed25519PublicKey]]:
    keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
    for station in session.scalars(select(SyncStation)):
        try:
            keys[station.id] = (
                station.name,
                certificate_public_key(load_certificate(station.cert_pem.encode())),
            )
        except PkiError:
            continue
    return keys


def _valid(head: AuditHead, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(
            base64.b64decode(head.signature, validate=True),
            _message(head.witness_id, head.origin_id, head.seq, head.hash),
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def check(session: Session) -> HeadMismatch | None:
    """The first local audit entry that differs from a head a station signed, or None."""
    keys = _station_keys(session)
    by_origin: dict[str, list[AuditHead]] = {}
    for head in session.scalars(select(AuditHead).order_by(AuditHead.seq)):
        by_origin.setdefault(head.origin_id, []).append(head)
    for origin in sorted(by_origin):
        local = {
            seq: hash_
            for seq, hash_ in session.execute(
                select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.station_id == origin)
            )
        }
        agreed = 0  # the highest signed head this station's chain matches
        for head in by_origin[origin]:
            known = keys.get(head.witness_id)
            if known is None:
                continue  # a station whose certificate has not reached this one yet
            name, key = known
            if not _valid(head, key):
                return HeadMismatch(
                    origin, head.seq, None, head.witness_id, name, head.seq, "forged_head"
                )
            held = local.get(head.seq)
            if held is None:
                continue  # not received here yet (or cut off: ``audit.verify`` says so)
            if held == head.hash:
                agreed = max(agreed, head.seq)
                continue
            first = _first_rewritten(session, origin, agreed, head.seq)
            seq = first if first is not None else agreed + 1
            entry_id = session.scalar(
                select(AuditEntry.id).where(AuditEntry.station_id == origin, AuditEntry.seq == seq)
            )
            return HeadMismatch(origin, seq, entry_id, head.witness_id, name, head.seq, "rewritten")
    return None


def _first_rewritten(session: Session, origin: str, after: int, upto: int) -> int | None:
    """Within (after, upto], the first entry whose hash is not the one its op-log insert
    recorded when it was written (exact when only the audit table was rewritten)."""
    entries = session.execute(
        select(AuditEntry.id, AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.station_id == origin, AuditEntry.seq > after, AuditEntry.seq <= upto)
        .order_by(AuditEntry.seq)
    ).all()
    for entry_id, seq, hash_ in entries:
        values = session.scalars(
            select(OpLogRow.values_json)
            .where(OpLogRow.entity == "audit_log", OpLogRow.row_id == entry_id)
            .limit(1)
        ).first()
        if values is None:
            continue
        try:
            recorded = json.loads(values).get("hash")
        except ValueError:
            return int(seq)
        if recorded != hash_:
            return int(seq)
    return None
