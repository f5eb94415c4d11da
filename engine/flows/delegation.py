"""Handing a task on: transfer (转交) to someone else, and adding an approver (加签) before or after."""

from __future__ import annotations

from engine.base.messages import Message
from engine.flows.errors import FlowError
from engine.flows.instances import OPEN, Task
from engine.flows.runs import Run
from engine.flows.tasks import add_task, claim, hold, round_tasks, shift_positions, waits
from engine.identity import get_user
from engine.identity.errors import UserNotFound

POSITIONS = ("before", "after")


def _require_new_approver(run: Run, task: Task, user_id: int) -> None:
    try:
        user = get_user(run.loom, user_id, conn=run.conn)
    except UserNotFound:
        raise FlowError(Message("no_such_user", id=user_id)) from None
    if not user["active"]:
        raise FlowError(Message("approver_disabled", user=repr(user["username"])))
    if any(other.assignee_id == user_id for other in round_tasks(run, task.node, OPEN)):
        raise FlowError(Message("already_approver", user=user["display_name"]))


def transfer_task(
    run: Run, task: Task, to_user_id: int, comment: str | None, *, action: str = "transfer"
) -> int:
    """Give the task to another approver; it keeps its place (and whoever follows it still does)."""
    _require_new_approver(run, task, to_user_id)
    claim(run, task, "transferred", comment)
    node = run.node(task.node)
    new_id = add_task(
        run, node, to_user_id, status="pending", position=task.position, added_by=run.actor.user_id
    )
    following = waits(run)
    for waiting, after in list(following.items()):
        if after == task.id:
            following[waiting] = new_id
    run.note(
        action,
        node=node.name,
        comment=comment,
        detail={"task": task.id, "from": task.assignee_id, "to": to_user_id, "new_task": new_id},
    )
    return new_id


def add_approver(run: Run, task: Task, user_id: int, position: str, comment: str | None) -> int:
    """加签: `before` — the new approver decides first, then this task is pending again; `after` — the
    new approver decides once this task is approved, before the node can complete."""
    if position not in POSITIONS:
        raise FlowError(f"position must be 'before' or 'after' (got {position!r})")
    _require_new_approver(run, task, user_id)
    node = run.node(task.node)
    following = waits(run)
    added_by = run.actor.user_id
    if position == "before":
        shift_positions(run, node.name, task.position)
        hold(run, task)
        new_id = add_task(run, node, user_id, status="pending", position=task.position, added_by=added_by)
        following[str(task.id)] = new_id
    else:
        shift_positions(run, node.name, task.position + 1)
        new_id = add_task(run, node, user_id, status="waiting", position=task.position + 1, added_by=added_by)
        for waiting, after in list(following.items()):
            if after == task.id:
                following[waiting] = new_id
        following[str(new_id)] = task.id
    if run.state.get("votes", {}).get(node.name) is not None:
        run.state["votes"][node.name]["total"] += 1
    run.note(
        "add_approver",
        node=node.name,
        comment=comment,
        detail={"task": task.id, "user": user_id, "position": position, "new_task": new_id},
    )
    return new_id
