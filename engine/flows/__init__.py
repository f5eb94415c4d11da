"""Approval flows: submit a record, route it through approvers, conditions and parallel branches,
and keep every step in its history.

`loom.flows` (a FlowEngine) is the entry point; the definitions are metadata (metadata.flows).
"""

from engine.flows.approvers import ApproverContext, ApproverResolvers, approvers_for
from engine.flows.engine import FlowEngine
from engine.flows.errors import FlowConflict, FlowError, FlowNotFound, RecordLocked
from engine.flows.history import ACTIONS as HISTORY_ACTIONS
from engine.flows.instances import Instance, Task
from engine.flows.tasks import DEADLINE_KIND

__all__ = [
    "DEADLINE_KIND",
    "HISTORY_ACTIONS",
    "ApproverContext",
    "ApproverResolvers",
    "FlowConflict",
    "FlowEngine",
    "FlowError",
    "FlowNotFound",
    "Instance",
    "RecordLocked",
    "Task",
    "approvers_for",
]
