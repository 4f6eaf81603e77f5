"""Sealing rows written before the clinical key (#17, migration of existing centres).

A ``legacy_seals`` row (insert-only, replicated) says how one clinical row written in clear
by an earlier version is now sealed: the sealed values of the row itself (for insert-only
tables, which no update may touch) and, for each op-log entry that carried the row's
plaintext, the sealed values that replace it. Every upgraded station applies it to its own
copy (``storage.legacy_seal``), so the plaintext leaves the tables *and* the op-log history
of every station, not only of the one where a clinician logged in. The row holds only
ciphertext, ids and hashes: a reception station relays and applies it without the key.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class LegacySeal(InsertOnly, Base):
    __tablename__ = "legacy_seals"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_legacy_seals_target", "entity", "row_id"),)

    entity: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(36))
    sealed_by: Mapped[str] = mapped_column(String(64))  # the login whose session sealed it
    key_id: Mapped[str] = mapped_column(String(36))  # the clinical key it was sealed under
    # {column key: JSON-form value}: what the row itself becomes (insert-only tables only).
    row_json: Mapped[str] = mapped_column(Text)
    # [[origin, seq, hash, {key: JSON-form value}], ...]: what each listed op-log entry's
    # values become; the hash names the exact entry (a different one is left alone).
    entries_json: Mapped[str] = mapped_column(Text)


class LegacySealPending(Base):
    """Seals received (or made) here whose row or op-log entries are not all here yet:
    retried after each merge until complete. Never replicated."""

    __tablename__ = "legacy_seal_pending"

    seal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
