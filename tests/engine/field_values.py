"""Shared by the field type tests: coerce and validate a value the way the record service does."""

from __future__ import annotations

from typing import Any

import pytest

from engine.base.errors import FieldValueError
from engine.fieldtypes import Source, builtin_field_types
from metadata.specs import FieldSpec

TYPES = builtin_field_types()
LEVELS = {
    "options": [
        {"value": "vip", "label": {"zh_CN": "重要客户", "en": "VIP"}},
        {"value": "key", "label": {"zh_CN": "重点", "en": "Key account"}},
        {"value": "normal", "label": {"zh_CN": "普通", "en": "Normal"}},
    ]
}


# Positional-only arguments, so a parameter such as rollup's "source" can be passed by keyword.
def field(type_name: str, /, **params: Any) -> FieldSpec:
    return FieldSpec.from_json({"name": "f", "type": type_name, **params})


def accept(type_name: str, value: Any, source: Source = "json", /, **params: Any) -> Any:
    """Coerce, then validate a non-empty result; return the value the engine would store."""
    spec, field_type = field(type_name, **params), TYPES.get(type_name)
    result = field_type.coerce(value, spec, source)
    if not field_type.is_empty(result):
        field_type.validate(result, spec)
    return result


def refusal(type_name: str, value: Any, source: Source = "json", /, **params: Any) -> str:
    """The message a refused value gets."""
    with pytest.raises(FieldValueError) as caught:
        accept(type_name, value, source, **params)
    return str(caught.value)


def as_json(type_name: str, value: Any, /, **params: Any) -> Any:
    return TYPES.get(type_name).to_json(value, field(type_name, **params))
