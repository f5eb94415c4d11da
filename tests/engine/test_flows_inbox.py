"""The approvals inbox: a user's pending tasks, newest first, with what each is about."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from engine.loom import Loom
from tests.engine.flow_world import build_world


def test_the_inbox_lists_pending_tasks_newest_first_with_their_context(crm: Loom) -> None:
    world = build_world(crm)
    first = world.contract(50_000, name="第一份合同")
    second = world.contract(2_000_000, name="第二份合同")
    world.submit(first)
    crm.clock.set(crm.clock.now() + timedelta(hours=1))
    big = world.submit(second, by="wang.fang")
    inbox = crm.flows.pending_for(world.ids["zhang.jingli"])
    assert [item["title"] for item in inbox] == ["第二份合同", "第一份合同"]
    item = inbox[0]
    assert item["flow"] == "contract_approval" and item["node"] == "manager"
    assert item["flow_label"] == "合同审批"
    assert item["object"] == "contract" and item["record_id"] == second
    assert item["instance_id"] == big.id and item["submitter_name"] == "王芳"
    assert item["created_at"] == crm.clock.now()
    assert (
        crm.flows.pending_for(world.ids["zhang.jingli"], locale="en")[0]["flow_label"] == "Contract approval"
    )

    world.approve(big, "zhang.jingli")
    assert [item["title"] for item in crm.flows.pending_for(world.ids["zhang.jingli"])] == ["第一份合同"]
    assert [item["node"] for item in crm.flows.pending_for(world.ids["zhao.fawu"])] == ["legal"]
    assert crm.flows.pending_for(world.ids["chen.zong"]) == []
    assert len(crm.flows.pending_for(world.ids["zhang.jingli"], limit=0)) == 0


def test_the_inbox_is_served_by_an_index_on_assignee_and_status(crm: Loom) -> None:
    with crm.read() as conn:
        indexes = inspect(conn).get_indexes("loom_flow_tasks")
    assert any(index["column_names"][:2] == ["assignee_id", "status"] for index in indexes)
