"""Node deadlines: due work per pending task, run by the worker when the task's time runs out.

What happens is the node's `deadline.then`: remind the approver, reassign the task (to the
deadline's `to`), or approve or reject it as the system — each written to the flow history.
A task decided in time cancels its due work; a stale item (the task was decided, transferred
or the approval ended meanwhile) does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.flows.approvers import approvers_for
from engine.flows.decisions import decide
from engine.flows.delegation import transfer_task
from engine.flows.errors import FlowNotFound
from engine.flows.instances import OPEN, Task, load_instance, load_task
from engine.flows.messages import tell
from engine.flows.runs import Run, flow_actor
from engine.flows.tasks import round_tasks
from engine.work.due_work import DueItem, finish
from metadata.flows import NodeSpec

if TYPE_CHECKING:
    from engine.loom import Loom


def run_deadline(loom: Loom, item: DueItem) -> None:
    """The due-work handler for "flow.deadline": one task whose time ran out, in one transaction."""
    with loom.begin() as conn:
        now = loom.clock.now()
        try:
            task = load_task(conn, int(item.ref["task"]))
            instance = load_instance(conn, task.instance_id, lock=True)
        except FlowNotFound:
            finish(conn, item, now)
            return
        task = load_task(conn, task.id)  # as it is now that the instance is ours
        if task.status == "pending" and instance.running:
            run = Run.of(loom, conn, instance, flow_actor(instance.flow))
            node = run.flow.nodes.get(task.node)
            if node is not None and node.deadline is not None:
                STEPS.get(node.deadline.then, _remind)(run, node, task)
                run.save()
        finish(conn, item, now)


def _hours(node: NodeSpec) -> str:
    hours = node.deadline.hours if node.deadline is not None else 0
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def _remind(run: Run, node: NodeSpec, task: Task) -> None:
    tell(run, [task.assignee_id], "overdue")
    run.note("deadline", node=node.name, detail={"task": task.id, "then": "remind", "to": [task.assignee_id]})


def _reassign(run: Run, node: NodeSpec, task: Task) -> None:
    """Give the task to the deadline's approver; with nobody there to take it, remind instead."""
    deciding = {t.assignee_id for t in round_tasks(run, node.name, OPEN)}
    spec = node.deadline.to if node.deadline is not None else None
    found = approvers_for(run, node.name, [spec], assignee_id=task.assignee_id) if spec else []
    candidates = [user_id for user_id in found if user_id not in deciding]
    if not candidates:
        run.note("deadline", node=node.name, detail={"task": task.id, "then": "reassign", "to": []})
        _remind(run, node, task)
        return
    run.note("deadline", node=node.name, detail={"task": task.id, "then": "reassign", "to": candidates[:1]})
    transfer_task(
        run, task, candidates[0], f"reassigned: no decision within {_hours(node)}", action="transfer"
    )


def _approve(run: Run, node: NodeSpec, task: Task) -> None:
    run.note("deadline", node=node.name, detail={"task": task.id, "then": "approve"})
    decide(run, task, "approved", f"approved automatically: no decision within {_hours(node)}")


def _reject(run: Run, node: NodeSpec, task: Task) -> None:
    run.note("deadline", node=node.name, detail={"task": task.id, "then": "reject"})
    decide(run, task, "rejected", f"rejected automatically: no decision within {_hours(node)}")


STEPS: dict[str, Callable[[Run, NodeSpec, Task], None]] = {
    "remind": _remind,
    "reassign": _reassign,
    "approve": _approve,
    "reject": _reject,
}
