"""Declarative base, column types and the mixins that make a table replicable.

Every replicated table has a UUID string primary key, an HLC ``version`` and a
``deleted`` tombstone flag; its replication kind tells the op-log capture and the sync
merge how to treat it (SYNC.md): insert-only (notes, audit…) or per-field (identity…).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Boolean, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid6 import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A time-ordered UUID (version 7, RFC 9562): rows created one after the other get
    neighbouring keys, so every primary-key and foreign-key index grows at its end instead
    of at a random page. With a few hundred thousand rows already in a table, random
    version-4 keys made each insert touch (and re-encrypt) a different page: 4x slower
    merges in the sync benchmark (docs/DECISIONS.md). The millisecond of creation it
    reveals is stored in the row anyway."""
    return str(uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes stored as naive UTC (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Replication(StrEnum):
    INSERT_ONLY = "insert_only"
    PER_FIELD = "per_field"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Replicated:
    """Mixin for tables copied to every workstation through the op-log."""

    __replication__: ClassVar[Replication] = Replication.PER_FIELD

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Not indexed: rows are always found by id (the merge reads versions by id); an index
    # here cost one more B-tree write on every insert and update of every table.
    version: Mapped[str] = mapped_column(String(64), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsertOnly(Replicated):
    """Rows that are never updated nor deleted (clinical notes, audit entries)."""

    __replication__: ClassVar[Replication] = Replication.INSERT_ONLY
