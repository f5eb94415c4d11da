"""Moving through a flow's graph: entering nodes, choosing branches, splitting and joining, ending.

Each node kind is a function in NODE_KINDS. A node on a parallel branch carries the stack of
branches it runs on; a node without `next` ends its branch, and the branch's parallel node goes
on once its join is satisfied (every branch, or the first, per `join`). Joins are kept in the
instance's state, so a decision days later finds them as they were left.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise

from engine.base.errors import ExpressionError
from engine.expressions import EvalContext, evaluate
from engine.flows.approvers import administrators, approvers_for
from engine.flows.errors import FlowError
from engine.flows.messages import tell
from engine.flows.node_actions import run_actions
from engine.flows.record_status import keep_status
from engine.flows.runs import Run, Stack
from engine.flows.tasks import add_task, close_tasks, waits
from metadata.flows import NodeSpec

#: Nodes one operation may pass through; more means the flow goes round without stopping.
MAX_STEPS = 500


def enter(run: Run, name: str, stack: Stack) -> None:
    """Reach a node: record the branches it runs on and do what its kind does."""
    if run.finished:
        return
    run.steps += 1
    if run.steps > MAX_STEPS:
        raise FlowError(
            f"flow {run.flow.name!r} passed {MAX_STEPS} nodes without stopping at an approval; "
            "it goes round in a loop — change a condition so it ends"
        )
    node = run.node(name)
    run.state.setdefault("entered", {})[name] = [dict(frame) for frame in stack]
    NODE_KINDS[node.type](run, node, stack)


def proceed(run: Run, node: NodeSpec, stack: Stack) -> None:
    """The node is done: go to its next node, or end its branch."""
    if run.finished:
        return
    if node.next is not None:
        enter(run, node.next, stack)
    else:
        _branch_done(run, node, stack)


def _branch_done(run: Run, node: NodeSpec, stack: Stack) -> None:
    if not stack:
        raise FlowError(
            f"node {node.name!r} of flow {run.flow.name!r} leads nowhere: it has no next node "
            "and is not on a parallel branch"
        )
    frame = stack[-1]
    joins = run.state.setdefault("joins", {})
    join = joins.get(frame["split"])
    if join is None:
        return  # the join was satisfied already (join "any"): this branch came too late
    if frame["branch"] not in join["done"]:
        join["done"].append(frame["branch"])
    split = run.node(frame["split"])
    if split.join == "any" or len(join["done"]) >= join["total"]:
        del joins[split.name]
        _cancel_branches(run, split.name)
        run.note(
            "join",
            actor=run.system,
            node=split.name,
            detail={"branches": sorted(join["done"]), "join": split.join},
        )
        proceed(run, split, stack[:-1])


def _cancel_branches(run: Run, split: str) -> None:
    """Stop what still runs on the parallel's branches (after a join "any" was satisfied)."""
    entered = run.state.get("entered", {})

    def inside(name: str) -> bool:
        return any(frame["split"] == split for frame in entered.get(name, []))

    for name in [n for n in run.instance.active_nodes if inside(n)]:
        close_tasks(run, "cancelled", node=name)
        run.instance.active_nodes.remove(name)
    joins = run.state.get("joins", {})
    for name in [n for n in joins if inside(n)]:
        del joins[name]


# -- node kinds ---------------------------------------------------------------------------------------


def _approval(run: Run, node: NodeSpec, stack: Stack) -> None:
    """Give the node's approvers their tasks: all at once, or one after another (sequential)."""
    approvers = approvers_for(run, node.name, node.approvers)
    fallback = None
    if not approvers:
        policy = run.flow.on_empty_approvers
        if policy == "skip":
            run.note("skip", actor=run.system, node=node.name, detail={"reason": "no approvers"})
            proceed(run, node, stack)
            return
        if policy == "admin":
            approvers, fallback = administrators(run), "admin"
        if not approvers:
            who = ", ".join(json.dumps(spec.to_json(), ensure_ascii=False) for spec in node.approvers)
            nor = " and there is no administrator to give it to" if policy == "admin" else ""
            raise FlowError(
                f"nobody can approve step {node.name!r} of {run.flow.name!r} for "
                f"{run.instance.object} {run.instance.record_id}: its approvers ({who or 'none'}) "
                f"resolve to no active user{nor}; nothing was changed"
            )
    sequential = node.mode == "sequential"
    ids: list[int] = []
    for position, user_id in enumerate(approvers):
        status = "waiting" if sequential and position > 0 else "pending"
        ids.append(add_task(run, node, user_id, status=status, position=position))
    run.state.setdefault("rounds", {})[node.name] = ids[0]
    if sequential:
        for before, after in pairwise(ids):
            waits(run)[str(after)] = before
    if node.mode == "vote":
        run.state.setdefault("votes", {})[node.name] = {"approved": 0, "rejected": 0, "total": len(ids)}
    if node.name not in run.instance.active_nodes:
        run.instance.active_nodes.append(node.name)
    detail = {"approvers": approvers, "mode": node.mode, "tasks": ids}
    if fallback:
        detail["fallback"] = fallback
    run.note("assign", actor=run.system, node=node.name, detail=detail)


