"""Who holds which clinical key (#17): account public keys, epochs and sealed grants.

Every function works in the caller's transaction. The grants are insert-only replicated
rows; the clinical keys themselves exist in clear only in the memory of a session that
opened its own grants (``services.workspace``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms_desktop.domain.permissions import Permission, Role, has_permission
from cms_desktop.storage import audit, clinical_crypto
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.keyslots import RECOVERY_LOGIN
from cms_desktop.storage.models import AgreementKey, ClinicalKeyGrant, User, new_id

log = logging.getLogger(__name__)


def holds_clinical_key(role: Role) -> bool:
    """Roles whose accounts get the clinical key: those that read clinical content."""
    return has_permission(role, Permission.CLINICAL_READ)


def publish_agreement_key(session: Session, login: str, public_b64: str) -> str:
    """Add an account's X25519 public half for every station; returns its key id."""
    key_id = new_id()
    session.add(AgreementKey(id=key_id, login=login, public_key=public_b64))
    return key_id


def known_agreement_key(session: Session, login: str, key_id: str, public_b64: str) -> bool:
    row = session.get(AgreementKey, key_id)
    return row is not None and row.login == login and row.public_key == public_b64


# --- Trust (#17, session 11) -------------------------------------------------------------
# Whoever holds the database key (any account's password opens it) can write rows: a public
# key under a clinician's login or the recovery slot's, a grant of a key of their own. So a
# session never takes a public key or a clinical key from the rows alone. Each holder keeps,
# wrapped under its own password in its key slot, the list of public keys it trusts and the
# fingerprints of the clinical keys it holds; a grant proves its sender (``clinical_crypto``
# auth mode), and carries the sender's list, so trust spreads from holder to holder. A public
# key enters a list when a holder approves it (``approve``), never by being written.


@dataclass
class Pin:
    login: str
    public_key: str
    revoked: bool = False  # its account lost clinical access: never granted again


@dataclass
class Trust:
    recipients: dict[str, Pin] = field(default_factory=dict)  # agreement key id → pin
    keys: dict[str, str] = field(default_factory=dict)  # clinical key id → fingerprint
    # Written at the account's creation when the centre had no clinical key yet: it may make
    # epoch 1 (no other list ever may: deleting every grant row does not make a centre new).
    founder: bool = False

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "v": 1,
                "founder": self.founder,
                "recipients": {
                    k: [p.login, p.public_key, p.revoked] for k, p in self.recipients.items()
                },
                "keys": self.keys,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Trust:
        """The list; an unreadable one gives an empty list (ValueError is never raised: a
        damaged list only means the account trusts nothing until approved again)."""
        try:
            data = json.loads(raw)
            recipients = {
                str(k): Pin(str(v[0]), str(v[1]), bool(v[2]))
                for k, v in dict(data["recipients"]).items()
            }
            keys = {str(k): str(v) for k, v in dict(data["keys"]).items()}
            founder = data.get("founder") is True
        except (ValueError, KeyError, TypeError, IndexError):
            log.warning("clinical key: trust list unreadable, starting empty")
            return cls()
        return cls(recipients, keys, founder)

    def copy(self) -> Trust:
        return Trust(
            {k: Pin(p.login, p.public_key, p.revoked) for k, p in self.recipients.items()},
            dict(self.keys),
            self.founder,
        )

    def sender(self, key_id: str) -> Pin | None:
        pin = self.recipients.get(key_id)
        return pin if pin is not None and not pin.revoked else None

    def adopt(self, other: Trust) -> bool:
        """Take in a trusted sender's list: its public keys, and its revocations (a
        revocation wins). A key id pinned here to another public key is kept as it is."""
        changed = False
        for key_id, pin in other.recipients.items():
            mine = self.recipients.get(key_id)
            if mine is None:
                self.recipients[key_id] = Pin(pin.login, pin.public_key, pin.revoked)
                changed = True
            elif mine.public_key == pin.public_key and pin.revoked and not mine.revoked:
                mine.revoked = True
                changed = True
        return changed


@dataclass
class Access:
    """What one session holds: every clinical key it could open (``held``, to read), the
    ones it trusts (``trusted``: written under and passed on) and its trust list."""

    held: dict[str, ClinicalKey]
    trusted: set[str]
    trust: Trust

    def take(self, key: ClinicalKey, trusted: bool) -> None:
        pinned = self.trust.keys.get(key.key_id)
        fp = clinical_crypto.fingerprint(key)
        if pinned is not None and pinned != fp:
            log.warning("clinical key: a grant of key %s has another value, ignored", key.key_id)
            return
        trusted = trusted or pinned == fp
        if trusted:
            self.held[key.key_id] = key
            self.trusted.add(key.key_id)
            self.trust.keys[key.key_id] = fp
        elif key.key_id not in self.held:
            self.held[key.key_id] = key  # read with it; never write under it nor pass it on


