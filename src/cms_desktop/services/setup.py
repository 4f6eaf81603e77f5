"""Setting up a centre on its first workstation, and recovering access with the recovery code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from cms_desktop.domain.agenda.rooms import DEFAULT_LAYOUT, InvalidRoom, RoomDraft, check_layout
from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.domain.permissions import Role
from cms_desktop.services import key_rotation
from cms_desktop.services.agenda.rooms import add_rooms_in_session
from cms_desktop.services.errors import LoginFailed, StoreUnavailable, ValidationFailed
from cms_desktop.services.workspace import (
    hash_password,
    issue_agreement_key,
    load_slots,
    open_store,
)
from cms_desktop.storage import (
    audit,
    clinical_crypto,
    clinical_grants,
    dbkey_rotation,
    keyslot_sync,
    keyslots,
    repositories,
)
from cms_desktop.storage.clinical_grants import holds_clinical_key
from cms_desktop.storage.datadir import DataDir, DataDirError
from cms_desktop.storage.models import AgreementKey, Centre, User, new_id
from cms_desktop.storage.store import Store, new_database_key

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class CentreDraft:
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""
    finess: str = ""
    # The rooms created with the centre: the usual layout unless the installer changed it.
    rooms: tuple[RoomDraft, ...] = field(default=DEFAULT_LAYOUT)


@dataclass(frozen=True)
class SetupResult:
    centre_id: str
    recovery_code: str


def validate_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN_RE.match(login):
        raise ValidationFailed(
            "L'identifiant doit faire de 2 à 64 caractères : lettres minuscules sans accent, "
            "chiffres, point, tiret ou tiret bas."
        )
    return login


def validate_centre(draft: CentreDraft) -> None:
    if not draft.name.strip():
        raise ValidationFailed("Le nom du centre est obligatoire.")
    if draft.finess and not re.fullmatch(r"\d{2}[0-9AB]\d{6}", draft.finess):
        raise ValidationFailed("Le numéro FINESS comporte 9 caractères (ex. 610000000).")
    try:
        check_layout(draft.rooms)
    except InvalidRoom as exc:
        raise ValidationFailed(str(exc)) from None


def initialise_centre(
    data_dir: DataDir,
    draft: CentreDraft,
    admin_login: str,
    admin_name: str,
    admin_password: str,
    *,
    kdf: dict[str, int] | None = None,
    demo: bool = False,
) -> SetupResult:
    """Create the encrypted store, the centre (with its rooms), its first administrator and
    the recovery slot. `demo` marks the demo centre (only the demo builder sets it)."""
    validate_centre(draft)
    admin_login = validate_login(admin_login)
    if not admin_name.strip():
        raise ValidationFailed("Le nom de l'administrateur est obligatoire.")
    try:
        check_password_strength(admin_password, admin_login, [admin_name, draft.name, draft.city])
    except WeakPassword as exc:
        raise ValidationFailed(str(exc)) from None
    try:
        data_dir.ensure_writable()
    except DataDirError as exc:
        raise StoreUnavailable(
            f"Le dossier de données {exc.path} n'est pas accessible en écriture ({exc.reason})."
        ) from None
    if data_dir.initialised:
        raise ValidationFailed(f"Un centre est déjà installé dans {data_dir.path}.")

    centre_id = new_id()
    key = new_database_key()
    recovery = keyslots.new_recovery_code()
    slots = keyslots.SlotFile(centre_id=centre_id)
    # Every slot has a rekey pair from the start (#17): a new database key made when an
    # account is disabled is sealed to it.
    slots.slots[admin_login] = keyslots.with_keys(
        centre_id,
        keyslots.make_slot(centre_id, admin_login, "user", admin_password, key, kdf),
        admin_password,
        rekey=dbkey_rotation.new_pair(),
    )
    recovery_slot = keyslots.make_slot(
        centre_id, keyslots.RECOVERY_LOGIN, "recovery", recovery, key, kdf
    )
    # The recovery code opens the clinical key too (#17): its slot has an X25519 key pair
    # like a clinician's, and the first clinical key is sealed to it as to everyone else.
    recovery_private, recovery_public = clinical_crypto.new_agreement_pair()
    recovery_key_id = new_id()
    slots.slots[keyslots.RECOVERY_LOGIN] = keyslots.with_keys(
        centre_id,
        recovery_slot,
        recovery,
        clinical=(recovery_key_id, recovery_private),
        rekey=dbkey_rotation.new_pair(),
    )
    store = Store.open(data_dir, key, centre_id)
    try:
        with store.write() as session:
            session.add(
                Centre(
                    id=centre_id,
                    name=draft.name,
                    address=draft.address,
                    postcode=draft.postcode,
                    city=draft.city,
                    phone=draft.phone,
                    finess=draft.finess,
                    is_demo=demo,
                )
            )
            add_rooms_in_session(session, draft.rooms)
            session.add(
                AgreementKey(
                    id=recovery_key_id, login=keyslots.RECOVERY_LOGIN, public_key=recovery_public
                )
            )
            admin = User(
                login=admin_login,
                full_name=admin_name.strip(),
                role=Role.ADMINISTRATOR.value,
                password_hash=hash_password(admin_password),
            )
            session.add(admin)
            session.flush()
            audit.append(
                session,
                store.station_id,
                "centre_created",
                user_id=admin.id,
                user_login=admin_login,
                target_type="centre",
                target_id=centre_id,
            )
            audit.append(
                session,
                store.station_id,
                "user_created",
                user_id=admin.id,
                user_login=admin_login,
                target_type="user",
                target_id=admin.id,
                details={"role": Role.ADMINISTRATOR.value},
            )
            # Every station learns the slots' rekey public keys from these rows.
            keyslot_sync.record_slot(session, slots.slots[admin_login], password_set=True)
            keyslot_sync.record_slot(
                session, slots.slots[keyslots.RECOVERY_LOGIN], password_set=True
            )
        keyslots.save(data_dir.key_slots, slots)
    finally:
        store.close()
    return SetupResult(centre_id, recovery)


def recover_access(data_dir: DataDir, recovery_code: str, login: str, new_password: str) -> None:
    """With the recovery code, give ``login`` a new password (and a new key slot)."""
    slots = load_slots(data_dir)
    code = keyslots.normalize_recovery_code(recovery_code)
    try:
        opened = keyslots.unwrap_all(slots, keyslots.RECOVERY_LOGIN, code)
    except keyslots.BadCredentials:
        raise ValidationFailed("Code de récupération incorrect.") from None
    try:
        check_password_strength(new_password, login)
    except WeakPassword as exc:
        raise ValidationFailed(str(exc)) from None
    try:
        # The newest database key the code reaches (#17, rotation); the file rekeyed to it.
        ring = key_rotation.open_keys(data_dir, slots, keyslots.RECOVERY_LOGIN, opened)
    except LoginFailed:
        raise ValidationFailed(
            "Le code de récupération n'ouvre pas la clé actuelle de la base de données : elle "
            "a été renouvelée alors que ce centre n'avait pas encore donné de clé de "
            "renouvellement au code. Un administrateur peut redonner un mot de passe au "
            "compte (Administration › Comptes)."
        ) from None
    key = ring.in_use_key
    newest_ref, newest_key = ring.newest
    store = open_store(data_dir, key, slots.centre_id)
    try:
        with store.write() as session:
            user = repositories.user_by_login(session, login)
            if user is None:
                raise ValidationFailed(f"Aucun compte « {login} » dans ce centre.")
            if not user.active or user.deleted:
                # The code restores access to an account, never the account itself: an
                # administrator disabled it on purpose (#17).
                raise ValidationFailed(
                    f"Le compte « {login} » est désactivé : le code de récupération ne le "
                    "réactive pas. Un administrateur doit d'abord le réactiver (Administration "
                    "› Comptes) puis lui donner un nouveau mot de passe."
                )
            user.password_hash = hash_password(new_password)
            audit.append(
                session,
                store.station_id,
                "password_recovered",
                user_login=login,
                target_type="user",
                target_id=user.id,
            )
            slot = keyslots.with_keys(
                slots.centre_id,
                keyslots.make_slot(
                    slots.centre_id,
                    login,
                    "user",
                    new_password,
                    newest_key,
                    key_generation=keyslots.generation_text(newest_ref),
                ),
                new_password,
                rekey=dbkey_rotation.new_pair(),
            )
            recovery_slot = slots.slots[keyslots.RECOVERY_LOGIN]
            published = (
                key_rotation.published_pair(session, slots.centre_id, recovery_slot, code)
                if opened.rekey_key_id is None
                else None
            )
            if published is not None:
                # The pair the code's slot was published with (a station that dropped
                # it): the stations seal to that one only.
                slots.slots[keyslots.RECOVERY_LOGIN] = replace(recovery_slot, rekey=published)
            elif opened.rekey_key_id is None:
                # A centre set up before the rotation: the code is typed now, so the
                # recovery slot gets its rekey pair (the next new key is sealed to it).
                slots.slots[keyslots.RECOVERY_LOGIN] = keyslots.with_keys(
                    slots.centre_id,
                    recovery_slot,
                    code,
                    rekey=dbkey_rotation.new_pair(),
                )
                keyslot_sync.record_slot(
                    session, slots.slots[keyslots.RECOVERY_LOGIN], password_set=False
                )
            recovery_key_id, recovery_private = opened.agreement_key_id, opened.agreement_key
            if holds_clinical_key(Role(user.role)) and recovery_key_id and recovery_private:
                # The recovery slot holds the clinical keys (#17): a clinician (the director
                # of a one-doctor centre) gets them back with the code, under a new key pair
                # wrapped under the new password, without waiting for another holder.
                slot, key_id, private = issue_agreement_key(
                    session, store.station_id, slots.centre_id, login, user.id, slot, new_password
                )
                # What the recovery slot holds (its own list if it has one; else first use).
                recovered = clinical_grants.open_grants(
                    session,
                    keyslots.RECOVERY_LOGIN,
                    recovery_key_id,
                    recovery_private,
                    clinical_grants.Trust.from_json(opened.trust) if opened.trust else None,
                    any_sender=True,  # the code's holder is there: an emergency path
                )
                # The code's holder chose this password: the new key is trusted by the
                # recovery slot, and the account starts with the recovery slot's list.
                recovered.trust.recipients[key_id] = clinical_grants.Pin(
                    login, clinical_crypto.public_of(private)
                )
                clinical_grants.grant_missing(
                    session,
                    store.station_id,
                    recovered,
                    clinical_crypto.Sender(recovery_key_id, recovery_private),
                    keyslots.RECOVERY_LOGIN,
                    None,
                )
                slot = keyslots.with_keys(
                    slots.centre_id, slot, new_password, trust=recovered.trust.to_json()
                )
            # The new password works on every station.
            keyslot_sync.record_slot(session, slot, password_set=True)
        slots.slots[login] = slot
        keyslots.save(data_dir.key_slots, slots)
    finally:
        store.close()
