"""The registry of field types, keyed by name; plugins add types through it."""

from __future__ import annotations

from collections.abc import Iterator

from engine.fieldtypes.base import FieldType


class FieldTypeRegistry:
    """Field types by name. Registering a name twice replaces it (a plugin may override a built-in)."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, field_type: FieldType) -> FieldType:
        self._types[field_type.name] = field_type
        return field_type

    def get(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise KeyError(f"unknown field type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._types))

    def names(self) -> list[str]:
        return sorted(self._types)
