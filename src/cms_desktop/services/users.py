"""Staff accounts: list, create, disable, reset a password, change a role (administrators)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.domain.permissions import (
    CLINICAL_ROLES,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    has_permission,
)
from cms_desktop.domain.rpps import rpps_problem
from cms_desktop.services import key_rotation
from cms_desktop.services.access import no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.setup import validate_login
from cms_desktop.services.workspace import (
    Workspace,
    hash_password,
    issue_agreement_key,
    issue_signing_key,
    load_slots,
    remove_slot,
    set_slot,
)
from cms_desktop.storage import (
    audit,
    clinical_grants,
    dbkey_rotation,
    keyslot_sync,
    keyslots,
    repositories,
)
from cms_desktop.storage.clinical_grants import holds_clinical_key
from cms_desktop.storage.models import Centre, Practitioner, User

# Accounts that come with an agenda column. The medical director's account may be a
# manager's: a column is added for it from « Plages… » (linked to the account) if needed.
CONSULTING_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.DENTIST, Role.OTHER_CLINICIAN})

# Agenda column colours given in turn to new practitioners (the agenda's own palette).
_COLOURS = ("#4f81bd", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#1f4e79")


@dataclass(frozen=True)
class UserInfo:
    id: str
    login: str
    full_name: str
    role: Role
    active: bool
    profession: str
    specialty: str
    rpps: str
    may_prescribe_bizone: bool = False

    @property
    def prescribes(self) -> bool:
        return prescribes(self.role)


@dataclass(frozen=True)
class NewUser:
    login: str
    full_name: str
    role: Role
    password: str
    profession: str = ""
    specialty: str = ""
    rpps: str = ""
    title: str = ""
    may_prescribe_bizone: bool = False  # the ALD (bizone) form; only for a prescribing role


def prescribes(role: Role) -> bool:
    """The role writes prescriptions: the bizone right means something for it."""
    return Permission.PRESCRIPTION_WRITE in ROLE_PERMISSIONS[role]


_NO_BIZONE_FOR_ROLE = (
    "Seul un compte qui rédige des ordonnances (médecin, chirurgien-dentiste, direction "
    "médicale) peut prescrire sur une ordonnance bizone (ALD)."
)


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id,
        user.login,
        user.full_name,
        Role(user.role),
        user.active,
        user.profession,
        user.specialty,
        user.rpps,
        bool(user.may_prescribe_bizone),
    )


def _centre_names(session: Session) -> list[str]:
    """The centre's name and town: a password built on them is among the first guessed."""
    centre = session.scalars(select(Centre)).first()
    return [centre.name, centre.city] if centre is not None else []


def _check_password(password: str, login: str, names: list[str]) -> None:
    try:
        check_password_strength(password, login, names)
    except WeakPassword as exc:
        raise ValidationFailed(str(exc)) from None


@requires(Permission.USERS_MANAGE)
def list_users(ws: Workspace, actor: Actor) -> list[UserInfo]:
    actor.require(Permission.USERS_MANAGE)
    with ws.store.read() as session:
        return [_info(u) for u in repositories.users(session)]


@no_actor("names for the agenda's choices, no patient data")
def list_practitioners(ws: Workspace) -> list[UserInfo]:
    """Active clinicians, for agendas and prescriptions (names are not secret)."""
    with ws.store.read() as session:
        return [
            _info(u)
            for u in repositories.users(session)
            if u.active and Role(u.role) in CLINICAL_ROLES
        ]


