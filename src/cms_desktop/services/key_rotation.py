"""The database key's rotation (#17, item 2): made when an account is disabled, applied by
each station with ``PRAGMA rekey`` at its next open (``storage.dbkey_rotation``).

- ``open_keys`` (login, before the store opens): the keys the password reaches, newest
  first; the file is rekeyed to the newest when it is under an older one. An account that
  cannot reach the newest key (it had no rekey pair when the key changed) is refused with a
  French message: an administrator gives it a new password.
- ``after_login`` (login, once the account is known to be active): audits a rekey done,
  gives the slot its rekey pair if it has none, and makes a new generation when the newest
  one is still held by a disabled account (two stations disabling offline at once).
- ``rotate`` (the disabling, in its transaction): the new generation, sealed to every
  remaining account that has a rekey pair and to the recovery slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import DatabaseError

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.services.access import internal, no_actor
from cms_desktop.services.errors import LoginFailed, StoreUnavailable
from cms_desktop.storage import (
    audit,
    dbkey_rotation,
    in_use,
    keyslot_sync,
    keyslots,
    repositories,
)
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.dbkey_rotation import Generation, GenRef
from cms_desktop.storage.engine import opens_with, rekey
from cms_desktop.storage.models import AgreementKey

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cms_desktop.services.workspace import Workspace

log = logging.getLogger(__name__)

NO_NEWEST_KEY = (
    "La clé de la base de données a été renouvelée le {when} (un compte a été désactivé) et "
    "votre compte n'en a pas reçu de copie : il ne s'était pas connecté depuis la mise à jour "
    "du logiciel. Demandez à l'administrateur du centre de vous donner un nouveau mot de "
    "passe (Administration › Comptes), puis connectez-vous avec celui-ci."
)


@dataclass(frozen=True)
class KeyRing:
    """The database keys a session reaches, newest first, and which one the file is under."""

    keys: tuple[tuple[GenRef, bytes], ...] = field(repr=False)
    in_use: GenRef
    rekeyed_from: GenRef | None = None  # set when this opening rekeyed the file

    @property
    def newest(self) -> tuple[GenRef, bytes]:
        return self.keys[0]

    @property
    def in_use_key(self) -> bytes:
        return dict(self.keys)[self.in_use]

    def all_keys(self) -> list[bytes]:
        return [key for _, key in self.keys]


def _generations(slots: keyslots.SlotFile) -> list[Generation]:
    return dbkey_rotation.parse_all(slots.generations)


def reachable(slots: keyslots.SlotFile, login: str, opened: keyslots.Unwrapped) -> KeyRing:
    """The keys ``opened`` (a slot's unwrapped content) reaches, newest first."""
    start = (keyslots.generation_ref(opened.key_generation), opened.db_key)
    pairs = {
        key_id: private
        for key_id, private in (
            (opened.rekey_key_id, opened.rekey_key),
            # A slot made before the rekey pairs existed may hold the clinical X25519 pair:
            # a new database key is sealed to it then (see ``rotate``).
            (opened.agreement_key_id, opened.agreement_key),
        )
        if key_id is not None and private is not None
    }
    keys = dbkey_rotation.reachable_keys(slots.centre_id, _generations(slots), start, login, pairs)
    return KeyRing(tuple(keys), keys[0][0])


def candidate_keys(slots: keyslots.SlotFile, login: str, secret: str) -> list[bytes]:
    """Every database key ``secret`` reaches through ``login``'s slot, newest first (a
    backup's file may be under any of them); BadCredentials as ``keyslots.unwrap``."""
    return reachable(slots, login, keyslots.unwrap_all(slots, login, secret)).all_keys()


def _refuse_unreachable(data_dir: DataDir, login: str, newest: Generation) -> LoginFailed:
    now = datetime.now(UTC)

    def note(fresh: keyslots.SlotFile) -> None:
        fresh.pending_events.append(
            {"action": "login_refused_key_rotated", "login": login, "at": now.isoformat()}
        )

    try:
        keyslots.update(data_dir.key_slots, note)  # audited at the next login that works
    except (keyslots.KeySlotError, OSError, TimeoutError):
        log.warning("keyslots: refused login not noted")
    try:
        when = paris_text(datetime.fromisoformat(newest.made_at)).replace(" ", " à ", 1)
    except ValueError:
        when = "?"
    return LoginFailed(NO_NEWEST_KEY.format(when=when))


def _rekey_part_opens(centre_id: str, slot: keyslots.Slot, password: str) -> bool:
    """Whether this password opens the slot's rekey part: a replicated row written by
    someone holding the database key may carry a pair of theirs (taken, every new key would
    be sealed to them and this account stranded)."""
    try:
        opened = keyslots.unwrap_all(
            keyslots.SlotFile(centre_id, {slot.login: slot}), slot.login, password
        )
    except keyslots.BadCredentials:
        return False
    return opened.rekey_key_id is not None


def published_pair(
    session: Session, centre_id: str, slot: keyslots.Slot, secret: str
) -> dict[str, str] | None:
    """The rekey part the stations hold for this password (``keyslot_sync.latest_slots``:
    the pair it was first published with), if ``secret`` opens it: a slot that lost its
    pair (an older version kept the file) or never had one here takes it instead of making
    one that no station would seal to."""
    replicated = keyslot_sync.latest_slots(session).get(slot.login)
    if (
        replicated is None
        or replicated.rekey is None
        or (replicated.salt, replicated.kdf) != (slot.salt, slot.kdf)
        or not _rekey_part_opens(centre_id, replicated, secret)
    ):
        return None
    return dict(replicated.rekey)


def open_keys(
    data_dir: DataDir, slots: keyslots.SlotFile, login: str, opened: keyslots.Unwrapped
) -> KeyRing:
    """Before the store opens: find the key ``centre.db`` is under and rekey it to the
    newest one this password reaches. LoginFailed when the centre's newest generation is
    out of reach. When no key opens the file the newest is returned (``open_store`` then
    says in French that the file and the key slots do not match)."""
    ring = reachable(slots, login, opened)
    newest = dbkey_rotation.newest(_generations(slots))
    if newest is not None and newest.ref not in dict(ring.keys):
        if opened.rekey_key_id is None and opened.agreement_key_id is None:
            # An account without a pair when the key changed: refused, never let in under
            # a key the disabled account holds (the administrator gives a new password).
            raise _refuse_unreachable(data_dir, login, newest)
        # A slot with a pair that cannot reach the newest record: a record written by
        # someone holding the database key, or one that missed this slot's pair. Going on
        # with the newest key it reaches locks nobody out; a holder of the newest (if it
        # is real) makes a generation this slot reaches at its next login (after_login).
        log.warning("keyslots: newest database key generation out of this slot's reach")
    path = data_dir.database
    if len(ring.keys) == 1 or not path.exists() or path.stat().st_size == 0:
        return ring  # one key to try (open_store does), or no file (open_store explains)
    found = next((ref for ref, key in ring.keys if opens_with(path, key)), None)
    if found is None or found == ring.newest[0]:
        return ring
    old_key = dict(ring.keys)[found]
    if in_use.users(data_dir.path) > 0:
        # Another process (« sync serve ») has the file open under the old key: rekeying
        # under it would break it. The next opening with nobody else does it.
        log.info("keyslots: database rekey postponed (store in use)")
        return KeyRing(ring.keys, found)
    try:
        rekey(path, old_key, ring.newest[1])
    except (DatabaseError, OSError) as exc:
        log.warning("keyslots: database rekey failed (%s)", type(exc).__name__)
        return KeyRing(ring.keys, found)
    except Exception as exc:  # sqlcipher3's own errors are not SQLAlchemy's
        if opens_with(path, old_key):
            log.warning("keyslots: database rekey failed (%s)", type(exc).__name__)
            return KeyRing(ring.keys, found)
        raise
    return KeyRing(ring.keys, ring.newest[0], rekeyed_from=found)


def _ref_text(ref: GenRef) -> str:
    return f"{ref[0]}:{ref[1]}" if ref[1] else "0"


def _file_update(data_dir: DataDir, change: Callable[[keyslots.SlotFile], object]) -> None:
    try:
        keyslots.update(data_dir.key_slots, change)
    except (keyslots.KeySlotError, OSError, TimeoutError):
        raise StoreUnavailable(
            f"Impossible d'écrire le fichier des clés dans {data_dir.path}. Vérifiez le dossier "
            "de données puis reconnectez-vous."
        ) from None


def _add_records(data_dir: DataDir, records: Iterable[dict[str, object]]) -> None:
    wanted = list(records)

    def add(fresh: keyslots.SlotFile) -> None:
        held = {str(g.get("key_id")) for g in fresh.generations}
        fresh.generations.extend(dict(r) for r in wanted if str(r["key_id"]) not in held)

    _file_update(data_dir, add)


def _needs_rotation(
    session: Session, slots: keyslots.SlotFile, newest: Generation | None
) -> tuple[list[str], list[str]]:
    """Why the newest generation must be replaced, if it must: (the disabled logins it was
    sealed to — made on a station that had not yet learnt of their disabling —, the
    active accounts with a rekey pair that cannot reach it — a slot made meanwhile on
    another station, the recovery slot given its pair since)."""
    if newest is None:
        return [], []
    revoked = keyslot_sync.revoked_logins(session)
    stale = sorted(login for login in newest.sealed if login in revoked)
    active = {u.login for u in repositories.users(session) if u.active and not u.deleted}
    stranded = []
    for login, slot in sorted(slots.slots.items()):
        if slot.rekey is None or login in revoked:
            continue
        if login != keyslots.RECOVERY_LOGIN and login not in active:
            continue
        sealed = newest.sealed.get(login)
        reaches = slot.key_generation == keyslots.generation_text(newest.ref) or (
            sealed is not None and sealed["key_id"] == slot.rekey["key_id"]
        )
        if not reaches:
            stranded.append(login)
    return stale, stranded


@internal("login calls it for the account it has just checked")
def after_login(
    workspace: Workspace,
    login: str,
    user_id: str,
    slot: keyslots.Slot,
    password: str,
    opened: keyslots.Unwrapped,
) -> keyslots.Slot | None:
    """See the module docstring. Returns the slot to save when a rekey pair was made."""
    ring = workspace.keyring
    assert ring is not None
    store = workspace.store
    new_slot: keyslots.Slot | None = None
    made: Generation | None = None
    with store.write() as session:
        # Generations this station's database holds but its file lacks (a crash between
        # a commit and the file's update, a station upgraded since they came): the file
        # must know them before any rekey.
        records = keyslot_sync.generations(session)
        if ring.rekeyed_from is not None:
            audit.append(
                session,
                store.station_id,
                "database_rekeyed",
                user_id=user_id,
                user_login=login,
                details={"from": _ref_text(ring.rekeyed_from), "to": _ref_text(ring.in_use)},
            )
        elif ring.in_use != ring.newest[0]:
            audit.append(
                session,
                store.station_id,
                "database_rekey_postponed",
                user_id=user_id,
                user_login=login,
                details={"generation": _ref_text(ring.newest[0])},
            )
        published = (
            published_pair(session, workspace.centre_id, slot, password)
            if opened.rekey_key_id is None
            else None
        )
        if published is not None:
            # This password's slot got its pair on another station while this one ran a
            # version that dropped it (or the pair its password was published with, the
            # only one the stations seal to: ``keyslot_sync.latest_slots``): take it (same
            # password, same salt; a new pair would strand the keys already sealed to it),
            # the slot wrapping the newest key from now on, like a new pair below.
            new_slot = keyslots.with_keys(
                workspace.centre_id,
                replace(slot, rekey=published),
                password,
                database=slot_key(workspace),
                kek=opened.kek,
            )
            keyslot_sync.record_slot(session, new_slot, password_set=False)
        elif opened.rekey_key_id is None:
            key_id, private, public = dbkey_rotation.new_pair()
            # The slot wraps the newest key from now on, so that it needs no generation
            # sealed to a pair it did not have.
            new_slot = keyslots.with_keys(
                workspace.centre_id,
                slot,
                password,
                rekey=(key_id, private, public),
                database=slot_key(workspace),
                kek=opened.kek,  # the same salt: no second argon2 run
            )
            keyslot_sync.record_slot(session, new_slot, password_set=False)
            audit.append(
                session,
                store.station_id,
                "rekey_pair_created",
                user_id=user_id,
                user_login=login,
                target_type="user",
                target_id=user_id,
                details={"key_id": key_id},
            )
        try:
            fresh = keyslots.load(workspace.data_dir.key_slots)
        except keyslots.KeySlotError:
            raise StoreUnavailable(
                f"Le fichier des clés de {workspace.data_dir.path} est illisible. Restaurez-le "
                "depuis une sauvegarde, puis reconnectez-vous."
            ) from None
        newest = dbkey_rotation.newest(dbkey_rotation.parse_all([*fresh.generations, *records]))
        if new_slot is not None:
            fresh.slots[login] = new_slot
        if newest is not None and newest.ref == ring.newest[0]:
            stale, stranded = _needs_rotation(session, fresh, newest)
            if stale or stranded:
                made = rotate(session, workspace, login, user_id, fresh, stale)
    _add_records(workspace.data_dir, [*records, *([made.as_json()] if made else [])])
    return new_slot


def _agreement_public(session: Session, login: str, slot: keyslots.Slot) -> tuple[str, str] | None:
    """(key id, public key) of the clinical pair ``slot`` wraps, if the centre knows it."""
    if not slot.clinical:
        return None
    key_id = slot.clinical.get("key_id", "")
    row = session.get(AgreementKey, key_id)
    if row is None or row.login != login:
        return None
    return key_id, row.public_key


@internal("the disabling (users.set_active) and after_login call it after their checks")
def rotate(
    session: Session,
    workspace: Workspace,
    login: str,
    user_id: str,
    slots: keyslots.SlotFile,
    disabled: Iterable[str],
) -> Generation:
    """A new generation of the database key, sealed to every active account's rekey pair
    and to the recovery slot's, never to ``disabled``; recorded for the other stations and
    audited. The caller writes it into the file once its transaction has committed; the
    workspace's newest key becomes it (new slots wrap it)."""
    ring = workspace.keyring
    assert ring is not None
    left_out = set(disabled) | keyslot_sync.revoked_logins(session)
    active = {u.login for u in repositories.users(session) if u.active and not u.deleted}
    recipients: list[dbkey_rotation.Recipient] = []
    without_pair: list[str] = []
    for name, slot in sorted(slots.slots.items()):
        if name in left_out or (name != keyslots.RECOVERY_LOGIN and name not in active):
            continue
        if slot.rekey is not None:
            recipients.append(
                dbkey_rotation.Recipient(name, slot.rekey["key_id"], slot.rekey["public"])
            )
            continue
        agreement = _agreement_public(session, name, slot)
        if agreement is None:
            without_pair.append(name)
        else:
            # No rekey pair yet (not logged in since the upgrade; the recovery slot of a
            # centre set up before), but the clinical X25519 pair its slot wraps: sealed to
            # that (its own HKDF info: it never reads as a clinical grant).
            recipients.append(dbkey_rotation.Recipient(name, *agreement))
    generations = dbkey_rotation.parse_all([*slots.generations, *keyslot_sync.generations(session)])
    newest = dbkey_rotation.newest(generations)
    number = max(ring.newest[0][0], newest.number if newest else 0) + 1
    record, key = dbkey_rotation.make_generation(
        workspace.centre_id,
        ring.newest,
        number,
        recipients,
        login,
        datetime.now(UTC).isoformat(),
    )
    keyslot_sync.record_generation(session, record)
    audit.append(
        session,
        workspace.store.station_id,
        "database_key_rotated",
        user_id=user_id,
        user_login=login,
        details={
            "generation": _ref_text(record.ref),
            "disabled": ", ".join(sorted(set(disabled))),
            # They keep their slot but cannot open the file once it is rekeyed: they
            # need a new password (the login screen tells them so).
            "without_pair": ", ".join(without_pair),
        },
    )
    workspace.keyring = KeyRing(((record.ref, key), *ring.keys), ring.in_use, ring.rekeyed_from)
    return record


@internal("the disabling calls it after its transaction committed")
def save_generation(workspace: Workspace, record: Generation) -> None:
    """Write a committed generation into this station's key-slot file."""
    _add_records(workspace.data_dir, [record.as_json()])


@no_actor("the session's own keys, for a slot its caller is allowed to write")
def slot_key(workspace: Workspace) -> tuple[bytes, str | None]:
    """The key a new slot wraps (the newest the session holds) and its generation."""
    ring = workspace.keyring
    if ring is None:
        return workspace.key, None
    ref, key = ring.newest
    return key, keyslots.generation_text(ref)


@no_actor("the session's own keys, for a backup its caller is allowed to check")
def backup_keys(workspace: Workspace) -> list[bytes]:
    """The keys this station's backups may be under, the database's first."""
    ring = workspace.keyring
    if ring is None:
        return [workspace.key]
    return [workspace.key, *(k for k in ring.all_keys() if k != workspace.key)]