def leave(run: Run, node: NodeSpec) -> None:
    """An approval node is approved: skip the tasks it no longer needs and go on."""
    close_tasks(run, "skipped", node=node.name)
    if node.name in run.instance.active_nodes:
        run.instance.active_nodes.remove(node.name)
    proceed(run, node, run.stack_of(node.name))


def _condition(run: Run, node: NodeSpec, stack: Stack) -> None:
    """Go down the first branch whose `when` holds on the record as it is now, else the default."""
    record = run.record()
    ectx = EvalContext(
        now=run.now, actor=run.actor, functions=run.loom.functions, timezone=run.loom.clock.timezone
    )
    chosen, when = node.default, None
    for branch in node.branches:
        try:
            holds = bool(evaluate(branch.when, record, ectx))
        except ExpressionError as error:
            raise FlowError(
                f"flow {run.flow.name!r}, node {node.name!r}: the condition {branch.when!r} "
                f"could not be evaluated: {error.message}"
            ) from None
        if holds:
            chosen, when = branch.next, branch.when
            break
    if chosen is None:
        raise FlowError(
            f"flow {run.flow.name!r}, node {node.name!r}: no branch applies to "
            f"{run.instance.object} {run.instance.record_id} and there is no default"
        )
    run.note("branch", actor=run.system, node=node.name, detail={"when": when, "next": chosen})
    enter(run, chosen, stack)


def _parallel(run: Run, node: NodeSpec, stack: Stack) -> None:
    """Start every branch; the join in the state says when the parallel node goes on."""
    joins = run.state.setdefault("joins", {})
    joins[node.name] = {"total": len(node.branches), "done": []}
    run.note(
        "split", actor=run.system, node=node.name, detail={"branches": list(node.branches), "join": node.join}
    )
    if not node.branches:
        del joins[node.name]
        proceed(run, node, stack)
        return
    for index, entry in enumerate(node.branches):
        if run.finished or node.name not in run.state.get("joins", {}):
            break  # a branch ended the flow, or satisfied a join "any" at once
        enter(run, entry, [*stack, {"split": node.name, "branch": index}])


def _cc(run: Run, node: NodeSpec, stack: Stack) -> None:
    """Tell people (抄送), with nothing for them to decide, and go on."""
    people = approvers_for(run, node.name, node.to)
    notified = tell(run, people, "cc")
    run.note("cc", actor=run.system, node=node.name, detail={"to": people, "notifications": len(notified)})
    proceed(run, node, stack)


def _action(run: Run, node: NodeSpec, stack: Stack) -> None:
    outcomes = run_actions(run, node.actions, f"node {node.name!r}")
    run.note("action", node=node.name, actor=run.system, detail={"actions": outcomes})
    proceed(run, node, stack)


def _end(run: Run, node: NodeSpec, stack: Stack) -> None:
    outcomes = run_actions(run, node.actions, f"node {node.name!r}")
    finish(run, node.outcome, node=node.name, detail={"actions": outcomes} if outcomes else None)


NODE_KINDS: dict[str, Callable[[Run, NodeSpec, Stack], None]] = {
    "approval": _approval,
    "condition": _condition,
    "parallel": _parallel,
    "cc": _cc,
    "action": _action,
    "end": _end,
}


# -- ending and going back ----------------------------------------------------------------------------


def finish(
    run: Run,
    outcome: str,
    *,
    node: str | None = None,
    comment: str | None = None,
    detail: dict | None = None,
) -> None:
    """End the instance approved or rejected: stop open tasks, run on_reject's actions when rejected,
    then fire the object's on_approved / on_rejected rules in this same transaction."""
    close_tasks(run, "cancelled")
    instance = run.instance
    instance.status, instance.ended_at = outcome, run.now
    instance.active_nodes = []
    run.state.pop("joins", None)
    run.state.pop("waits", None)
    detail = dict(detail or {})
    if outcome == "rejected" and run.flow.reject_actions:
        detail["on_reject"] = run_actions(run, run.flow.reject_actions, "on_reject")
    keep_status(run, outcome)
    run.save()  # rules fired next see the approval ended (a rule may even start another one)
    run.note(
        outcome, actor=run.system, node=node, comment=comment, detail=detail or None, snapshot=run.record()
    )
    trigger = "on_approved" if outcome == "approved" else "on_rejected"
    run.loom.flows.listener.fire_flow_event(run.conn, instance.object, instance.record_id, trigger, run.actor)
    if instance.submitter_id is not None:
        tell(run, [instance.submitter_id], outcome, comment)


def return_to(run: Run, target: str, from_node: str, comment: str | None) -> None:
    """退回: stop everything open and run `target` again, on the branches it ran on before.

    Branches of an enclosing parallel that were already done stay done, so when the returned
    branch finishes the join goes on as it would have.
    """
    close_tasks(run, "cancelled")
    run.instance.active_nodes = []
    run.state["waits"] = {}
    joins: dict = {}
    stack = run.stack_of(target)
    for frame in stack:
        total = len(run.node(frame["split"]).branches)
        joins[frame["split"]] = {"total": total, "done": [i for i in range(total) if i != frame["branch"]]}
    run.state["joins"] = joins
    run.note("return", actor=run.system, node=from_node, comment=comment, detail={"to": target})
    enter(run, target, stack)
