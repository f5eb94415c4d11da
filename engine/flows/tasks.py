"""Approvers' tasks: created when a node is reached, claimed when decided, closed when no longer needed.

A task is pending when it is its approver's turn, waiting when it follows another task (the
next approver of a sequential node, or an approver added before or after someone): the
instance's state maps each waiting task to the task it follows. A task's deadline is due work
scheduled when it becomes pending and cancelled when it is decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import insert, update

from engine.base.messages import Message
from engine.flows.errors import FlowConflict, status_named
from engine.flows.instances import OPEN, Task, load_task, tasks_of
from engine.flows.messages import tell
from engine.flows.runs import Run
from engine.store.system_tables import flow_tasks
from engine.work.due_work import cancel, schedule
from metadata.flows import NodeSpec

DEADLINE_KIND = "flow.deadline"


def deadline_key(instance_id: int, task_id: int) -> str:
    return f"{DEADLINE_KIND}:{instance_id}:{task_id}"


def add_task(
    run: Run,
    node: NodeSpec,
    assignee_id: int,
    *,
    status: str,
    position: int,
    added_by: int | None = None,
) -> int:
    """Create one task; a pending one gets its deadline and tells its approver."""
    task_id = run.conn.execute(
        insert(flow_tasks)
        .values(
            instance_id=run.instance.id,
            node=node.name,
            assignee_id=assignee_id,
            status=status,
            position=position,
            created_at=run.now,
            added_by=added_by,
        )
        .returning(flow_tasks.c.id)
    ).scalar_one()
    if status == "pending":
        _became_pending(run, node, task_id, assignee_id)
    return int(task_id)


def _became_pending(run: Run, node: NodeSpec, task_id: int, assignee_id: int) -> None:
    if node.deadline is not None:
        due_at = run.now + timedelta(hours=node.deadline.hours)
        run.conn.execute(update(flow_tasks).where(flow_tasks.c.id == task_id).values(due_at=due_at))
        ref = {"instance": run.instance.id, "task": task_id}
        schedule(run.conn, deadline_key(run.instance.id, task_id), DEADLINE_KIND, ref, due_at, run.now)
    tell(run, [assignee_id], "to_approve")


def round_tasks(run: Run, node: str, statuses: Iterable[str] | None = None) -> list[Task]:
    """The tasks of the node's current round, in order."""
    since = run.round_of(node)
    if since is None:
        return []
    return tasks_of(run.conn, run.instance.id, node, since=since, statuses=statuses)


def claim(run: Run, task: Task, status: str, comment: str | None) -> None:
    """Decide a pending task, if it still is: of two people deciding at once, exactly one counts."""
    result = run.conn.execute(
        update(flow_tasks)
        .where(flow_tasks.c.id == task.id, flow_tasks.c.status == "pending")
        .values(status=status, decided_at=run.now, comment=comment)
    )
    if result.rowcount != 1:
        now = load_task(run.conn, task.id)
        raise FlowConflict(Message("task_decided_meanwhile", task=task.id, status=status_named(now.status)))
    cancel(run.conn, deadline_key(run.instance.id, task.id))


def hold(run: Run, task: Task) -> None:
    """Put a pending task back to waiting (someone was added to approve before its approver)."""
    result = run.conn.execute(
        update(flow_tasks)
        .where(flow_tasks.c.id == task.id, flow_tasks.c.status == "pending")
        .values(status="waiting", due_at=None)
    )
    if result.rowcount != 1:
        raise FlowConflict(Message("task_decided", task=task.id))
    cancel(run.conn, deadline_key(run.instance.id, task.id))


def waits(run: Run) -> dict[str, int]:
    """Waiting task id (as text) → the task it follows."""
    return run.state.setdefault("waits", {})


def activate_after(run: Run, node: NodeSpec, task_id: int) -> int:
    """Make pending the waiting tasks that follow `task_id`; returns how many."""
    following = [int(waiting) for waiting, after in waits(run).items() if after == task_id]
    if not following:
        return 0
    activated = 0
    for task in tasks_of(run.conn, run.instance.id, node.name, statuses=["waiting"]):
        if task.id in following:
            del waits(run)[str(task.id)]
            run.conn.execute(update(flow_tasks).where(flow_tasks.c.id == task.id).values(status="pending"))
            _became_pending(run, node, task.id, task.assignee_id)
            activated += 1
    return activated


def close_tasks(run: Run, status: str, *, node: str | None = None) -> list[Task]:
    """End every open task (of one node's round, or of the whole instance) with `status`."""
    if node is not None:
        found = round_tasks(run, node, OPEN)
    else:
        found = tasks_of(run.conn, run.instance.id, statuses=OPEN)
    if found:
        run.conn.execute(
            update(flow_tasks)
            .where(flow_tasks.c.id.in_([task.id for task in found]), flow_tasks.c.status.in_(OPEN))
            .values(status=status, decided_at=run.now)
        )
        for task in found:
            cancel(run.conn, deadline_key(run.instance.id, task.id))
    return found


def shift_positions(run: Run, node: str, from_position: int) -> None:
    """Make room in the node's order: every task of the round at `from_position` or later moves one down."""
    since = run.round_of(node)
    run.conn.execute(
        update(flow_tasks)
        .where(
            flow_tasks.c.instance_id == run.instance.id,
            flow_tasks.c.node == node,
            flow_tasks.c.id >= (since or 0),
            flow_tasks.c.position >= from_position,
        )
        .values(position=flow_tasks.c.position + 1)
    )
