"""Wrapped key slots of accounts, replicated so that an account created later logs in anywhere.

A row holds one account's slot as it is in ``keyslots.json`` (salt, nonce, the database key
encrypted under the argon2id-derived key, KDF parameters), never the key itself. Rows are
insert-only: a password reset adds a row; the newest row of the most recently set password
wins (``storage.keyslot_sync``).
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class AccountKeySlot(InsertOnly, Base):
    __tablename__ = "account_key_slots"
    __data_kind__: ClassVar[DataKind] = DataKind.ACCOUNTS
    __table_args__ = (Index("ix_account_key_slots_login", "login"),)

    login: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    slot_json: Mapped[str] = mapped_column(Text)  # salt, nonce, wrapped key, kdf (base64/JSON)
