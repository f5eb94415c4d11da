"""The flow history: every step of every approval — who, what, when, why, and what the record held."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.base.actors import Actor
from engine.rules.runlog import json_safe
from engine.store.system_tables import flow_history

#: What history rows say happened. Decisions carry a snapshot of the record's values.
ACTIONS = (
    "submit",  # the submitter sent the record for approval
    "assign",  # a node was reached and its approvers were given tasks
    "approve",
    "reject",
    "transfer",  # 转交: a task handed to someone else
    "add_approver",  # 加签: someone asked to approve before or after an approver
    "withdraw",  # 撤回: the submitter took the record back
    "remind",  # 催办
    "comment",
    "cc",  # 抄送: people told, with nothing to decide
    "action",  # an action node ran its rule actions
    "branch",  # a condition node chose its way
    "split",  # a parallel node started its branches
    "join",  # the branches of a parallel node came together
    "skip",  # a node with no approvers was passed over
    "return",  # 退回: a rejection sent the flow back to an earlier node
    "deadline",  # a node's time ran out
    "approved",  # the flow ended approved
    "rejected",  # the flow ended rejected
)


def write_history(
    conn: Connection,
    instance_id: int,
    at: datetime,
    actor: Actor,
    action: str,
    *,
    node: str | None = None,
    comment: str | None = None,
    detail: Mapping[str, Any] | None = None,
    snapshot: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(flow_history).values(
            instance_id=instance_id,
            at=at,
            actor_id=actor.user_id,
            actor_name=actor.name,
            action=action,
            node=node,
            comment=comment,
            detail=json_safe(dict(detail)) if detail else None,
            snapshot=json_safe(dict(snapshot)) if snapshot is not None else None,
        )
    )


def history_of(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    """An instance's history, oldest first."""
    query = select(flow_history).where(flow_history.c.instance_id == instance_id).order_by(flow_history.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]