def open_grants(
    session: Session,
    login: str,
    agreement_key_id: str,
    private: bytes,
    trust: Trust | None = None,
    *,
    any_sender: bool = False,
) -> Access:
    """The clinical keys sealed to this account's key, and which of them it trusts.

    A key is trusted when its value is pinned in ``trust`` or when its grant proves a sender
    ``trust`` names (the sender's own list is then taken in, which may name more senders).
    ``trust`` None is the first login of an account made before trust lists existed (its
    slot says so, ``keyslots.Unwrapped.trust_bound``) or the recovery slot: it trusts the
    keys of the first format it was granted (what session 10 gave it), as SSH trusts a host
    key the first time, and pins the recovery key; never a colleague (rows prove nothing).
    ``any_sender`` (the recovery code typed by its holder, an emergency) also trusts the keys
    of grants from any published sender, without taking their lists. An account made since starts
    with an empty list and gets its first keys from a holder in person
    (``services.clinical_access.receive_key``). An
    unreadable grant (altered, or not sealed to this key) is skipped."""
    first_use = trust is None
    trust = Trust() if trust is None else trust.copy()
    trust.recipients[agreement_key_id] = Pin(login, clinical_crypto.public_of(private))
    access = Access({}, set(), trust)
    pending = [
        g
        for g in session.scalars(
            select(ClinicalKeyGrant)
            .where(ClinicalKeyGrant.recipient_key_id == agreement_key_id)
            .order_by(ClinicalKeyGrant.epoch, ClinicalKeyGrant.id)
        )
        if g.recipient_login == login
    ]

    def try_open(
        grant: ClinicalKeyGrant, sender_public: str | None
    ) -> clinical_crypto.Opened | None:
        try:
            return clinical_crypto.open_sealed(
                private,
                grant.sealed,
                login,
                agreement_key_id,
                grant.key_id,
                grant.epoch,
                sender_public,
            )
        except clinical_crypto.GrantUnreadable:
            log.warning("clinical key: grant %s unreadable, ignored", grant.id)
            return None

    progress = True
    while progress:  # a sender's list may name the sender of another grant
        progress = False
        for grant in list(pending):
            sender_id = clinical_crypto.grant_sender(grant.sealed)
            if sender_id is None:  # first format (session 10): proves no sender
                pending.remove(grant)
                opened = try_open(grant, None)
                if opened is not None:
                    access.take(opened.key, first_use)
                continue
            pin = trust.sender(sender_id)
            if pin is None:
                if any_sender and (public := _published_key(session, sender_id)) is not None:
                    pending.remove(grant)
                    if (opened := try_open(grant, public)) is not None:
                        access.take(opened.key, True)  # its list is not taken in
                continue  # otherwise opened below, to read only
            pending.remove(grant)
            opened = try_open(grant, pin.public_key)
            if opened is None:
                continue
            access.take(opened.key, True)
            if opened.payload and trust.adopt(Trust.from_json(opened.payload)):
                progress = True
    for grant in pending:  # senders not trusted (yet): their keys only read
        sender_id = clinical_crypto.grant_sender(grant.sealed)
        public = _published_key(session, sender_id) if sender_id else None
        if public is not None and (opened := try_open(grant, public)) is not None:
            access.take(opened.key, False)
    if first_use:
        pin_recovery(session, trust)
    return access


def _published_key(session: Session, key_id: str) -> str | None:
    row = session.get(AgreementKey, key_id)
    return row.public_key if row is not None else None


def pin_recovery(session: Session, trust: Trust) -> None:
    """First use, or a founder's list without it: the recovery slot's published key, if
    exactly one was published (set-up's). Nobody else is pinned from the rows: a grant row
    naming a recipient proves nothing (whoever holds the database key can write one), so
    colleagues are trusted through a hand-over, or through a trusted holder's list."""
    if any(p.login == RECOVERY_LOGIN for p in trust.recipients.values()):
        return
    rows = session.execute(
        select(AgreementKey.id, AgreementKey.public_key).where(AgreementKey.login == RECOVERY_LOGIN)
    ).all()
    if len(rows) == 1:
        trust.recipients[rows[0][0]] = Pin(RECOVERY_LOGIN, rows[0][1])


def centre_has_clinical_key(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(ClinicalKeyGrant)) != 0


def current_epoch(access: Access) -> int | None:
    """The newest epoch among the trusted keys: content is written under it."""
    epochs = [access.held[k].epoch for k in access.trusted]
    return max(epochs) if epochs else None


def writing_key(
    held: dict[str, ClinicalKey], trusted: Iterable[str], epoch: int | None
) -> ClinicalKey | None:
    """A trusted key of the current epoch (two stations may each have made an epoch-1 key
    before they synced: both are valid, and are granted to everyone afterwards)."""
    if epoch is None:
        return None
    candidates = sorted(k for k in trusted if k in held and held[k].epoch == epoch)
    return held[candidates[0]] if candidates else None


