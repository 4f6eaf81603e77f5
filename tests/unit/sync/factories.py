"""Synthetic op-log entries and station credentials for sync tests (no real patient data)."""

from __future__ import annotations

import functools
import uuid

from cms_desktop.domain.hlc import HlcTimestamp
from cms_desktop.domain.oplog import GENESIS_HASH, OpEntry, OpKind, seal
from cms_desktop.sync.pki import StationCredentials, create_site_ca, issue_station_certificate


def make_chain(
    origin: str,
    count: int,
    start_seq: int = 1,
    prev_hash: str = GENESIS_HASH,
    wall_ms: int = 1_700_000_000_000,
    schema: int = 1,
) -> list[OpEntry]:
    entries: list[OpEntry] = []
    prev = prev_hash
    for seq in range(start_seq, start_seq + count):
        entry = seal(
            OpEntry(
                origin=origin,
                seq=seq,
                hlc=HlcTimestamp(wall_ms + seq, 0, origin).encode(),
                schema=schema,
                entity="patient",
                row_id=str(uuid.UUID(int=seq)),
                op=OpKind.UPDATE,
                values={"nom_usage": f"Patient{seq}", "ins_status": "provisoire", "n": seq},
                base=None,
                prev_hash=prev,
            )
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def site(name: str = "CMS de Test") -> tuple[bytes, bytes]:
    """A site CA, one per centre name for the whole test run."""
    return _site(name)


@functools.cache
def _site(name: str) -> tuple[bytes, bytes]:
    return create_site_ca(name)


def credentials(station_id: str, site_name: str = "CMS de Test") -> StationCredentials:
    ca_cert, ca_key = site(site_name)
    cert, key = issue_station_certificate(ca_cert, ca_key, station_id, f"Poste {station_id}")
    return StationCredentials(station_id, cert, key, ca_cert)
