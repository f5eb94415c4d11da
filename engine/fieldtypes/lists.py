"""What field types holding a list share: a JSON column (JSONB on PostgreSQL) and list round trips."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from engine.fieldtypes.base import FieldType
from metadata.specs import FieldSpec

# How people separate several values in one cell: commas, semicolons, the Chinese enumeration comma
# "、", full-width comma and semicolon, or one value per line.
LIST_SEPARATORS = re.compile(r"\s*[,;、，；\n]\s*")


def json_column() -> TypeEngine:
    """A JSON column whose empty value is SQL NULL; JSONB on PostgreSQL so it can be indexed and queried."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class ListValuedType(FieldType):
    """Base of multi_select, tags and attachment: the value is a list, stored as JSON."""

    value_kind = "list"

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return json_column()

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        return None if value is None else list(value)

    def to_db(self, value: Any, field: FieldSpec) -> Any:
        return None if value is None else list(value)

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        if isinstance(value, str):
            # A driver or a raw query may hand back the JSON text itself.
            value = json.loads(value)
        return None if value is None else list(value)
