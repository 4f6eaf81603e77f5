"""Every replicated table of the schema, found from the ORM mappers (never a fixed list).

A model tells sync how to merge it through class attributes: ``__replication__`` (insert-only
or per-field), ``__low_risk_fields__`` (plain last-writer-wins, no conflict kept),
``__protected_fields__`` (if declared, only these keep conflicts) and, mandatory,
``__data_kind__`` (clinical, identity, agenda…): its conflicts are shown and settled only by
those allowed to change that kind of data (``domain.permissions.DATA_KIND_PERMISSION``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table

from cms_desktop.domain.permissions import DATA_KIND_PERMISSION, DataKind, Permission
from cms_desktop.storage.models import Base, Replicated, Replication

# Row bookkeeping: merged last-writer-wins, never a conflict.
META_FIELDS = frozenset({"id", "version", "created_at", "updated_at"})


class MissingDataKind(TypeError):
    """A replicated model without ``__data_kind__`` (a programming error, caught by tests)."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    model: type[Any]
    table: Table
    insert_only: bool
    columns: Mapping[str, Column[Any]]  # attribute key → column
    protected: frozenset[str]
    kind: DataKind
    permission: Permission  # to see a conflict's values and settle it

    def column_name(self, key: str) -> str:
        return str(self.columns[key].name)


def _info(model: type[Any]) -> TableInfo:
    table: Table = model.__table__
    mapper = model.__mapper__
    columns = {attr.key: attr.columns[0] for attr in mapper.column_attrs}
    fields = frozenset(columns) - META_FIELDS
    declared = getattr(model, "__protected_fields__", None)
    low_risk = frozenset(getattr(model, "__low_risk_fields__", frozenset()))
    protected = frozenset(declared) & fields if declared is not None else fields - low_risk
    kind = getattr(model, "__data_kind__", None)
    if not isinstance(kind, DataKind):
        # No default: one would show some kind of data to a role that must not see it.
        raise MissingDataKind(f"replicated table {table.name} declares no __data_kind__")
    return TableInfo(
        name=str(table.name),
        model=model,
        table=table,
        insert_only=model.__replication__ is Replication.INSERT_ONLY,
        columns=columns,
        protected=protected,
        kind=kind,
        permission=DATA_KIND_PERMISSION[kind],
    )


_cache: dict[str, TableInfo] = {}
_cache_key: list[int] = [-1]


def _registry() -> dict[str, TableInfo]:
    tables: dict[str, TableInfo] = {}
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if isinstance(model, type) and issubclass(model, Replicated):
            info = _info(model)
            tables[info.name] = info
    return tables


def replicated_tables() -> dict[str, TableInfo]:
    """Table name → merge information, for every replicated table currently mapped."""
    # Rebuilt when a module maps more tables after the first call (cheap check: dict size).
    if _cache_key[0] != len(Base.metadata.tables):
        _cache.clear()
        _cache.update(_registry())
        _cache_key[0] = len(Base.metadata.tables)
    return _cache


def table_info(entity: str) -> TableInfo | None:
    found = _cache.get(entity)  # the merge asks several times per entry: skip the check
    if found is not None and _cache_key[0] == len(Base.metadata.tables):
        return found
    return replicated_tables().get(entity)
