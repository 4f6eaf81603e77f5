"""The lock-out state of each account inside the encrypted database (``local_state``).

Failed logins happen before the database key is known, so they are first counted in the
key-slot file, which anyone who can write the data directory can edit. Whatever reaches the
database cannot be edited that way (SQLCipher authenticates every page): failed screen
unlocks are counted here directly (the store is open), and a lock noted in the key-slot
file is copied here at the next opening of the store. A login or an unlock is refused while
either place says the account is locked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cms_desktop.storage.keyslots import LOCKOUT, MAX_FAILED_ATTEMPTS
from cms_desktop.storage.models import LocalState

_PREFIX = "lockout:"


def _row(session: Session, login: str) -> tuple[LocalState | None, dict[str, str | int]]:
    row = session.get(LocalState, _PREFIX + login)
    if row is None:
        return None, {}
    try:
        state = json.loads(row.value)
    except ValueError:
        return row, {}
    return row, state if isinstance(state, dict) else {}


def _save(
    session: Session, row: LocalState | None, login: str, state: dict[str, str | int]
) -> None:
    value = json.dumps(state, sort_keys=True)
    if row is None:
        session.add(LocalState(key=_PREFIX + login, value=value))
    else:
        row.value = value


def locked_until(session: Session, login: str, now: datetime) -> datetime | None:
    """When the lock recorded here ends, if it has not yet."""
    _, state = _row(session, login)
    until = state.get("locked_until")
    if not isinstance(until, str):
        return None
    moment = datetime.fromisoformat(until)
    return moment if moment > now else None


def lock(session: Session, login: str, until: datetime) -> None:
    row, state = _row(session, login)
    current = state.get("locked_until")
    if isinstance(current, str) and datetime.fromisoformat(current) >= until:
        return
    _save(session, row, login, {"failed": 0, "locked_until": until.astimezone(UTC).isoformat()})


def record_failure(session: Session, login: str, now: datetime) -> bool:
    """Count a failed password; True when this one locks the account."""
    row, state = _row(session, login)
    failed = int(state.get("failed", 0)) + 1
    if failed >= MAX_FAILED_ATTEMPTS:
        lock(session, login, now + LOCKOUT)
        return True
    _save(session, row, login, {**state, "failed": failed})
    return False


def clear(session: Session, login: str) -> None:
    row, _ = _row(session, login)
    if row is not None:
        session.delete(row)
