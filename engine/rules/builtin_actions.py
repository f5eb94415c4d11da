"""The built-in rule actions, registered through the same entry point as any plugin's."""

from __future__ import annotations

from engine.rules.actions import ActionRegistry
from engine.rules.assignment import AssignOwner
from engine.rules.flow_actions import Reject, StartFlow
from engine.rules.notify_action import Notify
from engine.rules.pool import MoveToPool
from engine.rules.record_actions import AddTag, CreateRecord, SetField, UpdateRelated


def register_builtin_actions(registry: ActionRegistry) -> None:
    """Register every built-in action type."""
    for action in (
        SetField(),
        UpdateRelated(),
        CreateRecord(),
        AddTag(),
        AssignOwner(),
        Notify(),
        MoveToPool(),
        StartFlow(),
        Reject(),
    ):
        registry.register(action)
