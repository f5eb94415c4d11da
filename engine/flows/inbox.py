"""The approvals inbox: a user's pending tasks with what they are about, newest first.

One indexed query — (assignee_id, status, id) on the tasks, the instance by primary key — so
the inbox stays fast however many tasks other people have open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.flows.messages import label_text
from engine.system_tables import flow_instances, flow_tasks, users

if TYPE_CHECKING:
    from engine.loom import Loom

INBOX_LIMIT = 200


def inbox_query(user_id: int, limit: int | None):  # type: ignore[no-untyped-def]
    tasks, instances = flow_tasks, flow_instances
    submitter = users.alias("submitter")
    query = (
        select(
            tasks.c.id.label("task_id"),
            tasks.c.node,
            tasks.c.created_at,
            tasks.c.due_at,
            tasks.c.added_by,
            instances.c.id.label("instance_id"),
            instances.c.flow,
            instances.c.object,
            instances.c.record_id,
            instances.c.submitter_id,
            instances.c.started_at,
            instances.c.snapshot,
            submitter.c.display_name.label("submitter_name"),
        )
        .select_from(
            tasks.join(instances, instances.c.id == tasks.c.instance_id).outerjoin(
                submitter, submitter.c.id == instances.c.submitter_id
            )
        )
        .where(tasks.c.assignee_id == user_id, tasks.c.status == "pending")
        .order_by(tasks.c.id.desc())
    )
    return query.limit(limit) if limit is not None else query


def pending_for(
    loom: Loom, user_id: int, *, limit: int | None = INBOX_LIMIT, locale: str = "zh_CN"
) -> list[dict[str, Any]]:
    """The user's pending tasks, newest first, each with its flow, step, record and submitter."""
    with loom.read() as conn:
        registry = loom.registry_for(conn)
        rows = conn.execute(inbox_query(user_id, limit)).all()
    found = []
    for row in rows:
        flow = registry.flows.get(row.flow)
        node = flow.nodes.get(row.node) if flow is not None else None
        model = registry.objects.get(row.object)
        title_field = model.spec.title_field if model is not None else None
        title = (row.snapshot or {}).get(title_field) if title_field else None
        found.append(
            {
                "task_id": row.task_id,
                "instance_id": row.instance_id,
                "flow": row.flow,
                "flow_label": label_text(flow.label, locale, row.flow) if flow else row.flow,
                "node": row.node,
                "node_label": label_text(node.label, locale, row.node) if node else row.node,
                "object": row.object,
                "record_id": row.record_id,
                "title": str(title) if title not in (None, "") else f"{row.object} {row.record_id}",
                "submitter_id": row.submitter_id,
                "submitter_name": row.submitter_name,
                "submitted_at": row.started_at,
                "created_at": row.created_at,
                "due_at": row.due_at,
                "added_by": row.added_by,
            }
        )
    return found
