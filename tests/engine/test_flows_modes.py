"""Approval modes: any (或签), all (会签), sequential (依次审批) and vote (票签)."""

from __future__ import annotations

import pytest

from engine.flows import FlowError
from engine.loom import Loom
from tests.engine.flow_world import World, build_world, simple_flow

THREE = [{"user": "wu.yi"}, {"user": "zheng.er"}, {"user": "feng.san"}]


def world_with(crm: Loom, **approval: object) -> tuple[World, int, int]:
    world = build_world(crm, simple_flow(approvers=THREE, **approval))
    contract = world.contract(10_000)
    return world, contract, world.submit(contract, flow_name="review_flow").id


def statuses(world: World, instance: int) -> dict[str, str]:
    names = {user_id: name for name, user_id in world.ids.items()}
    return {names[t.assignee_id]: t.status for t in world.loom.flows.tasks(instance)}


def test_any_the_first_approval_completes_the_node(crm: Loom) -> None:
    world, contract, instance = world_with(crm, mode="any")
    assert len(world.pending(instance)) == 3
    assert world.approve(instance, "zheng.er").status == "approved"
    assert statuses(world, instance) == {"wu.yi": "skipped", "zheng.er": "approved", "feng.san": "skipped"}
    assert world.status(contract) == "approved"


def test_any_a_rejection_rejects(crm: Loom) -> None:
    world, contract, instance = world_with(crm, mode="any")
    assert world.reject(instance, "feng.san", "不同意").status == "rejected"
    assert world.status(contract) == "rejected"
    assert statuses(world, instance)["wu.yi"] == "cancelled"


def test_all_every_approver_must_approve(crm: Loom) -> None:
    world, contract, instance = world_with(crm, mode="all")
    assert world.approve(instance, "wu.yi").status == "running"
    assert world.approve(instance, "feng.san").status == "running"
    assert world.approve(instance, "zheng.er").status == "approved"
    assert world.status(contract) == "approved"


def test_all_one_rejection_rejects_the_node(crm: Loom) -> None:
    world, _contract, instance = world_with(crm, mode="all")
    world.approve(instance, "wu.yi")
    assert world.reject(instance, "zheng.er", "预算不足").status == "rejected"
    assert statuses(world, instance) == {"wu.yi": "approved", "zheng.er": "rejected", "feng.san": "cancelled"}


def test_sequential_one_approver_at_a_time_in_order(crm: Loom) -> None:
    world, _contract, instance = world_with(crm, mode="sequential")
    assert statuses(world, instance) == {"wu.yi": "pending", "zheng.er": "waiting", "feng.san": "waiting"}
    with pytest.raises(FlowError, match="not its approver's turn yet"):
        task = next(t for t in world.loom.flows.tasks(instance) if t.assignee_id == world.ids["zheng.er"])
        world.loom.flows.approve(task.id, actor=world.actor("zheng.er"))
    world.approve(instance, "wu.yi")
    assert statuses(world, instance) == {"wu.yi": "approved", "zheng.er": "pending", "feng.san": "waiting"}
    world.approve(instance, "zheng.er")
    assert world.approve(instance, "feng.san").status == "approved"
    assert [t.position for t in world.loom.flows.tasks(instance)] == [0, 1, 2]


def test_sequential_a_rejection_stops_the_line(crm: Loom) -> None:
    world, _contract, instance = world_with(crm, mode="sequential")
    world.approve(instance, "wu.yi")
    assert world.reject(instance, "zheng.er", "不行").status == "rejected"
    assert statuses(world, instance)["feng.san"] == "cancelled"


def test_vote_is_approved_once_the_share_is_reached(crm: Loom) -> None:
    world, _contract, instance = world_with(crm, mode="vote", share=0.6)
    world.approve(instance, "wu.yi")  # 1 of 3 < 60 %
    assert world.reject(instance, "zheng.er", "反对").status == "running"  # 2 of 3 is still possible
    assert world.approve(instance, "feng.san").status == "approved"  # 2 of 3 ≥ 60 %
    assert world.loom.flows.get(instance).state["votes"]["review"] == {
        "approved": 2,
        "rejected": 1,
        "total": 3,
    }


def test_vote_is_rejected_as_soon_as_the_share_cannot_be_reached(crm: Loom) -> None:
    world, contract, instance = world_with(crm, mode="vote", share=0.6)
    assert world.reject(instance, "wu.yi", "反对").status == "running"  # 2 of 3 still possible
    assert world.reject(instance, "feng.san", "反对").status == "rejected"  # at most 1 of 3 now
    assert statuses(world, instance)["zheng.er"] == "cancelled"
    assert world.status(contract) == "rejected"


def test_vote_a_share_of_one_needs_everyone(crm: Loom) -> None:
    world, _contract, instance = world_with(crm, mode="vote", share=1)
    world.approve(instance, "wu.yi")
    world.approve(instance, "zheng.er")
    assert world.reject(instance, "feng.san", "反对").status == "rejected"


def test_a_role_resolves_to_its_active_holders_in_username_order(crm: Loom) -> None:
    world = build_world(crm, simple_flow(approvers=[{"role": "legal"}], mode="all"))
    instance = world.submit(world.contract(1), flow_name="review_flow")
    assert [t.assignee_id for t in world.pending(instance)] == [
        world.ids["qian.fawu"],
        world.ids["zhao.fawu"],
    ]


def test_an_approver_named_twice_gets_one_task(crm: Loom) -> None:
    approvers = [
        {"user": "wu.yi"},
        {"department_head": "销售部"},
        {"user": "wu.yi"},
        {"manager_of": "submitter"},
    ]
    world = build_world(crm, simple_flow(approvers=approvers, mode="all"))
    instance = world.submit(world.contract(1), flow_name="review_flow")
    assert [t.assignee_id for t in world.pending(instance)] == [world.ids["wu.yi"], world.ids["zhang.jingli"]]
