"""Approving and rejecting a task, and what it means for the node under each mode.

any (或签): the first approval completes the node. all (会签): every approver must approve.
sequential (依次审批): one approver after another, in order. vote (票签): the node is approved
once approvals reach `share` of the votes, and rejected as soon as that can no longer happen.
Outside vote, any rejection rejects the node — and the flow, unless it returns to a node.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.flows.errors import FlowError
from engine.flows.instances import OPEN, Task
from engine.flows.routing import finish, leave, return_to
from engine.flows.runs import Run
from engine.flows.tasks import activate_after, claim, round_tasks
from metadata.flows import NodeSpec

DEFAULT_SHARE = 0.5  # a vote node without a share needs half of the votes

Outcome = str | None  # "approved", "rejected", or None while the node still waits for others


def decide(run: Run, task: Task, verdict: str, comment: str | None, to_node: str | None = None) -> None:
    """Record one approver's decision and move the flow on when it settles the node."""
    node = run.node(task.node)
    if verdict == "rejected" and to_node is not None:
        check_return_target(run, to_node)
    claim(run, task, verdict, comment)
    run.note(
        "approve" if verdict == "approved" else "reject",
        node=node.name,
        comment=comment,
        detail={"task": task.id, **({"to": to_node} if to_node else {})},
        snapshot=run.record(),
    )
    outcome = MODES.get(node.mode, _all)(run, node, task, verdict)
    if outcome == "approved":
        leave(run, node)
    elif outcome == "rejected":
        if node.name in run.instance.active_nodes:
            run.instance.active_nodes.remove(node.name)
        if to_node is not None:
            return_to(run, to_node, node.name, comment)
        else:
            finish(run, "rejected", node=node.name, comment=comment)


def check_return_target(run: Run, to_node: str) -> None:
    """A rejection may send the flow back to an approval node it has already reached."""
    node = run.flow.nodes.get(to_node)
    if node is None:
        raise FlowError(f"flow {run.flow.name!r} has no node named {to_node!r} to return to")
    if node.type != "approval":
        raise FlowError(f"a rejection can return to an approval node; {to_node!r} is a {node.type} node")
    if to_node not in run.state.get("entered", {}):
        reached = [name for name in run.state.get("entered", {}) if run.flow.nodes[name].type == "approval"]
        raise FlowError(
            f"this approval has not reached {to_node!r} yet, so it cannot return there; "
            f"it can return to: {', '.join(reached) or 'the submitter only'}"
        )


def _any(run: Run, node: NodeSpec, task: Task, verdict: str) -> Outcome:
    if verdict == "rejected":
        return "rejected"
    # An approver with someone added after them has not settled the node yet.
    return None if activate_after(run, node, task.id) else "approved"


def _all(run: Run, node: NodeSpec, task: Task, verdict: str) -> Outcome:
    if verdict == "rejected":
        return "rejected"
    activate_after(run, node, task.id)
    return None if round_tasks(run, node.name, OPEN) else "approved"


def _vote(run: Run, node: NodeSpec, task: Task, verdict: str) -> Outcome:
    tasks = round_tasks(run, node.name)
    approved = sum(1 for t in tasks if t.status == "approved")
    rejected = sum(1 for t in tasks if t.status == "rejected")
    still_open = sum(1 for t in tasks if t.open)
    total = approved + rejected + still_open
    share = node.share if node.share is not None else DEFAULT_SHARE
    run.state.setdefault("votes", {})[node.name] = {
        "approved": approved,
        "rejected": rejected,
        "total": total,
    }
    if total and approved / total >= share:
        return "approved"
    if not total or (approved + still_open) / total < share:
        return "rejected"
    activate_after(run, node, task.id)
    return None


MODES: dict[str, Callable[[Run, NodeSpec, Task, str], Outcome]] = {
    "any": _any,
    "all": _all,
    "sequential": _all,
    "vote": _vote,
}
