"""The seeds' contract approval, end to end: routed by amount through the manager, legal and finance
side by side, and the CEO; the contract locked while it runs and once approved; a rejection returns
it to the submitter, editable, with the reason in the history."""

from __future__ import annotations

import pytest

from engine.base.actors import SYSTEM
from engine.flows import RecordLocked
from engine.loom import Loom
from engine.work.notifications import unread_for
from tests.engine.flow_world import PACKAGE_FLOW, World, build_world, contract_approval

SOURCES = [
    "dict",
    pytest.param("package", marks=pytest.mark.skipif(not PACKAGE_FLOW.exists(), reason="no file")),
]


@pytest.fixture(params=SOURCES)
def world(crm: Loom, request: pytest.FixtureRequest) -> World:
    return build_world(crm, contract_approval(request.param))


def test_a_contract_below_100000_needs_the_manager_only(world: World) -> None:
    contract = world.contract(50_000)
    instance = world.submit(contract, comment="请审批")
    assert [(t.node, t.assignee_id) for t in world.pending(instance)] == [
        ("manager", world.ids["zhang.jingli"])
    ]

    done = world.approve(instance, "zhang.jingli", "同意")
    assert done.status == "approved" and done.active_nodes == []
    assert world.status(contract) == "approved"
    assert [a for a, _ in world.actions(instance)] == ["submit", "assign", "approve", "branch", "approved"]


def test_from_100000_legal_and_finance_approve_side_by_side_after_the_manager(world: World) -> None:
    contract = world.contract(500_000)
    instance = world.submit(contract)
    world.approve(instance, "zhang.jingli")
    assert sorted(t.node for t in world.pending(instance)) == ["finance", "legal", "legal"]  # two lawyers

    after_finance = world.approve(instance, "sun.caiwu")
    assert after_finance.status == "running" and after_finance.active_nodes == ["legal"]
    done = world.approve(instance, "qian.fawu")  # 或签: one lawyer is enough
    assert done.status == "approved"
    assert world.status(contract) == "approved"
    statuses = {(t.node, t.assignee_id): t.status for t in world.loom.flows.tasks(instance.id)}
    assert statuses[("legal", world.ids["zhao.fawu"])] == "skipped"
    assert ("ceo", world.ids["chen.zong"]) not in statuses


def test_from_1000000_the_ceo_approves_last(world: World) -> None:
    contract = world.contract(2_000_000)
    instance = world.submit(contract)
    world.approve(instance, "zhang.jingli")
    world.approve(instance, "zhao.fawu")
    assert world.pending(instance, "ceo") == []  # finance has not approved yet: the join waits
    world.approve(instance, "sun.caiwu")
    [ceo_task] = world.pending(instance)
    assert ceo_task.node == "ceo" and ceo_task.assignee_id == world.ids["chen.zong"]
    assert ceo_task.due_at is not None  # 48 hours to decide

    world.approve(instance, "chen.zong", "同意签约")
    assert world.loom.flows.get(instance.id).status == "approved"
    assert world.status(contract) == "approved"
    nodes = [node for action, node in world.actions(instance) if action == "approve"]
    assert nodes[0] == "manager" and nodes[-1] == "ceo" and sorted(nodes[1:3]) == ["finance", "legal"]


def test_the_contract_is_locked_while_it_runs_and_stays_read_only_once_approved(world: World) -> None:
    contract = world.contract(50_000)
    rep = world.actor("wang.fang")
    instance = world.submit(contract)
    with pytest.raises(RecordLocked, match=rf"contract {contract} is locked while its approval runs"):
        world.loom.records(rep).update("contract", contract, {"amount": "1"})
    with pytest.raises(RecordLocked):  # the manager may change the team's contracts — not this one now
        world.loom.records(world.actor("zhang.jingli")).update("contract", contract, {"remark": "改"})

    world.approve(instance, "zhang.jingli")
    with pytest.raises(RecordLocked, match="locked because its approval was granted"):
        world.loom.records(rep).update("contract", contract, {"remark": "补充说明"})

    # Administrators (and the system) still may, and the audit log shows who did.
    world.loom.records(world.actor("zhou.admin")).update("contract", contract, {"remark": "归档"})
    last = world.loom.records().history("contract", contract)[-1]
    assert last["actor_name"] == "周管理员" and last["changes"]["remark"] == [None, "归档"]


