"""Field types: a registry of types, each owning its column, coercion, validation and JSON output."""

from __future__ import annotations

from engine.fieldtypes.attachment import AttachmentType
from engine.fieldtypes.autonumber import AutonumberType, autonumber_period, format_autonumber
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.boolean import BooleanType
from engine.fieldtypes.choices import MultiSelectType, SelectType, TagsType
from engine.fieldtypes.computed import FormulaType, RollupType
from engine.fieldtypes.numbers import CurrencyType, DecimalType, IntegerType, PercentType
from engine.fieldtypes.references import LookupType, UserType
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.fieldtypes.temporal import DateTimeType, DateType
from engine.fieldtypes.text import EmailType, LongTextType, PhoneType, TextType, UrlType

__all__ = [
    "AttachmentType",
    "AutonumberType",
    "BooleanType",
    "CurrencyType",
    "DateTimeType",
    "DateType",
    "DecimalType",
    "EmailType",
    "FieldType",
    "FieldTypeRegistry",
    "FormulaType",
    "IntegerType",
    "LongTextType",
    "LookupType",
    "MultiSelectType",
    "PercentType",
    "PhoneType",
    "RollupType",
    "SelectType",
    "Source",
    "TagsType",
    "TextType",
    "UrlType",
    "UserType",
    "autonumber_period",
    "builtin_field_types",
    "format_autonumber",
    "register_builtin",
]

_SIMPLE_TYPES = (
    TextType, LongTextType, EmailType, PhoneType, UrlType,
    IntegerType, DecimalType, CurrencyType, PercentType,
    BooleanType, DateType, DateTimeType,
    SelectType, MultiSelectType, TagsType,
    LookupType, UserType, AutonumberType, AttachmentType,
)  # fmt: skip


def register_builtin(registry: FieldTypeRegistry) -> None:
    """Register every built-in field type; the `loom.plugins` entry point for the core types."""
    for field_type in _SIMPLE_TYPES:
        registry.register(field_type())
    # Computed types look up their result and source types in the registry they belong to.
    registry.register(FormulaType(registry))
    registry.register(RollupType(registry))


def builtin_field_types() -> FieldTypeRegistry:
    """A fresh registry holding all built-in field types."""
    registry = FieldTypeRegistry()
    register_builtin(registry)
    return registry