@requires(Permission.USERS_MANAGE)
def create_user(ws: Workspace, actor: Actor, new: NewUser) -> UserInfo:
    actor.require(Permission.USERS_MANAGE)
    login = validate_login(new.login)
    if not new.full_name.strip():
        raise ValidationFailed("Le nom complet est obligatoire.")
    if new.rpps:
        problem = rpps_problem(new.rpps)
        if problem is not None:
            raise ValidationFailed(problem)
    if new.may_prescribe_bizone and not prescribes(Role(new.role)):
        raise ValidationFailed(_NO_BIZONE_FOR_ROLE)
    with ws.store.read() as session:
        _check_password(new.password, login, [new.full_name, *_centre_names(session)])
    slots = load_slots(ws.data_dir)
    with ws.store.write() as session:
        if repositories.user_by_login(session, login) is not None or login in slots.slots:
            raise ValidationFailed(f"L'identifiant « {login} » est déjà utilisé.")
        user = User(
            login=login,
            full_name=new.full_name.strip(),
            role=Role(new.role).value,
            password_hash=hash_password(new.password),
            profession=new.profession,
            specialty=new.specialty,
            rpps=new.rpps,
            title=new.title,
            may_prescribe_bizone=new.may_prescribe_bizone,
        )
        session.add(user)
        session.flush()
        audit.append(
            session,
            ws.store.station_id,
            "user_created",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="user",
            target_id=user.id,
            details={"role": user.role},
        )
        if Role(new.role) in CONSULTING_ROLES:
            _add_agenda_column(session, user)
        # The slot is written before the commit: if it fails, the account is not created.
        slot = _new_slot(ws, login, new.password)
        if has_permission(Role(new.role), Permission.CONSULTATION_SIGN):
            # A clinician signs from the first day (#17); the slot row is published with it.
            slot, _, _ = issue_signing_key(
                session, ws.store.station_id, ws.centre_id, user.id, slot, new.password
            )
        if holds_clinical_key(Role(new.role)):
            # Its public key is known from the first day; a holder hands it the clinical key
            # in person (the administrator creating the account holds none, #17). On a
            # centre that has no clinical key yet, its list says it may make the first one.
            slot, _, _ = issue_agreement_key(
                session, ws.store.station_id, ws.centre_id, login, user.id, slot, new.password
            )
            if not clinical_grants.centre_has_clinical_key(session):
                founder = clinical_grants.Trust(founder=True)
                clinical_grants.pin_recovery(session, founder)
                slot = keyslots.with_keys(ws.centre_id, slot, new.password, trust=founder.to_json())
        keyslot_sync.record_slot(session, slot, password_set=True)  # other stations get it too
        set_slot(ws, login, slot)
        return _info(user)


def _add_agenda_column(session: Session, user: User) -> None:
    """A clinician's account comes with the agenda column reception books into."""
    count = session.query(Practitioner).count()
    session.add(
        Practitioner(
            user_id=user.id,
            full_name=user.full_name,
            title=user.title,
            profession=user.profession,
            specialty=user.specialty,
            rpps=user.rpps,
            colour=_COLOURS[count % len(_COLOURS)],
            sort_order=count,
        )
    )
    session.flush()


