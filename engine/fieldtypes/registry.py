"""The registry of field types, keyed by name; plugins add types through it."""

from __future__ import annotations

from engine.base.named_registry import NamedRegistry
from engine.fieldtypes.base import FieldType


class FieldTypeRegistry(NamedRegistry[FieldType]):
    """Field types by name; plugins add types through it."""

    kind = "field type"

    def unknown(self, name: str) -> Exception:
        return KeyError(f"unknown field type {name!r}")