def test_a_rejection_returns_the_contract_to_the_submitter_editable_with_the_reason(world: World) -> None:
    contract = world.contract(500_000)
    instance = world.submit(contract)
    world.approve(instance, "zhang.jingli")
    ended = world.reject(instance, "zhao.fawu", "违约条款需要修改")
    assert ended.status == "rejected" and ended.active_nodes == []
    assert world.status(contract) == "rejected"
    assert all(not task.open for task in world.loom.flows.tasks(instance.id))  # finance's task cancelled

    history = world.loom.flows.history(instance.id)
    rejection = next(row for row in history if row["action"] == "reject")
    assert rejection["comment"] == "违约条款需要修改" and rejection["actor_name"] == "赵法务"
    assert rejection["snapshot"]["amount"] == "500000.00"
    assert history[-1]["action"] == "rejected" and history[-1]["comment"] == "违约条款需要修改"

    # Editable again, and it can go round once more.
    rep = world.actor("wang.fang")
    world.loom.records(rep).update("contract", contract, {"amount": "90000"})
    again = world.submit(contract)
    assert again.id != instance.id and [t.node for t in world.pending(again)] == ["manager"]
    assert world.loom.flows.instance_of("contract", contract).id == again.id


def test_the_submitter_is_told_how_it_ended(world: World) -> None:
    contract = world.contract(50_000)
    instance = world.submit(contract)
    manager_inbox = [n["title"] for n in _unread(world, "zhang.jingli")]
    assert any("待审批" in title and "设备采购合同" in title for title in manager_inbox)
    world.reject(instance, "zhang.jingli", "价格太低")
    [told] = _unread(world, "wang.fang")
    assert "审批被驳回" in told["title"] and told["body"] == "价格太低"


def test_the_instance_keeps_a_snapshot_of_the_record_as_submitted(world: World) -> None:
    contract = world.contract(123_456)
    instance = world.submit(contract)
    assert instance.snapshot["amount"] == "123456.00" and instance.snapshot["name"] == "设备采购合同"
    assert instance.definition["name"] == "contract_approval" and instance.flow_revision is not None
    assert instance.submitter_id == world.ids["wang.fang"]


def _unread(world: World, username: str) -> list[dict]:
    with world.loom.read() as conn:
        return unread_for(conn, world.ids[username])


def test_the_system_may_submit_too(world: World) -> None:
    contract = world.contract(1_000)
    instance = world.loom.flows.submit("contract", contract, actor=SYSTEM)
    assert instance.submitter_id is None
    # The system has no manager: on_empty_approvers gives the step to the administrators.
    [task] = world.pending(instance)
    assert task.assignee_id == world.ids["zhou.admin"]


def test_the_package_flow_keeps_the_contracts_status_in_step_with_its_approval(crm: Loom) -> None:
    world = build_world(crm, contract_approval("package"))
    contract = world.contract(50_000)
    assert world.status(contract) == "draft"
    first = world.submit(contract)
    assert world.status(contract) == "pending"  # 审批中 from the moment it is submitted
    crm.flows.withdraw(first.id, actor=world.actor("wang.fang"))
    assert world.status(contract) == "draft"  # taken back: a draft again, editable
    world.reject(world.submit(contract), "zhang.jingli", "请补充付款条款")
    assert world.status(contract) == "rejected"
    again = world.submit(contract)
    assert world.status(contract) == "pending"
    world.approve(again, "zhang.jingli")
    assert world.status(contract) == "approved"
    changes = [
        entry
        for entry in crm.records().history("contract", contract)
        if entry["action"] == "update" and "status" in entry["changes"]
    ]
    assert [entry["changes"]["status"][1] for entry in changes] == [
        "pending", "draft", "pending", "rejected", "pending", "approved"
    ]  # fmt: skip
    assert {entry["actor_name"] for entry in changes} == {"flow:contract_approval"}
