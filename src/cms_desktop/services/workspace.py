"""Opening a workstation's centre: login through a key slot, screen unlock, lock-out.

A ``Workspace`` is the open store plus the database key, kept in memory while the
application runs so that an administrator can add a key slot for a new account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import DatabaseError

from cms_desktop.domain.permissions import Permission, Role, has_permission
from cms_desktop.services import key_rotation
from cms_desktop.services.access import any_role, internal, no_actor
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import DatabaseDamaged, LoginFailed, StoreUnavailable
from cms_desktop.storage import (
    audit,
    clinical_crypto,
    clinical_grants,
    keyslot_sync,
    keyslots,
    lockout,
    repositories,
    signing,
)
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.damage import Damage, diagnose
from cms_desktop.storage.datadir import DataDir, DataDirError
from cms_desktop.storage.engine import WrongKeyError
from cms_desktop.storage.migrations import MigrationFailed
from cms_desktop.storage.models import SigningKey
from cms_desktop.storage.store import CentreMismatch, Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cms_desktop.services.key_rotation import KeyRing

PASSWORD_HASHER = PasswordHasher()

RESTORE_HINT = (
    "Rien n'a été modifié. Pour repartir : restaurez centre.db et keyslots.json depuis la "
    "même sauvegarde (README, section « Backing up »), puis vérifiez avec « cms-desktop check --as "
    "IDENTIFIANT » ; ou, si ce poste est synchronisé avec d'autres postes du centre, mettez "
    "ce dossier de côté et rattachez le poste au centre (« Ajouter ce poste à un centre déjà "
    "installé ») : il reprendra les données des autres postes."
)

RECOVERY_HINT = (
    "Pour récupérer l'accès, le directeur médical peut utiliser le code de récupération "
    "remis lors de l'installation (menu « Code de récupération » de la fenêtre de connexion)."
)


@dataclass
class Workspace:
    data_dir: DataDir
    store: Store
    key: bytes
    centre_id: str
    # The logged-in clinician's Ed25519 signing key (unwrapped from their own slot at login,
    # kept in memory only, like the database key); None for roles that sign nothing.
    signer_id: str | None = None
    signing_key_id: str | None = None
    signing_key: bytes | None = field(default=None, repr=False)
    # The clinical keys this session opened from its own grants (key id → key), in memory
    # only; empty for reception and the administrator, and for a clinician not yet granted.
    clinical_keys: dict[str, ClinicalKey] = field(default_factory=dict, repr=False)
    # The key ids among them this account trusts (written under, passed on) and its trust
    # list (whom it grants to and accepts grants from), as unwrapped from its own slot.
    clinical_trusted: frozenset[str] = frozenset()
    clinical_trust: clinical_grants.Trust | None = field(default=None, repr=False)
    clinical_epoch: int | None = None  # the newest epoch this session trusts
    # The account's X25519 key (opens its grants; re-wrapped if the user changes password).
    agreement_key_id: str | None = None
    agreement_key: bytes | None = field(default=None, repr=False)
    # The key derived from the password at login, and the slot salt it belongs to: a holder
    # giving this account the clinical key in person rewraps its trust list with it.
    slot_kek: bytes | None = field(default=None, repr=False)
    slot_salt: str | None = None
    # The database keys this session reaches (#17, rotation; ``key_rotation.KeyRing``):
    # new slots wrap the newest, which differs from ``key`` after a disabling until the
    # next open rekeys the file.
    keyring: KeyRing | None = field(default=None, repr=False)

    @property
    def clinical_writing_key(self) -> ClinicalKey | None:
        return clinical_grants.writing_key(
            self.clinical_keys, self.clinical_trusted, self.clinical_epoch
        )

    @property
    def clinical_sender(self) -> clinical_crypto.Sender | None:
        if self.agreement_key_id is None or self.agreement_key is None:
            return None
        return clinical_crypto.Sender(self.agreement_key_id, self.agreement_key)

    def take_access(self, access: clinical_grants.Access, epoch: int | None) -> None:
        """Replace what the session holds (whole values: a reader on another thread sees
        the old set or the new one)."""
        self.clinical_keys = dict(access.held)
        self.clinical_trusted = frozenset(access.trusted)
        self.clinical_trust = access.trust
        self.clinical_epoch = epoch

    def close(self) -> None:
        self.store.close()


T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


def load_slots(data_dir: DataDir) -> keyslots.SlotFile:
    try:
        return keyslots.load(data_dir.key_slots)
    except keyslots.KeySlotError as exc:
        if str(exc) == "missing":
            raise StoreUnavailable(
                f"Le fichier des clés ({data_dir.key_slots.name}) est introuvable dans "
                f"{data_dir.path}. Restaurez-le depuis une sauvegarde. {RECOVERY_HINT}"
            ) from None
        raise StoreUnavailable(
            f"Le fichier des clés ({data_dir.key_slots.name}) est endommagé et ne peut pas être "
            f"lu. Restaurez-le depuis une sauvegarde. {RECOVERY_HINT}"
        ) from None


def _update_slots(data_dir: DataDir, change: Callable[[keyslots.SlotFile], T]) -> T:
    """Change the slot file under its lock, on a fresh copy (the sync thread may have
    written a replicated slot since this login started)."""
    try:
        return keyslots.update(data_dir.key_slots, change)
    except keyslots.KeySlotError:
        load_slots(data_dir)  # raises the French message for a missing or damaged file
        raise
    except OSError as exc:
        raise StoreUnavailable(
            f"Impossible d'écrire dans le dossier de données {data_dir.path} : {exc.strerror}."
        ) from None


@internal("user creation, password reset and recovery write a slot after their own checks")
def set_slot(workspace: Workspace, login: str, slot: keyslots.Slot) -> None:
    """Store a user's new key slot on this station (under the file's lock)."""
    _update_slots(workspace.data_dir, lambda fresh: fresh.slots.__setitem__(login, slot))


@internal("the in-person hand-over of the clinical key counts a wrong password as login does")
def count_failed_password(workspace: Workspace, login: str, now: datetime) -> None:
    """A wrong password typed for ``login`` on this station: counted toward its lock-out
    in the key-slot file, and in the audit trail."""
    _update_slots(workspace.data_dir, lambda fresh: keyslots.record_failure(fresh, login, now))
    with workspace.store.write() as session:
        audit.append(session, workspace.store.station_id, "login_failed", user_login=login)


@internal("disabling an account removes its slot after its own checks")
def remove_slot(workspace: Workspace, login: str) -> None:
    """Drop a user's key slot from this station's file (under the file's lock)."""
    _update_slots(workspace.data_dir, lambda fresh: fresh.slots.pop(login, None))


def open_store(data_dir: DataDir, key: bytes, centre_id: str) -> Store:
    try:
        data_dir.ensure_writable()
    except DataDirError as exc:
        raise StoreUnavailable(
            f"Le dossier de données {exc.path} n'est pas accessible en écriture ({exc.reason}). "
            "Vérifiez les droits du dossier ou choisissez-en un autre (--data-dir)."
        ) from None
    if not data_dir.database.exists():
        raise StoreUnavailable(
            f"La base de données du centre (centre.db) est introuvable dans {data_dir.path}. "
            f"{RESTORE_HINT}"
        )
    if data_dir.database.stat().st_size == 0:
        # Opening it would create an empty centre in its place: never silently.
        raise StoreUnavailable(
            f"La base de données du centre (centre.db) est vide (0 octet) dans {data_dir.path} : "
            f"elle a été tronquée (disque plein, copie interrompue ?). {RESTORE_HINT}"
        )
    try:
        return Store.open(data_dir, key, centre_id)
    except WrongKeyError:
        raise StoreUnavailable(
            "La base de données ne correspond pas au fichier des clés : elle appartient à un "
            "autre centre ou elle est endommagée. Restaurez la base et son fichier des clés "
            f"depuis la même sauvegarde. {RECOVERY_HINT}"
        ) from None
    except CentreMismatch:
        raise StoreUnavailable(
            "Cette base de données appartient à un autre centre que le fichier des clés. "
            "Restaurez la base et son fichier des clés depuis la même sauvegarde."
        ) from None
    except MigrationFailed:
        raise StoreUnavailable(
            "La mise à jour de la base de données a échoué ; rien n'a été modifié. "
            "Reprenez la version précédente du logiciel et prévenez l'assistance."
        ) from None


def login(data_dir: DataDir, login_name: str, password: str) -> tuple[Workspace, Actor]:
    """Unwrap this user's key slot and open the centre; wrong passwords count to lock-out."""
    slots = load_slots(data_dir)
    now = _now()
    login_name = login_name.strip()
    try:
        keyslots.check_not_locked(slots, login_name, now)
    except keyslots.AccountLocked as exc:
        _update_slots(
            data_dir,
            lambda fresh: fresh.pending_events.append(
                {"action": "login_refused_locked", "login": login_name, "at": now.isoformat()}
            ),
        )
        raise LoginFailed(_locked_message(exc.until, now)) from None
    try:
        if login_name == keyslots.RECOVERY_LOGIN:
            raise keyslots.BadCredentials(login_name)
        unwrapped = keyslots.unwrap_all(slots, login_name, password)
    except keyslots.BadCredentials:

        def count_failure(fresh: keyslots.SlotFile) -> bool:
            locked = keyslots.record_failure(fresh, login_name, now)
            if login_name in fresh.slots:
                fresh.pending_events.append(
                    {"action": "login_failed", "login": login_name, "at": now.isoformat()}
                )
            else:
                _count_unknown_login(fresh, now)
            if locked:
                fresh.pending_events.append(
                    {"action": "account_locked", "login": login_name, "at": now.isoformat()}
                )
            return locked

        locked = _update_slots(data_dir, count_failure)
        if locked:
            raise LoginFailed(
                "Identifiant ou mot de passe incorrect. Le compte est verrouillé pour 15 minutes."
            ) from None
        raise LoginFailed("Identifiant ou mot de passe incorrect.") from None

    # The newest database key this password reaches; the file rekeyed to it if needed.
    keyring = key_rotation.open_keys(data_dir, slots, login_name, unwrapped)
    key = keyring.in_use_key
    # SQLite reports some damaged pages as SQLITE_NOMEM, which Python raises as MemoryError.
    try:
        store = open_store(data_dir, key, slots.centre_id)
    except (DatabaseError, MemoryError):
        raise damaged_database(data_dir, key) from None
    workspace = Workspace(data_dir, store, key, slots.centre_id, keyring=keyring)
    workspace.slot_kek, workspace.slot_salt = unwrapped.kek, slots.slots[login_name].salt
    locked_in_database: datetime | None = None
    new_slot: keyslots.Slot | None = None
    try:
        with store.write() as session:
            _note_file_locks(session, slots)
            user = repositories.user_by_login(session, login_name)
            locked_in_database = lockout.locked_until(session, login_name, now)
            if locked_in_database is not None:
                # The right password, but the database remembers a lock the key-slot file
                # no longer shows (edited, or restored from an older copy).
                audit.append(
                    session, store.station_id, "login_refused_locked", user_login=login_name
                )
                refused = True
            elif user is None or not user.active or user.deleted:
                audit.append(
                    session, store.station_id, "login_refused_disabled", user_login=login_name
                )
                refused = True
            else:
                refused = False
                actor = Actor(user.id, user.login, user.full_name, Role(user.role))
                _flush_pending_events(session, store, slots)
                lockout.clear(session, login_name)
                if has_permission(actor.role, Permission.CONSULTATION_SIGN):
                    new_slot = _take_signing_key(
                        session, workspace, user.id, slots.slots[login_name], password, unwrapped
                    )
                if clinical_grants.holds_clinical_key(actor.role):
                    new_slot = (
                        _take_clinical_keys(
                            session,
                            workspace,
                            actor,
                            new_slot or slots.slots[login_name],
                            password,
                            unwrapped,
                        )
                        or new_slot
                    )
                audit.append(
                    session, store.station_id, "login", user_id=user.id, user_login=user.login
                )
    except (DatabaseError, MemoryError):
        store.close()
        raise damaged_database(data_dir, key) from None
    if refused:
        store.close()
        if locked_in_database is not None:
            raise LoginFailed(_locked_message(locked_in_database, now))
        raise LoginFailed("Ce compte est désactivé. Adressez-vous à l'administrateur du centre.")
    try:
        new_slot = (
            key_rotation.after_login(
                workspace,
                login_name,
                actor.user_id,
                new_slot or slots.slots[login_name],
                password,
                unwrapped,
            )
            or new_slot
        )
    except (DatabaseError, MemoryError):
        store.close()
        raise damaged_database(data_dir, key) from None
    except StoreUnavailable:
        store.close()
        raise
    flushed = list(slots.pending_events)

    def record_success(fresh: keyslots.SlotFile) -> None:
        held = fresh.slots.get(login_name)
        if new_slot is not None and held is not None and held.salt == new_slot.salt:
            # The same password's slot, now also holding the new signing key (unless the
            # password was changed meanwhile: then the replicated row decides).
            new_slot.failed, new_slot.locked_until = held.failed, held.locked_until
            fresh.slots[login_name] = new_slot
        keyslots.record_success(fresh, login_name)
        # Only the events just written to the audit trail; one added meanwhile stays.
        fresh.pending_events = [e for e in fresh.pending_events if e not in flushed]

    try:
        _update_slots(data_dir, record_success)
    except StoreUnavailable:
        store.close()
        raise
    return workspace, actor


def _take_signing_key(
    session: Session,
    workspace: Workspace,
    user_id: str,
    slot: keyslots.Slot,
    password: str,
    unwrapped: keyslots.Unwrapped,
) -> keyslots.Slot | None:
    """Put the clinician's signing key in the workspace; make a key pair if they have none
    that the centre knows (first login after the upgrade, or after a password reset by
    someone else: the old private key stays wrapped under the old password). Returns the
    slot to save when a key pair was made."""
    workspace.signer_id = user_id
    if unwrapped.signing_key_id is not None and unwrapped.signing_key is not None:
        known = session.get(SigningKey, unwrapped.signing_key_id)
        if known is not None and known.user_id == user_id:
            workspace.signing_key_id = unwrapped.signing_key_id
            workspace.signing_key = unwrapped.signing_key
            return None
    new_slot, key_id, private = issue_signing_key(
        session,
        workspace.store.station_id,
        workspace.centre_id,
        user_id,
        slot,
        password,
        kek=unwrapped.kek,  # the same salt: no second argon2 run
    )
    workspace.signing_key_id, workspace.signing_key = key_id, private
    return new_slot


def _take_clinical_keys(
    session: Session,
    workspace: Workspace,
    actor: Actor,
    slot: keyslots.Slot,
    password: str,
    unwrapped: keyslots.Unwrapped,
) -> keyslots.Slot | None:
    """Open the clinical keys granted to this account (#17) with its trust list: make its
    X25519 key pair if it has none the centre knows (upgraded centre, a password set by
    someone else: that pair waits for a holder's hand-over), create epoch 1 on a centre that
    has none, and grant the trusted keys to the trusted accounts lacking them. The list is
    saved back under the password when it changed. Returns the slot to save, if any."""
    new_slot: keyslots.Slot | None = None
    key_id, private = unwrapped.agreement_key_id, unwrapped.agreement_key
    if (
        key_id is None
        or private is None
        or not clinical_grants.known_agreement_key(
            session, actor.login, key_id, clinical_crypto.public_of(private)
        )
    ):
        new_slot, key_id, private = issue_agreement_key(
            session,
            workspace.store.station_id,
            workspace.centre_id,
            actor.login,
            actor.user_id,
            slot,
            password,
            kek=unwrapped.kek,
        )
    trust: clinical_grants.Trust | None = None
    if unwrapped.trust:
        trust = clinical_grants.Trust.from_json(unwrapped.trust)
    elif new_slot is not None or unwrapped.trust_bound:
        trust = clinical_grants.Trust()  # never first use: its keys come from a holder
    access = clinical_grants.open_grants(session, actor.login, key_id, private, trust)
    epoch, _ = clinical_grants.take_keys(
        session,
        workspace.store.station_id,
        access,
        clinical_crypto.Sender(key_id, private),
        actor.login,
        actor.user_id,
        # A slot of an older version (no bound part) may found the key of a centre that
        # never had one (upgraded from before session 10); a slot of this version only if
        # its list says it was made when the centre had none.
        may_found=not unwrapped.trust_bound,
    )
    workspace.agreement_key_id, workspace.agreement_key = key_id, private
    workspace.take_access(access, epoch)
    listed = access.trust.to_json()
    if listed != unwrapped.trust:
        # The list is kept under the password: only this login (or an approval, which asks
        # for the password again) changes it. Same salt, so the key derived at unwrap fits.
        new_slot = keyslots.with_keys(
            workspace.centre_id, new_slot or slot, password, trust=listed, kek=unwrapped.kek
        )
        keyslot_sync.record_slot(session, new_slot, password_set=False)
    return new_slot


def issue_agreement_key(
    session: Session,
    station_id: str,
    centre_id: str,
    login: str,
    user_id: str,
    slot: keyslots.Slot,
    password: str,
    *,
    kek: bytes | None = None,
) -> tuple[keyslots.Slot, str, bytes]:
    """A new X25519 key pair for the account: public half published (replicated), private
    half wrapped into a copy of ``slot`` (replicated wrapped). (slot, key id, private)."""
    private, public = clinical_crypto.new_agreement_pair()
    key_id = clinical_grants.publish_agreement_key(session, login, public)
    audit.append(
        session,
        station_id,
        "agreement_key_created",
        user_id=user_id,
        user_login=login,
        target_type="user",
        target_id=user_id,
        details={"key_id": key_id},
    )
    new_slot = keyslots.with_keys(centre_id, slot, password, clinical=(key_id, private), kek=kek)
    keyslot_sync.record_slot(session, new_slot, password_set=False)
    return new_slot, key_id, private


def issue_signing_key(
    session: Session,
    station_id: str,
    centre_id: str,
    user_id: str,
    slot: keyslots.Slot,
    password: str,
    *,
    kek: bytes | None = None,
) -> tuple[keyslots.Slot, str, bytes]:
    """A new Ed25519 key pair for ``user_id``: the public half published (replicated), the
    private half wrapped into a copy of ``slot`` under ``password`` (replicated wrapped).
    Returns (that slot, key id, private key); the caller saves the slot to the file."""
    private, public = signing.new_key_pair()
    key_id = signing.publish_key(session, user_id, public)
    audit.append(
        session,
        station_id,
        "signing_key_created",
        user_id=user_id,
        user_login=slot.login,
        target_type="user",
        target_id=user_id,
        details={"key_id": key_id},
    )
    new_slot = keyslots.with_keys(centre_id, slot, password, signing=(key_id, private), kek=kek)
    # The key follows the password everywhere (a login's row: it never dates the password).
    keyslot_sync.record_slot(session, new_slot, password_set=False)
    return new_slot, key_id, private


UNKNOWN_LOGIN_EVENT = "login_failed_unknown"


def _count_unknown_login(slots: keyslots.SlotFile, now: datetime) -> None:
    """Failed logins with names no account has: one counter, so the file stays small
    however many are typed, and no typed name is kept (it may be a mistyped password)."""
    for event in slots.pending_events:
        if event.get("action") == UNKNOWN_LOGIN_EVENT:
            event["count"] = str(int(event.get("count", "1")) + 1)
            event["at"] = now.isoformat()
            return
    slots.pending_events.append(
        {
            "action": UNKNOWN_LOGIN_EVENT,
            "count": "1",
            "first_at": now.isoformat(),
            "at": now.isoformat(),
        }
    )


def damage_message(damage: Damage) -> str:
    """French: what is damaged in the database file and how to get the centre back."""
    if damage.unreadable:
        what = "son premier bloc est illisible"
    else:
        parts = []
        if damage.pages:
            listed = ", ".join(str(p) for p in damage.pages[:10])
            more = "…" if len(damage.pages) > 10 else ""
            parts.append(f"pages n° {listed}{more} illisibles")
        if damage.tables:
            parts.append("tables touchées : " + ", ".join(damage.tables))
        if not parts:
            parts.append("contrôle d'intégrité en échec (" + "; ".join(damage.problems[:3]) + ")")
        what = " ; ".join(parts)
    return f"La base de données du centre (centre.db) est endommagée : {what}. {RESTORE_HINT}"


def damaged_database(data_dir: DataDir, key: bytes) -> DatabaseDamaged:
    """The error to raise when reading the store failed on a damaged file."""
    return DatabaseDamaged(damage_message(diagnose(data_dir.database, key)))


@no_actor("a diagnosis of the open store: page numbers and table names, no content")
def check_database(workspace: Workspace) -> str | None:
    """None when the file is intact, else the French report of what is damaged."""
    damage = diagnose(workspace.data_dir.database, workspace.key)
    return damage_message(damage) if damage.found else None


def _flush_pending_events(session: Session, store: Store, slots: keyslots.SlotFile) -> None:
    # Failed logins happen before the database can be opened: they wait in the key-slot
    # file and enter the audit trail at the next successful login on this workstation.
    for event in slots.pending_events:
        audit.append(
            session,
            store.station_id,
            event["action"],
            user_login=event.get("login", ""),
            details={k: v for k, v in event.items() if k in ("at", "first_at", "count")},
        )


@any_role("one's own screen")
def unlock(workspace: Workspace, actor: Actor, password: str) -> None:
    """Check the password of the user whose screen is locked (the store stays open)."""
    data_dir = workspace.data_dir
    slots = load_slots(data_dir)
    now = _now()
    with workspace.store.write() as session:
        if _locked_until(slots, session, actor.login, now) is not None:
            raise LoginFailed("Compte verrouillé après plusieurs mots de passe erronés.")
        user = repositories.user_by_login(session, actor.login)
        ok = user is not None and user.active and _verify(user.password_hash, password)
        if ok:
            lockout.clear(session, actor.login)
            audit.append(
                session,
                workspace.store.station_id,
                "unlock",
                user_id=actor.user_id,
                user_login=actor.login,
            )
        else:
            locked = _count_unlock_failure(data_dir, session, actor.login, now)
            audit.append(
                session,
                workspace.store.station_id,
                "unlock_failed",
                user_id=actor.user_id,
                user_login=actor.login,
            )
            if locked:
                audit.append(
                    session,
                    workspace.store.station_id,
                    "account_locked",
                    user_id=actor.user_id,
                    user_login=actor.login,
                )
    if ok:
        _update_slots(data_dir, lambda fresh: keyslots.record_success(fresh, actor.login))
    if not ok:
        raise LoginFailed("Mot de passe incorrect.")


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return f"Compte verrouillé après plusieurs mots de passe erronés. Réessayez dans {minutes} min."


def _locked_until(
    slots: keyslots.SlotFile, session: Session, login_name: str, now: datetime
) -> datetime | None:
    """The lock's end if either the key-slot file or the database says the account is
    locked: the database's record survives an edited or restored key-slot file."""
    try:
        keyslots.check_not_locked(slots, login_name, now)
    except keyslots.AccountLocked as exc:
        return exc.until
    return lockout.locked_until(session, login_name, now)


def _count_unlock_failure(
    data_dir: DataDir, session: Session, login_name: str, now: datetime
) -> bool:
    """Count a wrong unlock password in the database and in the key-slot file (read before
    the next login); True when the account is now locked."""
    in_database = lockout.record_failure(session, login_name, now)
    in_file = _update_slots(data_dir, lambda fresh: keyslots.record_failure(fresh, login_name, now))
    if in_database and not in_file:
        until = lockout.locked_until(session, login_name, now)
        if until is not None:  # the file's counter was reset: the login path must see it
            _update_slots(data_dir, lambda fresh: _lock_in_file(fresh, login_name, until))
    return in_database or in_file


def _lock_in_file(slots: keyslots.SlotFile, login_name: str, until: datetime) -> None:
    slot = slots.slots.get(login_name)
    if slot is not None:
        slot.failed = 0
        slot.locked_until = until.astimezone(UTC).isoformat()


def _note_file_locks(session: Session, slots: keyslots.SlotFile) -> None:
    """Copy the locks the key-slot file holds into the database, where editing the file
    cannot undo them."""
    for login_name, slot in slots.slots.items():
        if slot.locked_until:
            lockout.lock(session, login_name, datetime.fromisoformat(slot.locked_until))


@any_role("one's own screen")
def record_lock(workspace: Workspace, actor: Actor) -> None:
    with workspace.store.write() as session:
        audit.append(
            session,
            workspace.store.station_id,
            "screen_locked",
            user_id=actor.user_id,
            user_login=actor.login,
        )


@any_role("one's own session")
def logout(workspace: Workspace, actor: Actor) -> None:
    with workspace.store.write() as session:
        audit.append(
            session,
            workspace.store.station_id,
            "logout",
            user_id=actor.user_id,
            user_login=actor.login,
        )
    workspace.close()


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
