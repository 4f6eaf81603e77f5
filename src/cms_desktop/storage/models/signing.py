"""Clinicians' public signing keys (Ed25519), replicated so every station verifies acts.

Insert-only: a clinician whose password was reset gets a new key pair, and the old public
key stays to verify the acts signed with it. The private half never enters the database:
it is wrapped under the clinician's password in their key slot (``storage.keyslots``).
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class SigningKey(InsertOnly, Base):
    __tablename__ = "signing_keys"
    __data_kind__: ClassVar[DataKind] = DataKind.ACCOUNTS
    __table_args__ = (Index("ix_signing_keys_user", "user_id"),)

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"))
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64
