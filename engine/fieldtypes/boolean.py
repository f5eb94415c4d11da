"""The boolean field type: yes or no, read from the many ways people and spreadsheets write it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.halfwidth import half_width
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec

_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "on", "是", "真", "对", "✓", "✔", "√"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "off", "否", "假", "错", "✗", "✘", "×"), False),
}


class BooleanType(FieldType):
    """True or false; anything that is not clearly one of them is refused rather than guessed."""

    name = "boolean"
    value_kind = "boolean"
    params_schema = {"type": "object", "properties": {}, "additionalProperties": False}

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return Boolean()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is bool:
            return value
        if kind is str:
            word = _WORDS.get(value)
            if word is not None:
                return word
            text = half_width(value).strip().lower()
            if not text:
                return None
            word = _WORDS.get(text)
        elif value is None:
            return None
        elif kind is int or kind is float:
            word = True if value == 1 else False if value == 0 else None
        else:
            word = None
        if word is None:
            raise FieldValueError(Message("not_yes_no", got=shown(value)))
        return word

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        return value if value is None or type(value) is bool else bool(value)