@dataclass(frozen=True)
class Recipient:
    login: str
    key_id: str
    public_key: str


def eligible_logins(session: Session) -> set[str]:
    """Every active account whose role reads clinical content, and the recovery slot.
    Reception and administrator accounts never appear here."""
    logins = {RECOVERY_LOGIN}
    for login, role, active, deleted in session.execute(
        select(User.login, User.role, User.active, User.deleted)
    ):
        try:
            clinical = holds_clinical_key(Role(role))
        except ValueError:
            clinical = False
        if clinical and active and not deleted:
            logins.add(login)
    return logins


def eligible_recipients(session: Session, trust: Trust) -> list[Recipient]:
    """The public keys ``trust`` pins (not revoked) of the accounts that may read clinical
    content now: a key merely written in ``agreement_keys`` is never one of them."""
    logins = eligible_logins(session)
    return [
        Recipient(pin.login, key_id, pin.public_key)
        for key_id, pin in sorted(trust.recipients.items())
        if not pin.revoked and pin.login in logins
    ]


@dataclass(frozen=True)
class Waiting:
    """A public key of an account that may read clinical content, not trusted yet."""

    login: str
    key_id: str
    public_key: str
    created_at: datetime
    replaces: bool  # the account had another key (a password set by someone else)
    revoked: bool  # this very key lost access before (the account was re-enabled)


def waiting_recipients(session: Session, trust: Trust) -> list[Waiting]:
    """The newest public key of each eligible account that this session's list does not
    trust: what a holder is asked to approve. An account whose newest key is trusted is
    not listed, even if older keys are not."""
    logins = eligible_logins(session)
    newest: dict[str, AgreementKey] = {}
    for row in session.scalars(
        select(AgreementKey)
        .where(AgreementKey.login.in_(logins))
        .order_by(AgreementKey.created_at, AgreementKey.id)
    ):
        newest[row.login] = row
    out = []
    for login, row in sorted(newest.items()):
        pin = trust.recipients.get(row.id)
        if pin is not None and pin.public_key == row.public_key and not pin.revoked:
            continue
        replaces = any(p.login == login and k != row.id for k, p in trust.recipients.items())
        out.append(
            Waiting(login, row.id, row.public_key, row.created_at, replaces, pin is not None)
        )
    return out


def approve(session: Session, trust: Trust, login: str, key_id: str, public_key: str) -> Pin:
    """Pin ``login``'s key as its own session knows it (from its private half, never from
    the row, which whoever holds the database key can rewrite); LookupError if the
    account may not read clinical content or the published row says otherwise."""
    row = session.get(AgreementKey, key_id)
    if (
        row is None
        or row.login != login
        or row.public_key != public_key
        or login not in eligible_logins(session)
    ):
        raise LookupError(key_id)
    pin = Pin(login, public_key)
    trust.recipients[key_id] = pin
    return pin


def grant(
    session: Session,
    key: ClinicalKey,
    recipient: Recipient,
    granted_by: str,
    sender: clinical_crypto.Sender,
    trust: Trust,
) -> None:
    session.add(
        ClinicalKeyGrant(
            key_id=key.key_id,
            epoch=key.epoch,
            recipient_login=recipient.login,
            recipient_key_id=recipient.key_id,
            sealed=clinical_crypto.seal(
                recipient.public_key,
                recipient.login,
                recipient.key_id,
                key,
                sender,
                trust.to_json(),
            ),
            granted_by=granted_by,
        )
    )


def grant_missing(
    session: Session,
    station_id: str,
    access: Access,
    sender: clinical_crypto.Sender,
    granted_by: str,
    granted_by_id: str | None,
) -> list[str]:
    """Seal every trusted key to each trusted eligible account lacking it; the logins
    served (this session's own and the recovery slot are served silently).

    Any holder's session does it (the director's or a clinician's), each with its own
    trust list: a key is never sealed to a public key nobody approved."""
    keys = [access.held[k] for k in sorted(access.trusted)]
    if not keys:
        return []
    have = set()
    for recipient_key_id, key_id, sealed in session.execute(
        select(ClinicalKeyGrant.recipient_key_id, ClinicalKeyGrant.key_id, ClinicalKeyGrant.sealed)
    ):
        sender_id = clinical_crypto.grant_sender(sealed)
        # A grant counts if its sender is trusted here; an unproven one (first format, or a
        # forged row naming a sender) does not stop this session from sealing its own.
        if sender_id is not None and access.trust.sender(sender_id) is not None:
            have.add((recipient_key_id, key_id))
    served: list[str] = []
    for recipient in eligible_recipients(session, access.trust):
        missing = [k for k in keys if (recipient.key_id, k.key_id) not in have]
        for key in missing:
            grant(session, key, recipient, granted_by, sender, access.trust)
        if missing and recipient.key_id != sender.key_id:
            if recipient.login != RECOVERY_LOGIN:  # a person to name in the status bar
                served.append(recipient.login)
            audit.append(
                session,
                station_id,
                "clinical_key_granted",
                user_id=granted_by_id,
                user_login=granted_by,
                target_type="user",
                target_id=recipient.login,
                details={"epochs": sorted({k.epoch for k in missing}), "key_id": recipient.key_id},
            )
    return served


