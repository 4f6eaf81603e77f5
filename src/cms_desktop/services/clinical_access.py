"""Giving the clinical key to an account: a holder does it in person (#17).

Whoever holds the database key can write an account, a public key or a grant in the
database, and whoever set a password (the administrator at creation or reset) can log in
with it. So the key is never given on the rows' word: a holder (the medical director, a
clinician) types their own login and password at the newcomer's screen. That opens the
holder's slot there: the newcomer's public key is added to the holder's trust list, the
holder's keys are sealed to it, and the newcomer's list starts as a copy of the holder's;
no step ever trusts on first use. The holder sees who sits at the screen, which the
software cannot. The accounts waiting are listed to every holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cms_desktop.domain.permissions import ROLE_LABELS, Permission, Role
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import (
    Workspace,
    count_failed_password,
    issue_agreement_key,
    load_slots,
    set_slot,
)
from cms_desktop.storage import (
    audit,
    clinical_crypto,
    clinical_grants,
    keyslot_sync,
    keyslots,
    lockout,
    repositories,
)

RECOVERY_LABEL = "Code de récupération du centre"
NOT_A_HOLDER = (
    "Ce compte ne détient pas la clé du dossier médical : demandez au médecin directeur ou "
    "à un soignant qui lit déjà les dossiers sur ce logiciel."
)


@dataclass(frozen=True)
class WaitingAccount:
    login: str
    full_name: str
    role: str  # French label
    key_id: str
    created_at: datetime  # when the key was made (the account's first login with it)
    reason: str  # French: why it waits


def _reason(waiting: clinical_grants.Waiting) -> str:
    if waiting.login == keyslots.RECOVERY_LOGIN:
        return (
            "Nouvelle clé du code de récupération : légitime seulement si le code de "
            "récupération vient d'être refait."
        )
    if waiting.revoked:
        return "Compte réactivé après une désactivation."
    if waiting.replaces:
        return (
            "Nouvelle clé : le mot de passe a été défini par une autre personne "
            "(réinitialisation par l'administrateur ou code de récupération)."
        )
    return "Nouveau compte soignant."


@requires(Permission.CLINICAL_READ)
def waiting_for_key(ws: Workspace, actor: Actor) -> list[WaitingAccount]:
    """The accounts this holder may give the clinical key to (empty if it holds none)."""
    actor.require(Permission.CLINICAL_READ)
    trust = ws.clinical_trust
    if trust is None or not ws.clinical_trusted:
        return []
    with ws.store.read() as session:
        out = []
        for waiting in clinical_grants.waiting_recipients(session, trust):
            user = repositories.user_by_login(session, waiting.login)
            if user is None and waiting.login != keyslots.RECOVERY_LOGIN:
                continue
            out.append(
                WaitingAccount(
                    waiting.login,
                    user.full_name if user is not None else RECOVERY_LABEL,
                    ROLE_LABELS[Role(user.role)] if user is not None else "",
                    waiting.key_id,
                    waiting.created_at,
                    _reason(waiting),
                )
            )
    return out


HOLDER_REFUSED = "Identifiant ou mot de passe du détenteur de la clé incorrect."


@requires(Permission.CLINICAL_READ)
def receive_key(ws: Workspace, actor: Actor, holder_login: str, holder_password: str) -> str:
    """A holder of the clinical key, at this account's screen, types their own login and
    password: this account's key is added to the holder's trust list, the holder's keys are
    sealed to it, and this account's list starts as a copy of the holder's. Returns the
    holder's name. Wrong passwords count toward the holder's lock-out, as at login."""
    actor.require(Permission.CLINICAL_READ)
    holder_login = holder_login.strip()
    me = ws.clinical_sender
    if me is None or ws.slot_kek is None:
        raise ValidationFailed(
            "Votre compte n'a pas encore de clé d'accès : reconnectez-vous, puis recommencez."
        )
    if holder_login == actor.login:
        raise ValidationFailed(
            "La clé se reçoit d'une autre personne : le médecin directeur ou un soignant qui "
            "la détient saisit ici son propre identifiant et son mot de passe."
        )
    slots = load_slots(ws.data_dir)
    if slots.slots.get(actor.login) is None or slots.slots[actor.login].salt != ws.slot_salt:
        raise ValidationFailed(
            "Votre mot de passe a changé depuis votre connexion : reconnectez-vous, puis "
            "recommencez."
        )
    now = datetime.now(UTC)
    with ws.store.read() as session:
        # The lock the database remembers too (a key-slot file edited or restored).
        locked = lockout.locked_until(session, holder_login, now) is not None
    try:
        keyslots.check_not_locked(slots, holder_login, now)
    except keyslots.AccountLocked:
        locked = True
    if locked:
        raise ValidationFailed(
            "Ce compte est verrouillé après plusieurs mots de passe erronés : réessayez plus tard."
        )
    if holder_login == keyslots.RECOVERY_LOGIN:
        raise ValidationFailed(HOLDER_REFUSED)
    try:
        holder = keyslots.unwrap_all(slots, holder_login, holder_password)
    except keyslots.BadCredentials:
        count_failed_password(ws, holder_login, now)
        raise ValidationFailed(HOLDER_REFUSED) from None
    if holder.agreement_key_id is None or holder.agreement_key is None or not holder.trust:
        raise ValidationFailed(NOT_A_HOLDER)
    holder_sender = clinical_crypto.Sender(holder.agreement_key_id, holder.agreement_key)
    with ws.store.write() as session:
        user = repositories.user_by_login(session, holder_login)
        if (
            user is None
            or not user.active
            or user.deleted
            or not clinical_grants.holds_clinical_key(Role(user.role))
        ):
            raise ValidationFailed(NOT_A_HOLDER)
        given = clinical_grants.open_grants(
            session,
            holder_login,
            holder_sender.key_id,
            holder_sender.private,
            clinical_grants.Trust.from_json(holder.trust),
        )
        if not given.trusted:
            raise ValidationFailed(NOT_A_HOLDER)
        my_slot_base = slots.slots[actor.login]
        revoked = given.trust.recipients.get(me.key_id)
        if revoked is not None and revoked.revoked:
            # This key lost access once (the account was disabled or left clinical roles):
            # the revocation travels in every older grant's list and wins, so the account
            # gets a new key pair, and that one is handed the key.
            my_slot_base, key_id, private = issue_agreement_key(
                session,
                ws.store.station_id,
                ws.centre_id,
                actor.login,
                actor.user_id,
                my_slot_base,
                "",
                kek=ws.slot_kek,
            )
            me = clinical_crypto.Sender(key_id, private)
        try:
            # The key this session holds, not what the row says (it can be rewritten).
            clinical_grants.approve(
                session,
                given.trust,
                actor.login,
                me.key_id,
                clinical_crypto.public_of(me.private),
            )
        except LookupError:
            raise ValidationFailed(
                "Votre compte ne peut pas recevoir la clé du dossier médical : son rôle ne "
                "donne pas accès au dossier médical, ou sa clé publiée a été modifiée en "
                "dehors du logiciel (reconnectez-vous ; si cela persiste, prévenez "
                "l'administrateur du centre)."
            ) from None
        audit.append(
            session,
            ws.store.station_id,
            "clinical_key_recipient_approved",
            user_id=user.id,
            user_login=holder_login,
            target_type="user",
            target_id=actor.login,
            details={"key_id": me.key_id},
        )
        clinical_grants.take_keys(
            session, ws.store.station_id, given, holder_sender, holder_login, user.id
        )
        clinical_grants.announce(session, given, holder_sender, holder_login, skip=[me.key_id])
        holder_slot = keyslots.with_keys(
            ws.centre_id,
            slots.slots[holder_login],
            "",
            trust=given.trust.to_json(),
            kek=holder.kek,
        )
        keyslot_sync.record_slot(session, holder_slot, password_set=False)
        # This account now trusts whom the holder trusts, and takes the holder's grants.
        mine = given.trust.copy()
        mine.keys, mine.founder = {}, False
        if ws.clinical_trust is not None:
            mine.adopt(ws.clinical_trust)
        access = clinical_grants.open_grants(session, actor.login, me.key_id, me.private, mine)
        epoch, _ = clinical_grants.take_keys(
            session, ws.store.station_id, access, me, actor.login, actor.user_id
        )
        my_slot = keyslots.with_keys(
            ws.centre_id,
            my_slot_base,
            "",
            trust=access.trust.to_json(),
            kek=ws.slot_kek,
        )
        keyslot_sync.record_slot(session, my_slot, password_set=False)
        name = user.full_name
    set_slot(ws, holder_login, holder_slot)
    set_slot(ws, actor.login, my_slot)
    ws.agreement_key_id, ws.agreement_key = me.key_id, me.private  # a new pair, if made
    ws.take_access(access, epoch)
    return name
