"""Which op-log origin this station writes under, and how it notices it was restored.

A station's entries are numbered per origin (origin, seq) and chained. A station restored
from a copy of its files would number its next entries from where the copy stopped, while
its peers already hold entries with those numbers: two histories under one name, refused
for good by everyone. So a station never reuses a sequence number: when it cannot be sure
that it holds the end of its own history, it writes under a **new origin**
``<station id>@<random token>`` from then on. Its identity (station id, certificate, name,
membership) does not change; its past entries keep their origin, and peers send back the
ones the copy lacked, as they relay any station's entries.

How it knows (see docs/DECISIONS.md, sessions 8 and 9):
- at open, from the **seal** (``station-seal.json`` beside the database, not part of the
  backup files listed in the README): the origin and highest seq this station committed.
  A database behind its seal, under another origin, or with no seal at all while it has
  written entries (cannot be proved continuous) takes a new origin before writing anything;
- at open, from the **outside seal**, the same record kept outside the data directory (in
  the user's state folder, one file per station id): a whole data directory copied back
  (seal included) on the same PC is behind it. Missing, it proves nothing (another user,
  a new PC) and is written from the database as it is;
- at a session, when a peer's vector holds more of the current origin than this station
  (``sync.db_store``): the copy was taken with its seal, or on another PC.

``mark_restored`` is what a restore command calls: the next open takes a new origin.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from pathlib import Path

from platformdirs import user_state_dir
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cms_desktop.storage.datadir import APP_NAME
from cms_desktop.storage.models.core import LocalState, OpLogRow
from cms_desktop.storage.models.sync import SyncPeer

log = logging.getLogger(__name__)

SEAL_NAME = "station-seal.json"
# Where outside seals are kept; tests point it at a folder of their own (one « PC » each).
OUTSIDE_SEALS_ENV = "CMS_STATION_SEALS_DIR"
ORIGIN_KEY = "sync.origin"
SEPARATOR = "@"


def station_of_origin(origin: str) -> str:
    """The station an origin belongs to (``<id>`` or ``<id>@<token>`` → ``<id>``)."""
    return origin.split(SEPARATOR, 1)[0]


ORIGINS_KEY = "sync.origins"


def own_origins(conn: Connection, station_id: str) -> list[str]:
    """Every origin this station has written under (as far as this database knows)."""
    value = conn.execute(select(LocalState.value).where(LocalState.key == ORIGINS_KEY)).scalar()
    try:
        taken = json.loads(value) if value else []
    except ValueError:
        taken = []
    return [station_id, *(str(o) for o in taken if isinstance(o, str))]


def current_origin(conn: Connection, station_id: str) -> str:
    value = conn.execute(select(LocalState.value).where(LocalState.key == ORIGIN_KEY)).scalar()
    return str(value) if value else station_id


def own_seq(conn: Connection, origin: str) -> int:
    value = conn.execute(select(func.max(OpLogRow.seq)).where(OpLogRow.origin == origin)).scalar()
    return int(value or 0)


def take_new_origin(conn: Connection, station_id: str, reason: str) -> str:
    """Write under a fresh origin from now on (inside the caller's write transaction).

    The peers' acknowledgements counted this station's entries of the old origin: they
    restart at zero for the new one."""
    origin = f"{station_id}{SEPARATOR}{secrets.token_hex(6)}"
    taken = json.dumps([*own_origins(conn, station_id)[1:], origin])
    for key, value in ((ORIGIN_KEY, origin), (ORIGINS_KEY, taken)):
        conn.execute(
            sqlite_insert(LocalState)
            .values(key=key, value=value)
            .on_conflict_do_update(index_elements=["key"], set_={"value": value})
        )
    conn.execute(update(SyncPeer).values(acked_seq=0))
    log.warning("sync: this station now writes under a new origin (%s)", reason)
    return origin


# --- a copy that wrote before it knew ------------------------------------------------------

RESOLVING_KEY = "sync.resolving"


def resolving(conn: Connection) -> dict[str, int]:
    """Own origins whose entries after some point part from what the peers hold (a copy
    written on before its first session): origin → the highest seq known to be shared.
    Until a peer's entries show where the two histories part (``sync.db_store``), the
    entries after that seq are neither shown, served nor signed (audit heads)."""
    value = conn.execute(select(LocalState.value).where(LocalState.key == RESOLVING_KEY)).scalar()
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(o): int(s) for o, s in data.items() if type(s) is int and s >= 0}


def set_resolving(conn: Connection, data: dict[str, int]) -> None:
    value = json.dumps(data, sort_keys=True)
    conn.execute(
        sqlite_insert(LocalState)
        .values(key=RESOLVING_KEY, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


# --- the seal ----------------------------------------------------------------------------


def seal_path(data_dir_path: Path) -> Path:
    return data_dir_path / SEAL_NAME


def read_seal(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_seal(path: Path, station_id: str, origin: str, seq: int) -> None:
    """Record the highest seq committed under ``origin`` (never lowers what is recorded for
    the same origin). Not fsynced: a seal lost in a crash only makes the next open take a
    new origin, which is always safe."""
    current = read_seal(path)
    if (
        current is not None
        and current.get("origin") == origin
        and isinstance(current.get("seq"), int)
        and int(current["seq"]) >= seq  # type: ignore[call-overload]
        and not current.get("restored")
    ):
        return
    data = {"station_id": station_id, "origin": origin, "seq": seq}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        log.warning("sync: the station seal could not be written")
        with contextlib.suppress(OSError):
            tmp.unlink()


def outside_seal_path(station_id: str) -> Path:
    """The seal of ``station_id`` kept outside any data directory (``OUTSIDE_SEALS_ENV``,
    else the user's state folder): a copy of the data directory does not carry it back."""
    folder = os.environ.get(OUTSIDE_SEALS_ENV) or str(
        Path(user_state_dir(APP_NAME, appauthor=False)) / "station-seals"
    )
    # A station id is a UUID; anything else (a damaged database) is not a file name.
    name = "".join(c for c in station_id if c.isalnum() or c == "-") or "station"
    return Path(folder) / f"{name}.json"


def write_seals(data_dir_path: Path, station_id: str, origin: str, seq: int) -> None:
    """Both seals (``write_seal``); the outside one only where its folder can be made."""
    write_seal(seal_path(data_dir_path), station_id, origin, seq)
    outside = outside_seal_path(station_id)
    try:
        outside.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only profile: the seal beside the database still works
    write_seal(outside, station_id, origin, seq)


def restore_reason_at_open(
    data_dir_path: Path, station_id: str, origin: str, seq: int
) -> str | None:
    """Why this database cannot be trusted to hold the end of its own history, from both
    seals (None: it can). A missing outside seal is written now, from the database."""
    reason = restore_reason(read_seal(seal_path(data_dir_path)), station_id, origin, seq)
    if reason is not None:
        return reason
    outside = outside_seal_path(station_id)
    sealed = read_seal(outside)
    if sealed is None:
        with contextlib.suppress(OSError):
            outside.parent.mkdir(parents=True, exist_ok=True)
            write_seal(outside, station_id, origin, seq)
        return None
    reason = restore_reason(sealed, station_id, origin, seq)
    return None if reason is None else f"outside seal: {reason}"


def mark_restored(data_dir_path: Path) -> None:
    """Called after this station's files were put back from a copy: its next open takes a
    new origin whatever the database says (``services.sync_admin.mark_restored``)."""
    path = seal_path(data_dir_path)
    data = read_seal(path) or {}
    data["restored"] = True
    path.write_text(json.dumps(data), encoding="utf-8")


def restore_reason(
    seal: dict[str, object] | None, station_id: str, origin: str, seq: int
) -> str | None:
    """Why this database cannot be trusted to hold the end of its own history (None: it can)."""
    if seal is None:
        return "no station seal beside a database that has written entries" if seq else None
    if seal.get("restored"):
        return "files marked as restored"
    if seal.get("station_id") != station_id:
        return "the seal belongs to another station"
    if seal.get("origin") != origin:
        return "the database is older than the seal (another origin)"
    sealed = seal.get("seq")
    if isinstance(sealed, int) and sealed > seq:
        return f"the database stops at entry {seq}, the seal says {sealed}"
    return None
