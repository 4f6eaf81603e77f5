"""Who holds which clinical key (#17): account public keys, epochs and sealed grants.

Every function works in the caller's transaction. The grants are insert-only replicated
rows; the clinical keys themselves exist in clear only in the memory of a session that
opened its own grants (``services.workspace``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

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


def open_grants(
    session: Session, login: str, agreement_key_id: str, private: bytes
) -> dict[str, ClinicalKey]:
    """The clinical keys sealed to this account's key (key id → key). An unreadable grant
    (altered, or sealed to a key that is not this one) is skipped: another holder's
    session seals a fresh one."""
    held: dict[str, ClinicalKey] = {}
    rows = session.scalars(
        select(ClinicalKeyGrant).where(ClinicalKeyGrant.recipient_key_id == agreement_key_id)
    )
    for grant in rows:
        if grant.recipient_login != login or grant.key_id in held:
            continue
        try:
            held[grant.key_id] = clinical_crypto.open_sealed(
                private, grant.sealed, login, agreement_key_id, grant.key_id, grant.epoch
            )
        except clinical_crypto.GrantUnreadable:
            log.warning("clinical key: grant %s unreadable, ignored", grant.id)
    return held


def current_epoch(session: Session) -> int | None:
    """The newest epoch any grant names (content is written under it), None before any."""
    return session.scalar(select(func.max(ClinicalKeyGrant.epoch)))


def writing_key(held: dict[str, ClinicalKey], epoch: int | None) -> ClinicalKey | None:
    """A held key of the current epoch (two stations may each have made an epoch-1 key
    before they synced: both are valid, and are granted to everyone afterwards)."""
    if epoch is None:
        return None
    candidates = sorted(k.key_id for k in held.values() if k.epoch == epoch)
    return held[candidates[0]] if candidates else None


@dataclass(frozen=True)
class Recipient:
    login: str
    key_id: str
    public_key: str


def eligible_recipients(session: Session) -> list[Recipient]:
    """The newest public key of every active account whose role reads clinical content,
    and the recovery slot's. Reception and administrator accounts never appear here."""
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
    newest: dict[str, AgreementKey] = {}
    rows = session.scalars(
        select(AgreementKey)
        .where(AgreementKey.login.in_(logins))
        .order_by(AgreementKey.created_at, AgreementKey.id)
    )
    for row in rows:
        newest[row.login] = row
    return [Recipient(r.login, r.id, r.public_key) for r in newest.values()]


def grant(session: Session, key: ClinicalKey, recipient: Recipient, granted_by: str) -> None:
    session.add(
        ClinicalKeyGrant(
            key_id=key.key_id,
            epoch=key.epoch,
            recipient_login=recipient.login,
            recipient_key_id=recipient.key_id,
            sealed=clinical_crypto.seal(
                recipient.public_key, recipient.login, recipient.key_id, key
            ),
            granted_by=granted_by,
        )
    )


def grant_missing(
    session: Session,
    station_id: str,
    held: Iterable[ClinicalKey],
    granted_by: str,
    granted_by_id: str | None,
) -> list[str]:
    """Seal every key ``held`` to each eligible account that lacks it; the logins served.

    Any holder's session does it (the director's or a clinician's); an account created by
    the administrator thus gets the key at the next login of someone who holds it."""
    keys = list(held)
    if not keys:
        return []
    have = set(
        session.execute(select(ClinicalKeyGrant.recipient_key_id, ClinicalKeyGrant.key_id)).all()
    )
    served: list[str] = []
    for recipient in eligible_recipients(session):
        missing = [k for k in keys if (recipient.key_id, k.key_id) not in have]
        for key in missing:
            grant(session, key, recipient, granted_by)
        if missing:
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


def create_first_epoch(
    session: Session, station_id: str, created_by: str, created_by_id: str | None
) -> ClinicalKey:
    """Epoch 1 of a centre that has none: made by the first holder's session, granted at
    once to every eligible account (the recovery slot included) by ``grant_missing``."""
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


def rotation_needed(session: Session, epoch: int | None) -> bool:
    """Whether a key of the newest epoch was granted to an account that may no longer
    read clinical content (disabled, deleted, moved to reception or administration):
    content written from now on must be under a key it never had."""
    if epoch is None:
        return False
    eligible = {r.login for r in eligible_recipients(session)}
    holders = set(
        session.scalars(
            select(ClinicalKeyGrant.recipient_login).where(ClinicalKeyGrant.epoch == epoch)
        )
    )
    return bool(holders - eligible)


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
    held: dict[str, ClinicalKey],
    login: str,
    user_id: str | None,
) -> tuple[dict[str, ClinicalKey], int, list[str]]:
    """What a holder's session does with the keys it opened, at login and after a sync:
    make epoch 1 on a centre without one, a new epoch when an account lost its access,
    then grant every held key to the eligible accounts lacking it. (keys, epoch, served)."""
    held = dict(held)
    epoch = current_epoch(session)
    if epoch is None:
        first = create_first_epoch(session, station_id, login, user_id)
        held[first.key_id] = first
        epoch = first.epoch
    elif rotation_needed(session, epoch):
        fresh = rotate(session, station_id, epoch, login, user_id)
        held[fresh.key_id] = fresh
        epoch = fresh.epoch
    served = grant_missing(session, station_id, held.values(), login, user_id)
    return held, epoch, served
