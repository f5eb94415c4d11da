"""What a plugin may touch: the registries it extends; plugins import from here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from engine.base.errors import FieldValueError
from engine.base.settings import EnvSettings
from engine.expressions import Function, FunctionRegistry, default_functions
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.rules.actions import Action, ActionFailed, ActionRegistry
from engine.rules.plugin_actions import PluginAction, PluginActionContext
from engine.work.outbox import Channel, ChannelRegistry, OutboxMessage
from metadata.specs import FieldSpec, ObjectSpec

ENTRY_POINT_GROUP = "loom.plugins"

__all__ = [
    "ENTRY_POINT_GROUP",
    "Action",
    "ActionFailed",
    "Channel",
    "EnvSettings",
    "FieldSpec",
    "FieldType",
    "FieldValueError",
    "Function",
    "ObjectSpec",
    "OutboxMessage",
    "PluginAction",
    "PluginActionContext",
    "PluginContext",
    "Source",
    "installed_entry_points",
    "load_plugins",
]


@dataclass(frozen=True)
class PluginContext:
    """The registries of one Loom instance, handed to each plugin's `register(ctx)`."""

    field_types: FieldTypeRegistry
    functions: FunctionRegistry
    actions: ActionRegistry
    channels: ChannelRegistry


def loaded_registries() -> PluginContext:
    """Fresh registries with every installed plugin (the built-ins included) registered."""
    ctx = PluginContext(FieldTypeRegistry(), default_functions(), ActionRegistry(), ChannelRegistry())
    load_plugins(ctx)
    return ctx


def register_builtins(ctx: PluginContext) -> None:
    """The built-in field types, registered through the same entry point group as any plugin."""
    from engine.fieldtypes import register_builtin
    from engine.rules.builtin_actions import register_builtin_actions

    register_builtin(ctx.field_types)
    register_builtin_actions(ctx.actions)


@cache
def installed_entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of `group`, by name; read once a process, as scanning every package costs 65 ms."""
    return tuple(sorted(entry_points(group=group), key=lambda entry: entry.name))


def load_plugins(ctx: PluginContext) -> list[str]:
    """Call every `loom.plugins` entry point with the context; returns the names loaded."""
    loaded = []
    for entry in sorted(installed_entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name != "builtins"):
        entry.load()(ctx)
        loaded.append(entry.name)
    if "builtins" not in loaded:
        # Running from a checkout that was never pip-installed: the built-ins must still be there.
        register_builtins(ctx)
    return loaded
