"""Centre settings, accounts, rooms, the audit trail and the local replication state."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly, Replicated


class Centre(Replicated, Base):
    """The centre's identity, printed on every document (one row)."""

    __tablename__ = "centre"
    __data_kind__: ClassVar[DataKind] = DataKind.SETTINGS

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    finess: Mapped[str] = mapped_column(String(9), default="")
    holiday_region: Mapped[str] = mapped_column(String(10), default="")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    auto_lock_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # Set only by the demo builder: `--demo` refuses a data directory whose centre lacks it.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class User(Replicated, Base):
    """A staff account. Practitioners carry their profession, specialty and RPPS number."""

    __tablename__ = "users"
    __data_kind__: ClassVar[DataKind] = DataKind.ACCOUNTS

    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(100), default="")
    specialty: Mapped[str] = mapped_column(String(100), default="")
    rpps: Mapped[str] = mapped_column(String(11), default="")
    title: Mapped[str] = mapped_column(String(20), default="")
    # May prescribe on the bizone form (ALD): set by the administrator on the account.
    may_prescribe_bizone: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Room(Replicated, Base):
    __tablename__ = "rooms"
    __data_kind__: ClassVar[DataKind] = DataKind.SETTINGS

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Position of the room's column in the agenda's by-room view (then by name).
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEntry(InsertOnly, Base):
    """Append-only, hash-chained per station: who did what to which record, never names."""

    __tablename__ = "audit_log"
    __data_kind__: ClassVar[DataKind] = DataKind.AUDIT
    __table_args__ = (UniqueConstraint("station_id", "seq"),)

    station_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    user_login: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(36), default="", index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LocalState(Base):
    """Per-workstation values that are never replicated (station id, last seen clock…)."""

    __tablename__ = "local_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OpLogRow(Base):
    """One replicated change (domain.oplog.OpEntry), local or received from a peer."""

    __tablename__ = "op_log"
    __table_args__ = (Index("ix_op_log_entity_row", "entity", "row_id"),)

    origin: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    hlc: Mapped[str] = mapped_column(String(64), index=True)
    schema: Mapped[int] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(16))
    values_json: Mapped[str] = mapped_column(Text)
    base: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    # The legacy seal (``legacy_seals.id``) that replaced this entry's plaintext values by
    # ciphertext (#17): its hash then names the values as first written, which no station
    # holds any more; it is relayed marked so, and checked by its links only.
    redacted_by: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)
