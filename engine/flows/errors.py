"""Errors of approval flows; all are LoomErrors, so the runtime maps them by code."""

from __future__ import annotations

from collections.abc import Mapping

from engine.base.errors import LoomError
from engine.base.messages import Message, named

# How a task or an approval ended, for messages a Chinese reader reads.
_STATUS_WORDS = {
    "approved": "已同意",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
    "transferred": "已转交",
    "cancelled": "已取消",
    "returned": "已退回",
    "skipped": "已跳过",
    "pending": "待审批",
    "waiting": "等待中",
}


def status_named(status: str) -> dict[str, str]:
    """A task's or approval's status as each reader knows it."""
    return named(status, {"zh_CN": _STATUS_WORDS.get(status, status)})


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

    def __init__(
        self,
        object_name: str,
        record_id: int,
        flow: str,
        status: str,
        labels: tuple[Mapping[str, str] | None, Mapping[str, str] | None] = (None, None),
    ) -> None:
        """`labels` are the object's and the flow's, so a Chinese reader sees names they know."""
        self.object_name = object_name
        self.record_id = record_id
        self.flow = flow
        code = "locked_in_approval" if status == "running" else "locked_approved"
        what, which = named(object_name, labels[0]), named(flow, labels[1])
        super().__init__(Message(code, object=what, id=record_id, flow=which))
