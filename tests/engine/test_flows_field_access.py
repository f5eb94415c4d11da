"""What an approval node lets its approvers do with the record (审批人可见/可编辑字段), and a flow that
locks only some fields of the record while its approval runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.base.actors import SYSTEM
from engine.base.errors import RecordInvalid, RecordNotFound
from engine.flows import RecordLocked
from engine.flows.field_access import visible_summary
from engine.identity import add_role
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.flows import FlowSpec
from metadata.roles import RoleSpec
from tests.engine.flow_world import World, build_world, simple_flow

FIELDS = {"editable": ["amount", "payment_terms"], "hidden": ["cost_price", "remark"]}


def flow_with(approvers: list[dict[str, Any]], **flow_keys: Any) -> FlowSpec:
    doc = simple_flow(approvers=approvers).to_json()
    doc["nodes"]["review"]["fields"] = FIELDS
    return FlowSpec.from_json({**doc, **flow_keys})


def submitted(world: World, **values: Any) -> tuple[int, Any]:
    contract = world.contract(100_000)
    values = {"cost_price": "60000", "remark": "底价六万", **values}
    world.loom.records().update("contract", contract, values)
    return contract, world.submit(contract, flow_name="review_flow")


def test_the_approver_changes_the_editable_fields_of_the_locked_record_and_nothing_else(crm: Loom) -> None:
    # 吴一 holds no role at all: the task is all that gives him the contract.
    world = build_world(crm, flow_with([{"user": "wu.yi"}]))
    contract, instance = submitted(world)
    approver = crm.records(world.actor("wu.yi"))

    saved = approver.update("contract", contract, {"amount": "90000", "payment_terms": "installments"})
    assert saved["amount"] == Decimal("90000") and "cost_price" not in saved
    [change] = [row for row in crm.records().history("contract", contract) if row["actor_name"] == "吴一"]
    assert set(change["changes"]) == {"amount", "payment_terms"}

    with pytest.raises(RecordInvalid) as refused:
        approver.update("contract", contract, {"amount": "100", "name": "改名"})
    assert list(refused.value.fields) == ["name"]
    with pytest.raises(RecordInvalid) as invalid:
        approver.update("contract", contract, {"amount": "不是数字"})
    assert list(invalid.value.fields) == ["amount"]
    with pytest.raises(RecordInvalid):
        approver.update("contract", contract, {"cost_price": "1"})  # hidden from him, not editable
    with pytest.raises(RecordLocked):  # the submitter may not: the record is locked
        crm.records(world.actor("wang.fang")).update("contract", contract, {"amount": "1"})
    assert world.amount(contract) == Decimal("90000")

    world.approve(instance, "wu.yi")
    with pytest.raises(PermissionDenied):  # his task is decided: the record is no longer his to touch
        approver.update("contract", contract, {"amount": "80000"})
    with pytest.raises(PermissionDenied):
        approver.get("contract", contract)


def test_the_approver_reads_the_record_through_the_task_without_the_hidden_fields(crm: Loom) -> None:
    world = build_world(crm, flow_with([{"user": "wu.yi"}]))
    contract, instance = submitted(world)
    approver = crm.records(world.actor("wu.yi"))

    seen = approver.get("contract", contract)
    assert seen["amount"] == Decimal("100000") and seen["name"] == "设备采购合同"
    assert "cost_price" not in seen and "remark" not in seen
    assert approver.read_access("contract", contract).hidden >= {"cost_price", "remark"}
    # The record's history, as its timeline shows it, leaves the hidden fields' changes out too.
    assert all("cost_price" not in row["changes"] for row in approver.history("contract", contract))

    other = world.contract(5)  # a contract he has no task on stays out of his sight
    with pytest.raises(PermissionDenied):
        approver.get("contract", other)
    world.reject(instance, "wu.yi", "价格太低")
    with pytest.raises(PermissionDenied):
        approver.get("contract", contract)


def test_an_approver_whose_role_reads_the_record_sees_it_as_the_role_shows_it(crm: Loom) -> None:
    # Finance reads every contract, cost price included: the node hides nothing their role shows.
    # Legal reads every contract but its cost price: the approval does not show it either.
    world = build_world(crm, flow_with([{"role": "finance"}, {"role": "legal"}], mode="all"))
    contract, _instance = submitted(world)

    finance = crm.records(world.actor("sun.caiwu")).get("contract", contract)
    assert finance["cost_price"] == Decimal("60000") and finance["remark"] == "底价六万"
    legal = crm.records(world.actor("zhao.fawu")).get("contract", contract)
    assert "cost_price" not in legal and legal["remark"] == "底价六万"
    # Legal may edit the amount through the task though its role may change no contract at all.
    crm.records(world.actor("zhao.fawu")).update("contract", contract, {"amount": "95000"})
    assert world.amount(contract) == Decimal("95000")


def test_the_manager_approver_changes_only_the_editable_fields_of_the_locked_record(crm: Loom) -> None:
    # 张经理 may change his department's contracts by role; the lock still holds all but the node's fields.
    world = build_world(crm, flow_with([{"user": "zhang.jingli"}]))
    contract, instance = submitted(world)
    manager = crm.records(world.actor("zhang.jingli"))

    manager.update("contract", contract, {"payment_terms": "installments"})
    with pytest.raises(RecordLocked):
        manager.update("contract", contract, {"name": "新名称"})
    assert crm.records().get("contract", contract)["payment_terms"] == "installments"
    world.approve(instance, "zhang.jingli")
    with pytest.raises(RecordLocked):  # approved: locked for everyone but administrators
        manager.update("contract", contract, {"amount": "1"})


def test_an_edited_amount_routes_the_rest_of_the_approval(crm: Loom) -> None:
    doc = flow_with([{"user": "wu.yi"}]).to_json()
    doc["nodes"]["review"]["next"] = "big"
    doc["nodes"]["big"] = {"type": "condition", "branches": [{"when": "amount >= 100000", "next": "ceo"}],
                           "default": "done"}  # fmt: skip
    doc["nodes"]["ceo"] = {"type": "approval", "approvers": [{"user": "chen.zong"}], "next": "done"}
    world = build_world(crm, FlowSpec.from_json(doc))
    contract, instance = submitted(world)

    crm.records(world.actor("wu.yi")).update("contract", contract, {"amount": "99000"})
    assert world.approve(instance, "wu.yi").status == "approved"  # below 100,000 now: no CEO


def test_a_flow_locking_listed_fields_leaves_the_others_editable(crm: Loom) -> None:
    world = build_world(crm, flow_with([{"user": "wu.yi"}], lock_record={"fields": ["amount", "customer"]}))
    contract, instance = submitted(world)
    owner = crm.records(world.actor("wang.fang"))

    owner.update("contract", contract, {"remark": "补充说明"})
    with pytest.raises(RecordInvalid) as refused:
        owner.update("contract", contract, {"amount": "1", "customer": None, "remark": "再改"})
    assert sorted(refused.value.fields) == ["amount", "customer"]
    assert crm.records().get("contract", contract)["remark"] == "补充说明"
    assert crm.flows.locked_fields("contract", contract, world.actor("wang.fang")) == {"amount", "customer"}
    assert crm.flows.lock_on("contract", contract, world.actor("wang.fang")) is None  # the page may edit
    clerk = {
        "name": "clerk",
        "label": {"en": "Clerk"},
        "objects": {"contract": {"read": "all", "delete": "all"}},
    }
    apply_objects(crm, [], roles=[RoleSpec.from_json(clerk)])
    add_role(crm, world.ids["li.na"], "clerk", actor=SYSTEM)
    with pytest.raises(RecordLocked):  # deleting would take the locked fields with it
        crm.records(world.actor("li.na")).delete("contract", contract)
    # The approver's node makes the amount editable for him, lock or not.
    crm.records(world.actor("wu.yi")).update("contract", contract, {"amount": "88000"})
    assert crm.flows.locked_fields("contract", contract, world.actor("wu.yi")) == {"customer"}

    world.approve(instance, "wu.yi")
    with pytest.raises(RecordInvalid):  # approved: the listed fields stay as they were approved
        owner.update("contract", contract, {"amount": "1"})
    owner.update("contract", contract, {"remark": "已签"})
    crm.records(SYSTEM).update("contract", contract, {"amount": "1"})  # administrators and the system may


def test_a_rejected_record_with_locked_fields_is_editable_again(crm: Loom) -> None:
    world = build_world(crm, flow_with([{"user": "wu.yi"}], lock_record={"fields": ["amount"]}))
    contract, instance = submitted(world)
    world.reject(instance, "wu.yi", "金额不对")
    crm.records(world.actor("wang.fang")).update("contract", contract, {"amount": "120000"})
    assert crm.flows.locked_fields("contract", contract, world.actor("wang.fang")) == frozenset()


def test_a_record_nobody_may_read_stays_not_found(crm: Loom) -> None:
    world = build_world(crm, flow_with([{"user": "wu.yi"}]))
    with pytest.raises(RecordNotFound):
        crm.records(world.actor("wang.fang")).get("contract", 999_999)


def test_the_inbox_card_leaves_out_the_hidden_fields_unless_the_role_shows_them(crm: Loom) -> None:
    approvers = [{"user": "wu.yi"}, {"role": "finance"}, {"role": "legal"}]
    world = build_world(
        crm, flow_with(approvers, mode="all", summary_fields=["amount", "cost_price", "remark"])
    )
    submitted(world)

    def card(username: str, tab: str = "pending") -> list[str]:
        [item] = crm.flows.inbox(world.ids[username], tab).items
        return sorted(visible_summary(crm, world.actor(username), item))

    assert card("wu.yi") == ["amount"]
    assert card("sun.caiwu") == ["amount", "cost_price", "remark"]
    assert card("zhao.fawu") == ["amount", "remark"]
    world.approve(crm.flows.inbox(world.ids["wu.yi"], "pending").items[0]["instance_id"], "wu.yi")
    assert card("wu.yi", "done") == ["amount"]
