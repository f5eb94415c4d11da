"""What a plugin may touch: the registries it extends; plugins import from here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from engine.errors import FieldValueError
from engine.expressions import Function, FunctionRegistry
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.registry import FieldTypeRegistry
from metadata.specs import FieldSpec, ObjectSpec

ENTRY_POINT_GROUP = "loom.plugins"

__all__ = [
    "ENTRY_POINT_GROUP",
    "FieldSpec",
    "FieldType",
    "FieldValueError",
    "Function",
    "ObjectSpec",
    "PluginContext",
    "Source",
    "load_plugins",
]


@dataclass(frozen=True)
class PluginContext:
    """The registries of one Loom instance, handed to each plugin's `register(ctx)`."""

    field_types: FieldTypeRegistry
    functions: FunctionRegistry


def register_builtins(ctx: PluginContext) -> None:
    """The built-in field types, registered through the same entry point group as any plugin."""
    from engine.fieldtypes import register_builtin

    register_builtin(ctx.field_types)


def load_plugins(ctx: PluginContext) -> list[str]:
    """Call every `loom.plugins` entry point with the context; returns the names loaded."""
    loaded = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtins", e.name)):
        entry.load()(ctx)
        loaded.append(entry.name)
    if "builtins" not in loaded:
        # Running from a checkout that was never pip-installed: the built-ins must still be there.
        register_builtins(ctx)
    return loaded
