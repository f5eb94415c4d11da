"""What every field type owns: its column, coercion from the outside world, validation and JSON output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from sqlalchemy.types import TypeEngine

from metadata.specs import FieldSpec, ObjectSpec

# Where a raw value came from: a JSON body, an HTML form (always strings), or a CSV/XLSX cell.
Source = Literal["json", "form", "csv"]


class FieldType:
    """Base of all field types. Subclasses set `name` and override what differs.

    Values inside the engine are Python values (str, int, Decimal, bool, date, naive-UTC
    datetime, list); `coerce` turns outside input into them and raises `FieldValueError`
    with a message a person can act on; `to_json` turns them back into JSON.
    """

    name: ClassVar[str]
    #: False for types computed on read (formula, rollup): no column, never written.
    stored: ClassVar[bool] = True
    #: JSON Schema (Draft 2020-12) for this type's parameters, merged into metadata validation.
    params_schema: ClassVar[dict[str, Any]] = {}
    #: Whether a column of this type gets an index without being asked (lookups, users).
    indexed_by_default: ClassVar[bool] = False
    #: The expression-language result kind: text, number, boolean, date, datetime, list, id.
    value_kind: ClassVar[str] = "text"

    def value_kind_for(self, field: FieldSpec, objects: Mapping[str, ObjectSpec] | None = None) -> str:
        """The value kind of one field; differs from `value_kind` only for formula and rollup fields."""
        return self.value_kind

    def column_type(self, field: FieldSpec) -> TypeEngine:
        raise NotImplementedError(f"field type {self.name} must declare its column type")

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        """Turn a raw input value into the engine's value; None and "" mean empty."""
        return value

    def validate(self, value: Any, field: FieldSpec) -> None:
        """Check a coerced, non-empty value against the field's settings; raise FieldValueError."""

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        """`coerce` for one field and source, its settings read once; None where the type has no such path."""
        return None

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        """`validate` for one field, its settings read once (bulk writes call it per row); None: no checks."""
        if type(self).validate is FieldType.validate:
            return None
        validate = self.validate
        return lambda value: validate(value, field)

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        return value

    def to_db(self, value: Any, field: FieldSpec) -> Any:
        return value

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        return value

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        """Semantic checks of the field's settings that need the other objects; returns messages."""
        return []

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or value == [] or value == ()
