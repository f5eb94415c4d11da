"""Errors of approval flows; all are LoomErrors, so the runtime maps them by code."""

from __future__ import annotations

from engine.errors import LoomError


class FlowError(LoomError):
    """A flow operation was refused as asked; nothing was changed."""

    code = "flow_refused"


class FlowConflict(FlowError):
    """Someone else acted first (decided the task, ended the approval): nothing was changed."""

    code = "conflict"


class FlowNotFound(FlowError):
    code = "not_found"


class RecordLocked(FlowError):
    """The record's approval locks it: only administrators (and the system) may change it."""

    code = "locked"

    def __init__(self, object_name: str, record_id: int, flow: str, status: str) -> None:
        self.object_name = object_name
        self.record_id = record_id
        self.flow = flow
        why = "while its approval runs" if status == "running" else "because its approval was granted"
        super().__init__(
            f"{object_name} {record_id} is locked {why} ({flow}); only an administrator may change it"
        )