def announce(
    session: Session,
    access: Access,
    sender: clinical_crypto.Sender,
    granted_by: str,
    skip: Iterable[str] = (),
) -> None:
    """Send this holder's changed list to every account it trusts, sealed with its newest
    trusted key again (a grant they already hold: the list is what is new). They take in a
    newly approved colleague when they next open their grants."""
    epoch = current_epoch(access)
    key = writing_key(access.held, access.trusted, epoch)
    if key is None:
        return
    skipped = {sender.key_id, *skip}
    for recipient in eligible_recipients(session, access.trust):
        if recipient.key_id not in skipped:
            grant(session, key, recipient, granted_by, sender, access.trust)


def create_first_epoch(
    session: Session, station_id: str, created_by: str, created_by_id: str | None
) -> ClinicalKey:
    """Epoch 1 of a centre that has none: made by the first holder's session, granted at
    once to every trusted eligible account (the recovery slot's key: pinned at first use)."""
    key = clinical_crypto.new_clinical_key(1, new_id())
    audit.append(
        session,
        station_id,
        "clinical_key_created",
        user_id=created_by_id,
        user_login=created_by,
        details={"epoch": 1, "key_id": key.key_id},
    )
    return key


def lost_access(session: Session, access: Access, epoch: int) -> set[str]:
    """Accounts holding a key of the newest epoch that may no longer read clinical content
    (disabled, deleted, moved to reception or administration)."""
    eligible = eligible_logins(session)
    holders = set(
        session.scalars(
            select(ClinicalKeyGrant.recipient_login).where(
                ClinicalKeyGrant.key_id.in_(
                    [k for k in access.trusted if access.held[k].epoch == epoch]
                )
            )
        )
    )
    return holders - eligible


def _revoke_lost(session: Session, trust: Trust) -> bool:
    """Revoke the trusted keys of accounts that may no longer read clinical content: made
    eligible again later (re-enabled), an account waits for a holder's approval anew. An
    account this station has not received yet is left alone."""
    eligible = eligible_logins(session)
    known = set(session.scalars(select(User.login)))
    changed = False
    for pin in trust.recipients.values():
        if not pin.revoked and pin.login in known and pin.login not in eligible:
            pin.revoked = True
            changed = True
    return changed


def rotate(
    session: Session, station_id: str, epoch: int, created_by: str, created_by_id: str | None
) -> ClinicalKey:
    """Epoch ``epoch + 1`` (a new random key), for content written from now on; the caller
    grants it to the eligible accounts only (``grant_missing``). Older epochs stay readable
    by those who hold them; the account that lost its access is never granted this one."""
    key = clinical_crypto.new_clinical_key(epoch + 1, new_id())
    audit.append(
        session,
        station_id,
        "clinical_key_rotated",
        user_id=created_by_id,
        user_login=created_by,
        details={"epoch": key.epoch, "key_id": key.key_id},
    )
    return key


def take_keys(
    session: Session,
    station_id: str,
    access: Access,
    sender: clinical_crypto.Sender,
    login: str,
    user_id: str | None,
    *,
    may_found: bool = False,
) -> tuple[int | None, list[str]]:
    """What a holder's session does with the keys it opened, at login and after a sync:
    make epoch 1 on a centre without one — only a founder's list (``Trust.founder``) or an
    account of an older version (``may_found``) may, and never one that held a key —
    pinning the recovery slot's key as published at set-up; a new epoch when an account lost its access (its keys revoked in the list),
    then grant every trusted key to the trusted accounts lacking it. Changes ``access``;
    returns (epoch, logins served)."""
    epoch = current_epoch(access)
    _revoke_lost(session, access.trust)
    founding = (
        epoch is None
        and (may_found or access.trust.founder)
        and not access.trust.keys
        and not centre_has_clinical_key(session)
    )
    if founding:
        pin_recovery(session, access.trust)
        first = create_first_epoch(session, station_id, login, user_id)
        access.take(first, True)
        epoch = first.epoch
    elif epoch is not None and lost_access(session, access, epoch):
        fresh = rotate(session, station_id, epoch, login, user_id)
        access.take(fresh, True)
        epoch = fresh.epoch
    served = grant_missing(session, station_id, access, sender, login, user_id)
    return epoch, served
