"""Keeps ``keyslots.json`` in line with the replicated ``account_key_slots`` rows.

An account created (or a password reset) on one station adds a row holding the wrapped
slot; every station that receives it rewrites its own slot file atomically, so the person
logs in anywhere with the same password. Disabling an account adds a ``revoked`` row: every
station removes that login's slot, so its old password unwraps nothing from a current
``keyslots.json``. Failed-attempt counters stay per station.

Which row decides a login's slot: the newest row of its newest *password*, not its newest
row. A login publishes its slot again whenever its trust list or key parts change; on a
station that has not yet received a password reset made elsewhere, a login with the old
password would otherwise write a row newer than the reset's and undo it on every station.
A password is dated by the first row that carried its salt (``make_slot`` draws a new salt
for every password set; ``with_keys`` keeps it), ignoring rows marked ``republished``
(written by a login, a hand-over, a new key pair): so a reset's row outranks any later row
of the password it replaced, and a revocation outranks every row of a password set before
it. A password whose rows are all republished ones (set before slots were replicated)
ranks below any password set since.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.storage import dbkey_rotation, keyslots
from cms_desktop.storage.models import AccountKeySlot
from cms_desktop.storage.store import Store

log = logging.getLogger(__name__)

TABLE = AccountKeySlot.__tablename__
REVOKED = "revoked"
# A generation of the database key (``dbkey_rotation``): all under one login, every row
# kept (not only the newest), since each holds the key of the one before it.
GENERATION = "generation"
GENERATION_LOGIN = "__dbkey__"
# In a slot row's body: written again for a password already set (its rank stays the
# password's); older versions ignore the key, and their rows count as password sets.
REPUBLISHED = "republished"
_KDF_LIMITS = {"time_cost": (1, 20), "memory_cost": (8192, 1 << 21), "parallelism": (1, 16)}


def record_slot(session: Session, slot: keyslots.Slot, *, password_set: bool) -> None:
    """Publish ``slot`` to the other stations (in the caller's transaction).

    ``password_set`` is True only where the password itself was set (set-up, an account
    created, a reset, one's own new password, the recovery code used): such a row dates the
    password; any other (a login, a hand-over, a key pair made) is marked republished and
    never outranks a password set since, wherever it was written (see the module doc)."""
    body: dict[str, Any] = {
        "salt": slot.salt,
        "nonce": slot.nonce,
        "wrapped": slot.wrapped,
        "kdf": slot.kdf,
    }
    if slot.signing is not None:
        body["signing"] = dict(slot.signing)  # wrapped under the same password, never clear
    if slot.clinical is not None:
        body["clinical"] = dict(slot.clinical)  # likewise (the X25519 private key)
    if slot.trust is not None:
        body["trust"] = dict(slot.trust)  # likewise (whom the account trusts, #17)
    if slot.rekey is not None:
        body["rekey"] = dict(slot.rekey)  # likewise, with its public half
    if slot.key_generation is not None:
        body["key_generation"] = slot.key_generation
    if not password_set:
        body[REPUBLISHED] = True
    session.add(
        AccountKeySlot(login=slot.login, kind=slot.kind, slot_json=json.dumps(body, sort_keys=True))
    )


def record_generation(session: Session, generation: dbkey_rotation.Generation) -> None:
    """Publish a new generation of the database key (in the caller's transaction). A
    station not yet upgraded reads the row as an unreadable slot and ignores it."""
    session.add(
        AccountKeySlot(
            login=GENERATION_LOGIN,
            kind=GENERATION,
            slot_json=json.dumps(generation.as_json(), sort_keys=True),
        )
    )


def generations(session: Session) -> list[dict[str, Any]]:
    """Every replicated generation record (JSON form), oldest row first."""
    out: list[dict[str, Any]] = []
    rows = session.scalars(
        select(AccountKeySlot)
        .where(AccountKeySlot.kind == GENERATION)
        .order_by(AccountKeySlot.version)
    )
    for row in rows:
        try:
            out.append(dbkey_rotation.parse(json.loads(row.slot_json)).as_json())
        except ValueError:
            log.warning("keyslots: generation row %s unreadable, ignored", row.id)
    return out


def record_revocation(session: Session, login: str) -> None:
    """Tell every station to drop ``login``'s slot (in the caller's transaction). A station
    not yet upgraded reads the row as an unreadable slot and ignores it."""
    session.add(AccountKeySlot(login=login, kind=REVOKED, slot_json="{}"))


def _read(row: AccountKeySlot) -> tuple[keyslots.Slot | None, bool]:
    """(the slot a row carries, None if unreadable; whether it is marked republished)."""
    try:
        body: dict[str, Any] = json.loads(row.slot_json)
    except ValueError:
        return None, False
    if not isinstance(body, dict):
        return None, False
    return _slot_of(row, body), body.get(REPUBLISHED) is True


def _slot_of(row: AccountKeySlot, body: dict[str, Any]) -> keyslots.Slot | None:
    try:
        kdf = {name: int(body["kdf"][name]) for name in _KDF_LIMITS}
        if any(not low <= kdf[n] <= high for n, (low, high) in _KDF_LIMITS.items()):
            return None
        slot = keyslots.Slot(
            login=row.login,
            kind=row.kind,
            salt=str(body["salt"]),
            nonce=str(body["nonce"]),
            wrapped=str(body["wrapped"]),
            kdf=kdf,
        )
        for part in ("signing", "clinical", "trust"):
            wrapped = body.get(part)
            if wrapped is not None:
                setattr(slot, part, {n: str(wrapped[n]) for n in ("key_id", "nonce", "wrapped")})
        rekey = body.get("rekey")
        if rekey is not None:
            slot.rekey = {n: str(rekey[n]) for n in ("key_id", "nonce", "wrapped", "public")}
        if body.get("key_generation") is not None:
            slot.key_generation = str(body["key_generation"])
        keyslots.check_slot_encoding(slot)
    except (ValueError, KeyError, TypeError):
        return None
    if row.kind == "recovery":  # the recovery slot, once it has a rekey pair
        return slot if row.login == keyslots.RECOVERY_LOGIN else None
    return slot if row.kind == "user" else None


@dataclass
class _Password:
    """One password of a login (its rows share a salt), or one revocation."""

    newest: AccountKeySlot  # its newest readable row
    slot: keyslots.Slot | None = None  # that row's slot (None: a revocation)
    set_at: str | None = None  # its first row not marked republished
    # The rekey part of its first row that carried one: the pair it was set with (#17).
    rekey: dict[str, str] | None = None


def _passwords(session: Session) -> dict[str, _Password]:
    """Login → the password (or revocation) that decides its slot, the same choice on every
    station: among its passwords (rows grouped by salt) and revocations, the most recently
    set — a password dated by its first row not marked republished, a revocation by its own
    row. See the module docstring. Each row is read once; an unreadable row (junk written
    by whoever holds the database key) ranks nowhere: it can neither hide a login's slot nor
    outrank a revocation."""
    rows = select(AccountKeySlot).where(AccountKeySlot.kind != GENERATION)
    entries: dict[str, dict[str, _Password]] = {}
    for row in session.scalars(rows.order_by(AccountKeySlot.version)):
        per_login = entries.setdefault(row.login, {})
        if row.kind == REVOKED:
            per_login[f"row:{row.id}"] = _Password(row, None, row.version)
            continue
        slot, republished = _read(row)
        if slot is None:
            log.warning("keyslots: replicated slot row %s unreadable, ignored", row.id)
            continue
        entry = per_login.get(slot.salt)
        if entry is None:
            entry = per_login[slot.salt] = _Password(row)
        entry.newest, entry.slot = row, slot  # rows come oldest first
        if entry.set_at is None and not republished:
            entry.set_at = row.version
        if entry.rekey is None and slot.rekey is not None:
            entry.rekey = dict(slot.rekey)
    # A password without a dating row (only republished rows: set before slots were
    # replicated) ranks below every password set, and every revocation made, since.
    return {
        login: max(per_login.values(), key=lambda e: (e.set_at or "", e.newest.version))
        for login, per_login in entries.items()
        if per_login
    }


def revoked_logins(session: Session) -> set[str]:
    """Logins whose deciding entry (``_passwords``: the most recently set password, or a
    revocation) is a revocation: disabled, not given a password since. A later row of an
    older password (a login elsewhere) does not cancel it."""
    return {login for login, p in _passwords(session).items() if p.newest.kind == REVOKED}


def latest_slots(session: Session) -> dict[str, keyslots.Slot]:
    """Login → its slot (the newest row of its newest password, see ``_passwords``), for
    logins whose newest password is not revoked.

    The slot's rekey pair is the one its password was first published with, whatever a
    later row of the same password says: whoever holds the database key can write a row
    copying a colleague's (or the recovery slot's) salt and wrapped key with a rekey public
    key of their own, and the next database key would be sealed to them (#17). A password
    set by this version is published with its pair in the same transaction, so no such row
    can come first; the owner's own session never changes the pair of a password."""
    out: dict[str, keyslots.Slot] = {}
    for login, password in _passwords(session).items():
        slot, row = password.slot, password.newest
        if slot is None:  # revoked
            continue
        if password.rekey is not None and slot.rekey != password.rekey:
            if slot.rekey is not None:
                log.warning("keyslots: row %s offers another rekey pair, ignored", row.id)
            slot.rekey = dict(password.rekey)
        out[login] = slot
    return out


def refresh_key_slots(store: Store) -> list[str]:
    """Rewrite the slot file where replicated rows differ from it; returns the logins changed."""
    with store.read() as session:
        wanted = latest_slots(session)
        revoked = revoked_logins(session)
        records = generations(session)
    if not wanted and not revoked and not records:
        return []

    def apply(slots: keyslots.SlotFile) -> list[str]:
        changed: list[str] = []
        held_ids = {str(g.get("key_id")) for g in slots.generations}
        for record in records:
            if record["key_id"] not in held_ids:
                # Written before any rekey that needs it: a station's file always knows
                # the generation its database is under.
                slots.generations.append(record)
                changed.append(GENERATION_LOGIN)
        for login in sorted(revoked):
            if login in slots.slots and login != keyslots.RECOVERY_LOGIN:
                del slots.slots[login]  # disabled elsewhere: its password opens nothing here
                changed.append(login)
        for login, slot in sorted(wanted.items()):
            held = slots.slots.get(login)
            if login == keyslots.RECOVERY_LOGIN and held is not None and held.salt != slot.salt:
                # The recovery code is set once, at set-up (this file has its slot since, by
                # set-up, pairing or restore): a recovery row of another code is written by
                # someone holding the database key, to be sealed the next database key (#17).
                log.warning("keyslots: a replicated recovery slot of another code, ignored")
                continue
            if held is not None and (
                held.salt,
                held.nonce,
                held.wrapped,
                held.signing,
                held.clinical,
                held.trust,
                held.rekey,
                held.key_generation,
            ) == (
                slot.salt,
                slot.nonce,
                slot.wrapped,
                slot.signing,
                slot.clinical,
                slot.trust,
                slot.rekey,
                slot.key_generation,
            ):
                continue
            slots.slots[login] = slot  # a new password: this station's counters start afresh
            changed.append(login)
        return changed

    try:
        # Under the file's lock, on a fresh copy: a failed-login counter saved meanwhile by
        # the login screen is kept.
        changed = keyslots.update(store.data_dir.key_slots, apply)
    except keyslots.KeySlotError as exc:
        log.warning("keyslots: slot file not updated (%s)", exc)
        return []
    except OSError as exc:
        log.warning("keyslots: slot file not updated (%s)", exc.strerror or type(exc).__name__)
        return []
    return changed
