"""The clinical key (#17): accounts' X25519 public keys and the sealed grants of the key.

Both insert-only and replicated. A clinical key is a random AES-256 key with an epoch
number; it is never stored in clear: each grant row holds it sealed to one account's
public key (or to the recovery slot's), so only that account's password (or the recovery
code) opens it. A reception station stores and relays these rows without being able to
read them.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class AgreementKey(InsertOnly, Base):
    """An account's X25519 public key (id = key id); several over time (password resets)."""

    __tablename__ = "agreement_keys"
    __data_kind__: ClassVar[DataKind] = DataKind.ACCOUNTS
    __table_args__ = (Index("ix_agreement_keys_login", "login"),)

    # The account's login, or ``__recovery__`` for the recovery slot (which has no user).
    login: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64


class ClinicalKeyGrant(InsertOnly, Base):
    """One clinical key (``key_id``, ``epoch``) sealed to one recipient's public key."""

    __tablename__ = "clinical_key_grants"
    __data_kind__: ClassVar[DataKind] = DataKind.ACCOUNTS
    __table_args__ = (Index("ix_clinical_key_grants_recipient", "recipient_key_id"),)

    key_id: Mapped[str] = mapped_column(String(36))
    epoch: Mapped[int] = mapped_column(Integer)
    recipient_login: Mapped[str] = mapped_column(String(64))
    recipient_key_id: Mapped[str] = mapped_column(String(36))
    sealed: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(64))  # the login whose session sealed it
