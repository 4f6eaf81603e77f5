"""Queries the services need, kept here so that no SQL lives above the storage layer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms_desktop.storage.models import AuditEntry, Centre, Patient, Room, User


def centre(session: Session) -> Centre | None:
    return session.scalars(select(Centre).where(Centre.deleted.is_(False)).limit(1)).first()


def user_by_login(session: Session, login: str) -> User | None:
    return session.scalars(select(User).where(User.login == login)).first()


def users(session: Session) -> Sequence[User]:
    return session.scalars(
        select(User).where(User.deleted.is_(False)).order_by(User.full_name)
    ).all()


def rooms(session: Session) -> Sequence[Room]:
    return session.scalars(select(Room).where(Room.deleted.is_(False)).order_by(Room.name)).all()


def patient_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Patient)).scalar_one()


def audit_entries(
    session: Session, limit: int = 200, action: str | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return session.scalars(query).all()
