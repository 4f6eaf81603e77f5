"""Sync bookkeeping: version vector, held entries, peers (local) and conflicts, stations (replicated).

The vector, held entries and peer contacts describe this workstation only. Conflicts and
the station roster are replicated like any per-field table, so every station shows the same
conflicts and the same revoked certificates.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, Replicated


class SyncVector(Base):
    """Highest stored seq (and its hash) per remote origin, advanced with the entries."""

    __tablename__ = "sync_vector"

    origin: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class SyncHeld(Base):
    """An op-log entry stored but not applied yet (newer schema, clock ahead, missing base)."""

    __tablename__ = "sync_held"

    origin: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column()


class SyncPeer(Base):
    """Last contact with a peer station, as seen from this one."""

    __tablename__ = "sync_peers"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    port: Mapped[int] = mapped_column(Integer, default=0)
    last_contact: Mapped[datetime | None] = mapped_column(nullable=True)
    acked_seq: Mapped[int] = mapped_column(Integer, default=0)  # our own entries it holds
    last_error: Mapped[str] = mapped_column(Text, default="")
    unreachable_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # What its last HELLO announced ("" / 0: not yet, or a station too old to tell).
    app_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    schema: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SyncConflict(Replicated, Base):
    """A value displaced by a concurrent edit, kept until a person chooses (SYNC.md).

    The id is derived from (table, row, field, displaced version), so stations that detect
    the same conflict independently write the same row. The displayed value is read live.
    """

    __tablename__ = "sync_conflicts"
    __data_kind__: ClassVar[DataKind] = DataKind.SYNC
    __table_args__ = (Index("ix_sync_conflicts_row", "entity", "row_id"),)
    __low_risk_fields__: ClassVar[frozenset[str]] = frozenset(
        {
            "entity",
            "row_id",
            "field",
            "kept_value",
            "kept_version",
            "kept_origin",
            "permission",
            "detected_at",
            "resolved_at",
            "resolution",
            "resolved_by",
            "deleted",
        }
    )

    entity: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(64))
    kept_value: Mapped[str] = mapped_column(Text)  # JSON form, as in the op-log
    kept_version: Mapped[str] = mapped_column(String(64))
    kept_origin: Mapped[str] = mapped_column(String(36))
    permission: Mapped[str] = mapped_column(String(64), default="")
    detected_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution: Mapped[str] = mapped_column(String(16), default="")
    resolved_by: Mapped[str] = mapped_column(String(36), default="")


class SyncStation(Replicated, Base):
    """A paired workstation (id = station id) and its certificate; revocation replicates."""

    __tablename__ = "sync_stations"
    __data_kind__: ClassVar[DataKind] = DataKind.SYNC
    __low_risk_fields__: ClassVar[frozenset[str]] = frozenset(
        {"name", "cert_pem", "serial", "revoked", "revoked_at", "deleted"}
    )

    name: Mapped[str] = mapped_column(String(100), default="")
    cert_pem: Mapped[str] = mapped_column(Text, default="")
    serial: Mapped[str] = mapped_column(String(64), default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
