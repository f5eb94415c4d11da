"""Node deadlines: when an approver's time runs out the worker reminds, reassigns, approves or rejects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.loom import Loom
from engine.store.system_tables import due_work
from engine.work.due_work import run_due
from engine.work.notifications import unread_for
from tests.engine.flow_world import World, build_world, simple_flow


def later(loom: Loom, hours: float) -> int:
    """Move the clock on and run the worker once; returns how many flow deadlines it ran."""
    before = deadline_rows(loom).count(("flow.deadline", "done"))
    loom.clock.set(loom.clock.now() + timedelta(hours=hours))
    run_due(loom, loom.due_handlers)
    return deadline_rows(loom).count(("flow.deadline", "done")) - before


def titles(world: World, username: str) -> list[str]:
    with world.loom.read() as conn:
        return [n["title"] for n in unread_for(conn, world.ids[username])]


def deadline_rows(loom: Loom) -> list[tuple[str, str]]:
    with loom.read() as conn:
        return [(row.kind, row.status) for row in conn.execute(select(due_work).order_by(due_work.c.id))]


def review(crm: Loom, then: str, **deadline: object) -> tuple[World, int, int]:
    flow = simple_flow(approvers=[{"user": "wu.yi"}], deadline={"hours": 24, "then": then, **deadline})
    world = build_world(crm, flow)
    contract = world.contract(10_000)
    return world, contract, world.submit(contract, flow_name="review_flow").id


def test_the_ceo_is_reminded_after_48_hours(crm: Loom) -> None:
    world = build_world(crm)
    instance = world.submit(world.contract(2_000_000))
    for approver in ("zhang.jingli", "zhao.fawu", "sun.caiwu"):
        world.approve(instance, approver)
    assert later(crm, 47) == 0
    assert later(crm, 2) == 1
    assert any(title.startswith("审批已超时") for title in titles(world, "chen.zong"))
    deadline = [row for row in world.loom.flows.history(instance.id) if row["action"] == "deadline"]
    assert deadline[0]["node"] == "ceo" and deadline[0]["detail"]["then"] == "remind"
    assert deadline[0]["actor_name"] == "flow:contract_approval"
    assert world.pending(instance)[0].node == "ceo"  # still the CEO's to decide
    assert later(crm, 48) == 0  # one reminder, not one per worker pass


def test_reassign_hands_the_task_to_the_deadlines_approver(crm: Loom) -> None:
    world, _contract, instance = review(crm, "reassign", to={"user": "feng.san"})
    later(crm, 25)
    [task] = world.pending(instance)
    assert task.assignee_id == world.ids["feng.san"]
    assert task.due_at == crm.clock.now() + timedelta(hours=24)  # a fresh deadline
    transfer = next(r for r in world.loom.flows.history(instance) if r["action"] == "transfer")
    assert transfer["comment"] == "reassigned: no decision within 24 hours"
    assert world.approve(instance, "feng.san").status == "approved"


def test_reassign_to_the_submitters_manager(crm: Loom) -> None:
    world, _contract, instance = review(crm, "reassign", to={"manager_of": "submitter"})
    later(crm, 25)
    assert [t.assignee_id for t in world.pending(instance)] == [world.ids["zhang.jingli"]]


def test_auto_approve_decides_as_the_system(crm: Loom) -> None:
    world, contract, instance = review(crm, "approve")
    later(crm, 24)
    assert world.loom.flows.get(instance).status == "approved"
    assert world.status(contract) == "approved"
    decision = next(r for r in world.loom.flows.history(instance) if r["action"] == "approve")
    assert decision["actor_name"] == "flow:review_flow" and decision["actor_id"] is None
    assert decision["comment"] == "approved automatically: no decision within 24 hours"


def test_auto_reject_ends_the_flow_rejected(crm: Loom) -> None:
    world, contract, instance = review(crm, "reject")
    later(crm, 30)
    assert world.loom.flows.get(instance).status == "rejected"
    assert world.status(contract) == "rejected"


def test_a_task_decided_in_time_cancels_its_deadline(crm: Loom) -> None:
    world, _contract, instance = review(crm, "reject")
    assert ("flow.deadline", "pending") in deadline_rows(crm)
    world.approve(instance, "wu.yi")
    assert ("flow.deadline", "pending") not in deadline_rows(crm)
    assert later(crm, 30) == 0
    assert world.loom.flows.get(instance).status == "approved"


def test_a_sequential_approvers_time_starts_when_it_is_their_turn(crm: Loom) -> None:
    flow = simple_flow(
        approvers=[{"user": "wu.yi"}, {"user": "zheng.er"}],
        mode="sequential",
        deadline={"hours": 10, "then": "approve"},
    )
    world = build_world(crm, flow)
    instance = world.submit(world.contract(1), flow_name="review_flow")
    crm.clock.set(crm.clock.now() + timedelta(hours=8))
    world.approve(instance, "wu.yi")
    assert later(crm, 5) == 0  # 13 hours after submitting, 5 after zheng.er's turn began
    assert world.loom.flows.get(instance.id).status == "running"
    later(crm, 6)
    assert world.loom.flows.get(instance.id).status == "approved"
