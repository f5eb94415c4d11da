"""Computed field types: formula (an expression over the record) and rollup (an aggregate of related records).

Neither has a column; the engine computes them on read, so nothing may write them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.registry import FieldTypeRegistry
from metadata.specs import FieldSpec, ObjectSpec

FORMULA_RESULTS = ("text", "integer", "decimal", "currency", "percent", "boolean", "date", "datetime")
ROLLUP_FUNCTIONS = ("count", "sum", "min", "max", "avg")
# "all" aggregates every related record; "reader" only those the reading actor may open.
ROLLUP_SCOPES = ("all", "reader")


class _ComputedType(FieldType):
    stored = False

    def __init__(self, registry: FieldTypeRegistry) -> None:
        # The registry the type lives in, so a result or source type a plugin overrides is the one used.
        self.registry = registry

    def column_type(self, field: FieldSpec) -> TypeEngine:
        raise TypeError(f"{self.name} fields are computed on read and have no column")

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None or value == "":
            return None
        raise FieldValueError(Message("computed"))


class FormulaType(_ComputedType):
    """A read-only value computed by `expression`; its `result` type decides how it is shown."""

    name = "formula"
    params_schema = {
        "type": "object",
        "properties": {
            "expression": {"type": "string", "minLength": 1},
            "result": {"enum": list(FORMULA_RESULTS)},
        },
        "required": ["expression", "result"],
        "additionalProperties": False,
    }

    def result_type(self, field: FieldSpec) -> FieldType:
        return self.registry.get(field.params.get("result", "text"))

    def value_kind_for(self, field: FieldSpec, objects: Mapping[str, ObjectSpec] | None = None) -> str:
        return self.result_type(field).value_kind_for(field, objects)

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        return None if value is None else self.result_type(field).to_json(value, field)

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        result = field.params.get("result")
        if result not in FORMULA_RESULTS or result not in self.registry:
            return [f"formula result must be one of {', '.join(FORMULA_RESULTS)} (got {result!r})"]
        return []


class RollupType(_ComputedType):
    """Count, sum, average, minimum or maximum of a field over the records that look up this one."""

    name = "rollup"
    value_kind = "number"
    params_schema = {
        "type": "object",
        "properties": {
            "source": {
                "type": "object",
                "properties": {
                    "object": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,58}$"},
                    "via": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
                    "function": {"enum": list(ROLLUP_FUNCTIONS)},
                    "field": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
                    "filter": {"type": "string", "minLength": 1},
                    "scope": {"enum": list(ROLLUP_SCOPES)},
                },
                "required": ["object", "via", "function"],
                # Every function but count aggregates a field.
                "if": {"properties": {"function": {"const": "count"}}},
                "else": {"required": ["field"]},
                "additionalProperties": False,
            }
        },
        "required": ["source"],
        "additionalProperties": False,
    }

    def value_kind_for(self, field: FieldSpec, objects: Mapping[str, ObjectSpec] | None = None) -> str:
        source = field.params.get("source") or {}
        if source.get("function") not in ("min", "max") or not objects:
            return "number"
        # The earliest or latest of a date is a date: the kind follows the aggregated field.
        aggregated = self._source_field(source, objects)
        if aggregated is None or aggregated.type not in self.registry:
            return "number"
        return self.registry.get(aggregated.type).value_kind_for(aggregated, objects)

    @staticmethod
    def _source_field(source: Mapping[str, Any], objects: Mapping[str, ObjectSpec]) -> FieldSpec | None:
        related = objects.get(source.get("object"))
        name = source.get("field")
        if related is None or not name or not related.has_field(name):
            return None
        return related.field(name)

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        if isinstance(value, Decimal | float):
            # Sums and averages of decimals travel as strings, like the decimals they add up.
            return format(value if isinstance(value, Decimal) else Decimal(repr(value)), "f")
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        source = field.params.get("source") or {}
        object_name = source.get("object")
        related = objects.get(object_name) or (obj if object_name == obj.name else None)
        if related is None:
            return [f"rollup source object {object_name!r} does not exist"]
        problems = []
        via = source.get("via")
        if not related.has_field(via):
            problems.append(f"rollup via {via!r} is not a field of {object_name}")
        else:
            via_field = related.field(via)
            if via_field.type != "lookup":
                problems.append(f"rollup via {via!r} must be a lookup field (it is {via_field.type})")
            elif via_field.param("target") != obj.name:
                problems.append(
                    f"rollup via {via!r} must look up {obj.name} (it looks up {via_field.param('target')})"
                )
        function, name = source.get("function"), source.get("field")
        if name is not None:
            if not related.has_field(name):
                problems.append(f"rollup field {name!r} is not a field of {object_name}")
            elif function != "count":
                problems.extend(self._aggregable(function, related.field(name)))
        return problems

    def _aggregable(self, function: str, aggregated: FieldSpec) -> list[str]:
        if aggregated.type not in self.registry:
            return [f"rollup field {aggregated.name!r} has unknown type {aggregated.type}"]
        field_type = self.registry.get(aggregated.type)
        kind = field_type.value_kind_for(aggregated)
        if function in ("sum", "avg"):
            allowed, wanted = ("number",), "a stored number field"
        else:
            allowed, wanted = ("number", "date", "datetime"), "a stored number or date field"
        if not field_type.stored or kind not in allowed:
            return [f"rollup {function} needs {wanted} ({aggregated.name!r} is {aggregated.type})"]
        return []
