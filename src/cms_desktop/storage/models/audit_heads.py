"""Audit chain heads witnessed by each station, signed with its station key (#17).

A row says « station W held origin O's audit chain up to entry n, whose hash was h »,
signed by W. Rows replicate like any insert-only row, so every station keeps what the
others saw: a chain rewritten on one PC, hashes recomputed, no longer matches the heads
its peers signed before (``sync.audit_heads``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class AuditHead(InsertOnly, Base):
    __tablename__ = "audit_heads"
    __data_kind__: ClassVar[DataKind] = DataKind.AUDIT
    __table_args__ = (Index("ix_audit_heads_origin_seq", "origin_id", "seq"),)

    witness_id: Mapped[str] = mapped_column(String(64))  # the station that signed
    origin_id: Mapped[str] = mapped_column(String(64))  # whose chain (audit_log.station_id)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    signature: Mapped[str] = mapped_column(Text)  # Ed25519 by the witness, base64
