"""Reference field types: lookup (a record of another object) and user (a Loom user); both hold an id."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.halfwidth import typed_number_text
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec, ObjectSpec

_ID_MAX = 2**63 - 1
_ID_TEXT = re.compile(r"[+-]?[0-9]{1,19}")


class _ReferenceType(FieldType):
    """A positive 64-bit id; no foreign key, because the engine checks references itself."""

    value_kind = "id"
    indexed_by_default = True
    what = {"en": "record", "zh_CN": "记录"}

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return BigInteger()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is int:
            number = value
        elif kind is str:
            text = typed_number_text(value)
            if not text:
                return None
            if _ID_TEXT.fullmatch(text) is None:
                raise FieldValueError(Message("not_id", what=self.what, got=shown(value)))
            number = int(text)
        elif value is None:
            return None
        elif kind is float and value.is_integer():
            number = int(value)  # spreadsheets store every number as a float
        elif isinstance(value, Mapping) and "id" in value and not isinstance(value["id"], Mapping):
            # A client may send back the {"id": …, "title": …} object it read.
            return self.coerce(value["id"], field, source)
        else:
            raise FieldValueError(Message("not_id", what=self.what, got=shown(value)))
        if not 0 < number <= _ID_MAX:
            raise FieldValueError(Message("not_positive_id", what=self.what, got=shown(value)))
        return number

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        return value if value is None or type(value) is int else int(value)


class LookupType(_ReferenceType):
    """A reference to one record of the `target` object (which may be the object itself)."""

    name = "lookup"
    params_schema = {
        "type": "object",
        "properties": {
            "target": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,58}$"},
            "on_delete": {"enum": ["restrict", "clear"]},
        },
        "required": ["target"],
        "additionalProperties": False,
    }

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        target = field.params.get("target")
        if target != obj.name and target not in objects:
            return [f"lookup target {target!r} is not an object"]
        return []


class UserType(_ReferenceType):
    """A reference to a Loom user (owner, assignee, approver)."""

    name = "user"
    what = {"en": "user", "zh_CN": "用户"}
    params_schema = {"type": "object", "properties": {}, "additionalProperties": False}
