"""Column values to and from the JSON form carried by op-log entries."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, Date, LargeBinary
from sqlalchemy.orm import Mapper

from cms_desktop.domain.oplog import JsonValue
from cms_desktop.storage.models.base import UtcDateTime


def encode_value(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__} in the op-log")


def decode_value(column: Column[Any], value: JsonValue) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UtcDateTime):
        return datetime.fromisoformat(str(value))
    if isinstance(column.type, Date):
        return date.fromisoformat(str(value))
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(str(value))
    return value


def row_values(
    mapper: Mapper[Any], obj: Any, keys: list[str] | None = None
) -> dict[str, JsonValue]:
    attrs = mapper.column_attrs
    names = keys if keys is not None else [a.key for a in attrs]
    return {name: encode_value(getattr(obj, name)) for name in names}