def _get(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted:
        raise NotFound("Compte introuvable.")
    assert isinstance(user, User)
    return user


@requires(Permission.USERS_MANAGE)
def set_active(ws: Workspace, actor: Actor, user_id: str, active: bool) -> UserInfo:
    actor.require(Permission.USERS_MANAGE)
    if user_id == actor.user_id and not active:
        raise ValidationFailed("Vous ne pouvez pas désactiver votre propre compte.")
    slots = load_slots(ws.data_dir) if not active else None  # missing or damaged: French
    rotated: dbkey_rotation.Generation | None = None
    with ws.store.write() as session:
        user = _get(session, user_id)
        user.active = active
        audit.append(
            session,
            ws.store.station_id,
            "user_enabled" if active else "user_disabled",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="user",
            target_id=user.id,
        )
        if not active:
            # Its password must stop unwrapping the key, here and (once synced) on every
            # station; re-enabling does not bring the slot back: a new password does (#17).
            keyslot_sync.record_revocation(session, user.login)
            remove_slot(ws, user.login)
            if slots is not None and ws.keyring is not None:
                # Its old password and a kept copy of the slot file still reach the current
                # database key: a new one, sealed to every other account, replaces it on
                # each station at its next open (#17).
                slots.slots.pop(user.login, None)
                rotated = key_rotation.rotate(
                    session, ws, actor.login, actor.user_id, slots, [user.login]
                )
        info = _info(user)
    if rotated is not None:
        key_rotation.save_generation(ws, rotated)
    return info


@requires(Permission.USERS_MANAGE)
def change_role(ws: Workspace, actor: Actor, user_id: str, role: Role) -> UserInfo:
    actor.require(Permission.USERS_MANAGE)
    with ws.store.write() as session:
        user = _get(session, user_id)
        if user_id == actor.user_id and role is not Role.ADMINISTRATOR:
            raise ValidationFailed("Vous ne pouvez pas retirer votre propre rôle d'administrateur.")
        old = user.role
        user.role = Role(role).value
        if not prescribes(Role(role)):
            user.may_prescribe_bizone = False  # the right goes with prescribing
        audit.append(
            session,
            ws.store.station_id,
            "user_role_changed",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="user",
            target_id=user.id,
            details={"from": old, "to": user.role},
        )
        return _info(user)


@requires(Permission.USERS_MANAGE)
def set_bizone_right(ws: Workspace, actor: Actor, user_id: str, allowed: bool) -> UserInfo:
    """Whether this prescriber may prescribe on the bizone (ALD) form; audited."""
    actor.require(Permission.USERS_MANAGE)
    with ws.store.write() as session:
        user = _get(session, user_id)
        if allowed and not prescribes(Role(user.role)):
            raise ValidationFailed(_NO_BIZONE_FOR_ROLE)
        if bool(user.may_prescribe_bizone) != allowed:
            user.may_prescribe_bizone = allowed
            audit.append(
                session,
                ws.store.station_id,
                "user_bizone_right_changed",
                user_id=actor.user_id,
                user_login=actor.login,
                target_type="user",
                target_id=user.id,
                details={"to": "1" if allowed else "0"},
            )
        return _info(user)


@requires(Permission.USERS_MANAGE, note="one's own password: any role")
def reset_password(ws: Workspace, actor: Actor, user_id: str, new_password: str) -> None:
    """An administrator sets a new password; only that user's key slot is re-wrapped."""
    if user_id != actor.user_id:
        actor.require(Permission.USERS_MANAGE)
    load_slots(ws.data_dir)  # a missing or damaged slot file fails here, in French
    with ws.store.write() as session:
        user = _get(session, user_id)
        _check_password(new_password, user.login, [user.full_name, *_centre_names(session)])
        user.password_hash = hash_password(new_password)
        audit.append(
            session,
            ws.store.station_id,
            "password_reset",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="user",
            target_id=user.id,
        )
        slot = _new_slot(ws, user.login, new_password)
        if user.id == actor.user_id:
            # One's own new password: the keys in memory since login follow it (the signing
            # key, the X25519 key that opens the clinical-key grants, and the trust list).
            # Set by someone else, the slot has none: its owner gets new pairs at their next
            # login, which wait for a holder's approval, and the one who set the password
            # never holds the old keys (#17).
            trust = ws.clinical_trust
            slot = keyslots.with_keys(
                ws.centre_id,
                slot,
                new_password,
                signing=_held(ws.signing_key_id, ws.signing_key),
                clinical=_held(ws.agreement_key_id, ws.agreement_key),
                trust=trust.to_json() if trust is not None else None,
                # The rekey pair too: a new database key made since this session opened is
                # sealed to it (a new pair would be reached by none, and the next login
                # refused).
                rekey=_own_rekey_pair(ws, user.login),
            )
        keyslot_sync.record_slot(session, slot, password_set=True)
        set_slot(ws, user.login, slot)


def _own_rekey_pair(ws: Workspace, login: str) -> tuple[str, bytes, str] | None:
    """This session's rekey pair (key id, private, public), read from its own slot with the
    key derived at login; None if the slot changed since (another station) or has none."""
    held = load_slots(ws.data_dir).slots.get(login)
    if held is None or ws.slot_kek is None or held.salt != ws.slot_salt or not held.rekey:
        return None
    try:
        opened = keyslots.unwrap_with_kek(ws.centre_id, held, ws.slot_kek)
    except InvalidTag:
        return None
    if opened.rekey_key_id is None or opened.rekey_key is None:
        return None
    return opened.rekey_key_id, opened.rekey_key, held.rekey["public"]


def _new_slot(ws: Workspace, login: str, password: str) -> keyslots.Slot:
    """A slot wrapping the newest database key the session holds, with a rekey pair of its
    own from the start: the next rotation seals the new key to it (#17)."""
    key, generation = key_rotation.slot_key(ws)
    slot = keyslots.make_slot(ws.centre_id, login, "user", password, key, key_generation=generation)
    return keyslots.with_keys(ws.centre_id, slot, password, rekey=dbkey_rotation.new_pair())


def _held(key_id: str | None, key: bytes | None) -> tuple[str, bytes] | None:
    return (key_id, key) if key_id and key else None
