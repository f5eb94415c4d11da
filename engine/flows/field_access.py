"""What an open task lets its approver do with the record (审批人可见/可编辑字段): change the fields
its node makes editable, even while the approval locks the record, and read the record without the
fields the node hides — where the task, not the approver's own role, is what lets them read it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.identity.permissions import access_for
from engine.store.system_tables import flow_instances, flow_tasks

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass(frozen=True)
class TaskGrant:
    """The actor's pending tasks on a record's running approval, and the fields they may edit or not see.

    With several tasks (one person on two parallel branches), a field is editable when any node makes
    it so, and hidden only when every node hides it.
    """

    instance_id: int
    task_ids: tuple[int, ...]
    editable: frozenset[str]
    hidden: frozenset[str]


def task_grant(conn: Connection, actor: Actor, object_name: str, record_id: int) -> TaskGrant | None:
    """The grant of the actor's pending tasks on the record, or None when they hold none."""
    if actor.user_id is None:
        return None
    query = (
        select(
            flow_tasks.c.id,
            flow_tasks.c.node,
            flow_instances.c.id.label("instance_id"),
            flow_instances.c.definition,
        )
        .select_from(flow_tasks.join(flow_instances, flow_instances.c.id == flow_tasks.c.instance_id))
        .where(
            flow_tasks.c.assignee_id == actor.user_id,
            flow_tasks.c.status == "pending",
            flow_instances.c.object == object_name,
            flow_instances.c.record_id == record_id,
            flow_instances.c.status == "running",
        )
        .order_by(flow_tasks.c.id)
    )
    rows = conn.execute(query).all()
    if not rows:
        return None
    editable, hidden = node_fields(rows[0].definition, [row.node for row in rows])
    return TaskGrant(rows[0].instance_id, tuple(row.id for row in rows), editable, hidden)


def editable_by(
    conn: Connection, actor: Actor, instance_id: int, definition: Mapping[str, Any]
) -> frozenset[str]:
    """The fields the actor's pending tasks of this approval let them change."""
    if actor.user_id is None:
        return frozenset()
    nodes = conn.execute(
        select(flow_tasks.c.node).where(
            flow_tasks.c.instance_id == instance_id,
            flow_tasks.c.assignee_id == actor.user_id,
            flow_tasks.c.status == "pending",
        )
    ).scalars()
    return node_fields(definition, list(nodes))[0]


def node_fields(definition: Mapping[str, Any], nodes: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(editable, hidden) of approval nodes of a stored definition, combined as TaskGrant says."""
    editable: set[str] = set()
    hidden: set[str] | None = None
    for name in nodes:
        fields = ((definition.get("nodes") or {}).get(name) or {}).get("fields") or {}
        editable |= set(fields.get("editable", ()))
        node_hidden = set(fields.get("hidden", ()))
        hidden = node_hidden if hidden is None else hidden & node_hidden
    return frozenset(editable), frozenset((hidden or set()) - editable)


def visible_summary(loom: Loom, actor: Actor, item: Mapping[str, Any]) -> dict[str, Any]:
    """An inbox card's summary fields as `actor` may see them: without those their role hides, nor,
    unless their role lets them read the record, those the task's node hides."""
    summary = dict(item.get("summary") or {})
    access = access_for(loom.registry, actor, item["object"])
    summary = {name: value for name, value in summary.items() if access.visible(name)}
    if set(item.get("hidden_fields") or ()) & set(summary):
        try:
            hidden = loom.records(actor).read_access(item["object"], item["record_id"]).hidden
        except LoomError:  # the task is decided and the role reads no such record
            hidden = frozenset(item["hidden_fields"])
        summary = {name: value for name, value in summary.items() if name not in hidden}
    return summary
