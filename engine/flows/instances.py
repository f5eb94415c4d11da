"""Flow instances and their tasks as stored: one row per submission, one row per approver's task."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from engine.flows.errors import FlowNotFound
from engine.store.system_tables import flow_instances, flow_tasks

RUNNING = "running"
OPEN = ("pending", "waiting")  # task statuses still to be decided


@dataclass
class Instance:
    """One submission of one record to one flow, running on the definition it started with."""

    id: int
    flow: str
    flow_revision: int | None
    definition: dict[str, Any]
    object: str
    record_id: int
    status: str  # running, approved, rejected, withdrawn
    submitter_id: int | None
    started_at: datetime
    ended_at: datetime | None
    snapshot: dict[str, Any]
    active_nodes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @classmethod
    def from_row(cls, row: Row) -> Instance:
        data = row._mapping
        return cls(
            id=data["id"],
            flow=data["flow"],
            flow_revision=data["flow_revision"],
            definition=data["definition"],
            object=data["object"],
            record_id=data["record_id"],
            status=data["status"],
            submitter_id=data["submitter_id"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            snapshot=data["snapshot"],
            active_nodes=list(data["active_nodes"] or []),
            state=copy.deepcopy(data["state"] or {}),
        )


@dataclass(frozen=True)
class Task:
    """One approver's part in one node: pending (theirs to decide), waiting (not their turn yet), decided."""

    id: int
    instance_id: int
    node: str
    assignee_id: int
    status: str
    position: int
    created_at: datetime
    decided_at: datetime | None
    due_at: datetime | None
    comment: str | None
    added_by: int | None

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @classmethod
    def from_row(cls, row: Row) -> Task:
        data = row._mapping
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


# -- instances -----------------------------------------------------------------------------------------


def load_instance(conn: Connection, instance_id: int, *, lock: bool = False) -> Instance:
    """The instance; with `lock`, its row stays locked until the transaction ends (PostgreSQL).

    Every operation that changes an instance locks it first, so two decisions on one approval
    queue up instead of both acting on what they read before the other committed.
    """
    query = select(flow_instances).where(flow_instances.c.id == instance_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise FlowNotFound(f"there is no approval with id {instance_id}")
    return Instance.from_row(row)


def latest_instance(conn: Connection, object_name: str, record_id: int) -> Instance | None:
    """The record's most recent submission, whatever its status."""
    row = conn.execute(
        select(flow_instances)
        .where(flow_instances.c.object == object_name, flow_instances.c.record_id == record_id)
        .order_by(flow_instances.c.id.desc())
        .limit(1)
    ).first()
    return Instance.from_row(row) if row is not None else None


def has_running(conn: Connection, flow: str) -> bool:
    """Whether any approval of the flow is still running (a flow with some cannot be removed)."""
    query = select(flow_instances.c.id).where(
        flow_instances.c.flow == flow, flow_instances.c.status == "running"
    )
    return conn.execute(query.limit(1)).first() is not None


def instances_of_record(conn: Connection, object_name: str, record_id: int) -> list[Instance]:
    """Every submission of the record, oldest first."""
    rows = conn.execute(
        select(flow_instances)
        .where(flow_instances.c.object == object_name, flow_instances.c.record_id == record_id)
        .order_by(flow_instances.c.id)
    )
    return [Instance.from_row(row) for row in rows]


def insert_instance(conn: Connection, values: Mapping[str, Any]) -> Instance:
    instance_id = conn.execute(
        insert(flow_instances).values(**values).returning(flow_instances.c.id)
    ).scalar_one()
    return load_instance(conn, instance_id)


def save_instance(conn: Connection, instance: Instance) -> None:
    conn.execute(
        update(flow_instances)
        .where(flow_instances.c.id == instance.id)
        .values(
            status=instance.status,
            ended_at=instance.ended_at,
            active_nodes=list(instance.active_nodes),
            state=copy.deepcopy(instance.state),
        )
    )


# -- tasks -------------------------------------------------------------------------------------------


def load_task(conn: Connection, task_id: int) -> Task:
    row = conn.execute(select(flow_tasks).where(flow_tasks.c.id == task_id)).first()
    if row is None:
        raise FlowNotFound(f"there is no approval task with id {task_id}")
    return Task.from_row(row)


def tasks_of(
    conn: Connection,
    instance_id: int,
    node: str | None = None,
    *,
    since: int | None = None,
    statuses: Iterable[str] | None = None,
) -> list[Task]:
    """An instance's tasks in order; of one node, from task id `since` on (the node's current round)."""
    query = select(flow_tasks).where(flow_tasks.c.instance_id == instance_id)
    if node is not None:
        query = query.where(flow_tasks.c.node == node)
    if since is not None:
        query = query.where(flow_tasks.c.id >= since)
    if statuses is not None:
        query = query.where(flow_tasks.c.status.in_(list(statuses)))
    return [
        Task.from_row(row) for row in conn.execute(query.order_by(flow_tasks.c.position, flow_tasks.c.id))
    ]
