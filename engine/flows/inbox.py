"""The approvals inbox: a user's pending tasks, the tasks they decided, and the approvals they
submitted — newest first, a page at a time, each with what it is about.

Each tab is one indexed query — tasks by (assignee_id, status, id), instances by
(submitter_id, status) — with the instance by primary key, so an inbox stays fast however many
tasks other people have open. Pages go on from the last id shown (`before`), not by offset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.flows.field_access import node_fields
from engine.flows.messages import label_text
from engine.schema.registry import Registry
from engine.store.system_tables import flow_instances, flow_tasks, users

if TYPE_CHECKING:
    from engine.loom import Loom

INBOX_LIMIT = 200
#: 待我审批, 我已审批, 我发起的.
TABS = ("pending", "done", "submitted")
#: What a task of 我已审批 ended as: decided by its approver, or handed on by them (转交).
DONE_STATUSES = ("approved", "rejected", "transferred")


@dataclass(frozen=True)
class InboxPage:
    """One page of a tab: its items, and the `before` that reads the next page (None on the last)."""

    items: list[dict[str, Any]]
    next_before: int | None


# What a card shows of the approval itself, in every tab.
_INSTANCE_COLUMNS = (
    flow_instances.c.id.label("instance_id"),
    flow_instances.c.flow,
    flow_instances.c.object,
    flow_instances.c.record_id,
    flow_instances.c.status,
    flow_instances.c.active_nodes,
    flow_instances.c.submitter_id,
    flow_instances.c.started_at,
    flow_instances.c.ended_at,
    flow_instances.c.snapshot,
)


def inbox_query(  # type: ignore[no-untyped-def]
    user_id: int, limit: int | None, statuses: Sequence[str] = ("pending",), before: int | None = None
):
    tasks, instances = flow_tasks, flow_instances
    submitter = users.alias("submitter")
    query = (
        select(
            tasks.c.id.label("task_id"),
            tasks.c.node,
            tasks.c.status.label("task_status"),
            tasks.c.comment,
            tasks.c.created_at,
            tasks.c.decided_at,
            tasks.c.due_at,
            tasks.c.added_by,
            *_INSTANCE_COLUMNS,
            instances.c.definition,
            submitter.c.display_name.label("submitter_name"),
        )
        .select_from(
            tasks.join(instances, instances.c.id == tasks.c.instance_id).outerjoin(
                submitter, submitter.c.id == instances.c.submitter_id
            )
        )
        .where(tasks.c.assignee_id == user_id, tasks.c.status.in_(list(statuses)))
        .order_by(tasks.c.id.desc())
    )
    if before is not None:
        query = query.where(tasks.c.id < before)
    return query.limit(limit) if limit is not None else query


def _submitted_query(user_id: int, limit: int, before: int | None):  # type: ignore[no-untyped-def]
    instances = flow_instances
    query = (
        select(
            *_INSTANCE_COLUMNS,
        )
        .where(instances.c.submitter_id == user_id)
        .order_by(instances.c.id.desc())
        .limit(limit)
    )
    return query.where(instances.c.id < before) if before is not None else query


def pending_for(
    loom: Loom, user_id: int, *, limit: int | None = INBOX_LIMIT, locale: str = "zh_CN"
) -> list[dict[str, Any]]:
    """The user's pending tasks, newest first, each with its flow, step, record and submitter."""
    with loom.read() as conn:
        registry = loom.registry_for(conn)
        rows = conn.execute(inbox_query(user_id, limit)).all()
    return [_item(registry, row._mapping, locale) for row in rows]


def pending_count(loom: Loom, user_id: int) -> int:
    """How many tasks wait for the user's decision."""
    query = select(func.count()).where(flow_tasks.c.assignee_id == user_id, flow_tasks.c.status == "pending")
    with loom.read() as conn:
        return int(conn.execute(query).scalar_one())


def inbox_page(
    loom: Loom,
    user_id: int,
    tab: str,
    *,
    limit: int = 20,
    before: int | None = None,
    locale: str = "zh_CN",
) -> InboxPage:
    """One page of a tab of the user's inbox: pending, done (decided by them) or submitted (by them).

    Items are ordered by task id (instance id for submitted), newest first; `before` continues
    after the last item of the page before.
    """
    if tab not in TABS:
        raise ValueError(f"an inbox tab is one of {', '.join(TABS)} (got {tab!r})")
    with loom.read() as conn:
        registry = loom.registry_for(conn)
        if tab == "submitted":
            rows = [row._mapping for row in conn.execute(_submitted_query(user_id, limit + 1, before))]
            waiting_on = _waiting_on(conn, [row["instance_id"] for row in rows[:limit]])
        else:
            statuses = ("pending",) if tab == "pending" else DONE_STATUSES
            rows = [row._mapping for row in conn.execute(inbox_query(user_id, limit + 1, statuses, before))]
            waiting_on = {}
    more = len(rows) > limit
    items = [_item(registry, row, locale, waiting_on.get(row["instance_id"], [])) for row in rows[:limit]]
    key = "instance_id" if tab == "submitted" else "task_id"
    return InboxPage(items, items[-1][key] if more else None)


def _waiting_on(conn: Connection, instance_ids: list[int]) -> dict[int, list[str]]:
    """Who each running approval waits for: the display names of its pending tasks' approvers."""
    if not instance_ids:
        return {}
    query = (
        select(flow_tasks.c.instance_id, users.c.display_name)
        .select_from(flow_tasks.join(users, users.c.id == flow_tasks.c.assignee_id))
        .where(flow_tasks.c.instance_id.in_(instance_ids), flow_tasks.c.status == "pending")
        .order_by(flow_tasks.c.id)
    )
    found: dict[int, list[str]] = {}
    for row in conn.execute(query):
        found.setdefault(row.instance_id, []).append(row.display_name)
    return found


def _item(
    registry: Registry, row: Mapping[str, Any], locale: str, waiting_on: list[str] | None = None
) -> dict[str, Any]:
    flow = registry.flows.get(row["flow"])
    model = registry.objects.get(row["object"])
    snapshot = row["snapshot"] or {}
    title_field = model.spec.title_field if model is not None else None
    title = snapshot.get(title_field) if title_field else None

    def node_label(name: str) -> str:
        node = flow.nodes.get(name) if flow is not None else None
        return label_text(node.label, locale, name) if node is not None else name

    item = {
        "instance_id": row["instance_id"],
        "flow": row["flow"],
        "flow_label": label_text(flow.label, locale, row["flow"]) if flow else row["flow"],
        "object": row["object"],
        "record_id": row["record_id"],
        "title": str(title) if title not in (None, "") else f"{row['object']} {row['record_id']}",
        "status": row["status"],
        "steps": [node_label(name) for name in row["active_nodes"] or []],
        "waiting_on": waiting_on or [],
        "submitter_id": row["submitter_id"],
        "submitted_at": row["started_at"],
        "ended_at": row["ended_at"],
        # The fields the flow shows approvers, as the record was submitted (what they decide on).
        "summary": {
            name: snapshot.get(name)
            for name in (flow.summary_fields if flow is not None else ())
            if model is not None and name in model.fields
        },
    }
    if "task_id" in row:
        item.update(
            task_id=row["task_id"],
            node=row["node"],
            node_label=node_label(row["node"]),
            task_status=row["task_status"],
            comment=row["comment"],
            submitter_name=row["submitter_name"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            due_at=row["due_at"],
            added_by=row["added_by"],
            # What the task's node keeps from its approver (see engine.flows.field_access).
            hidden_fields=sorted(node_fields(row["definition"] or {}, [row["node"]])[1]),
        )
    return item
