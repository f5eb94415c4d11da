"""The approvals inbox: a user's pending tasks, newest first, with what each is about."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect

from engine.loom import Loom
from tests.engine.flow_world import build_world, contract_approval


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


def test_each_tab_pages_through_pending_done_and_submitted_with_the_flows_summary_fields(crm: Loom) -> None:
    world = build_world(crm, contract_approval("package"))
    manager, rep = world.ids["zhang.jingli"], world.ids["wang.fang"]
    contracts = [world.contract(10_000 * (n + 1), name=f"合同{n + 1}") for n in range(5)]
    instances = [world.submit(contract) for contract in contracts]

    first = crm.flows.inbox(manager, "pending", limit=2)
    assert [item["title"] for item in first.items] == ["合同5", "合同4"]
    assert first.items[0]["summary"] == {
        "customer": world.customer_id,
        "amount": "50000.00",
        "type": "sales",
        "signed_at": None,
    }
    assert first.items[0]["submitter_name"] == "王芳" and first.items[0]["node_label"] == "销售经理审批"
    second = crm.flows.inbox(manager, "pending", limit=2, before=first.next_before)
    last = crm.flows.inbox(manager, "pending", limit=2, before=second.next_before)
    assert [item["title"] for item in second.items + last.items] == ["合同3", "合同2", "合同1"]
    assert last.next_before is None
    assert crm.flows.pending_count(manager) == 5

    world.approve(instances[0], "zhang.jingli", comment="同意")
    world.reject(instances[1], "zhang.jingli", comment="金额有误")
    crm.flows.transfer(
        world.task_of(instances[2], "zhang.jingli").id, world.ids["li.na"], actor=world.actor("zhang.jingli")
    )
    done = crm.flows.inbox(manager, "done")
    assert [(item["title"], item["task_status"], item["status"]) for item in done.items] == [
        ("合同3", "transferred", "running"),
        ("合同2", "rejected", "rejected"),
        ("合同1", "approved", "approved"),
    ]
    assert done.items[1]["comment"] == "金额有误"
    assert crm.flows.pending_count(manager) == 2
    assert crm.flows.inbox(world.ids["li.na"], "pending").items[0]["title"] == "合同3"

    mine = crm.flows.inbox(rep, "submitted", limit=4)
    assert [(item["title"], item["status"]) for item in mine.items] == [
        ("合同5", "running"),
        ("合同4", "running"),
        ("合同3", "running"),
        ("合同2", "rejected"),
    ]
    assert mine.items[0]["steps"] == ["销售经理审批"] and mine.items[0]["waiting_on"] == ["张经理"]
    assert mine.items[2]["waiting_on"] == ["李娜"]  # transferred: it now waits for her
    rest = crm.flows.inbox(rep, "submitted", limit=4, before=mine.next_before)
    assert [item["title"] for item in rest.items] == ["合同1"] and rest.next_before is None
    assert crm.flows.inbox(manager, "submitted").items == []
    with pytest.raises(ValueError, match="an inbox tab is one of"):
        crm.flows.inbox(manager, "cc")
