"""What people do with an approval besides approving: transfer (转交), add an approver (加签), withdraw
(撤回), reject back to an earlier node (退回), remind (催办), comment — and what submitting refuses."""

from __future__ import annotations

import pytest

from engine.base.actors import SYSTEM
from engine.flows import FlowConflict, FlowError, RecordLocked
from engine.identity import add_role
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.work.notifications import unread_for
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from tests.engine.flow_world import World, build_world, contract_approval, publish, simple_flow

THREE = [{"user": "wu.yi"}, {"user": "zheng.er"}, {"user": "feng.san"}]


def names(world: World, instance: int) -> list[tuple[str, str, int]]:
    """(username, status, position) of every task, in order."""
    by_id = {user_id: name for name, user_id in world.ids.items()}
    return [(by_id[t.assignee_id], t.status, t.position) for t in world.loom.flows.tasks(instance)]


def review(crm: Loom, **approval: object) -> tuple[World, int]:
    world = build_world(crm, simple_flow(**approval))
    return world, world.submit(world.contract(10_000), flow_name="review_flow").id


# -- transfer (转交) ------------------------------------------------------------------------------------


def test_transfer_hands_the_task_to_someone_else_who_then_decides(crm: Loom) -> None:
    world, instance = review(crm, approvers=[{"user": "wu.yi"}])
    task = world.task_of(instance, "wu.yi")
    world.loom.flows.transfer(
        task.id, world.ids["feng.san"], actor=world.actor("wu.yi"), comment="出差，请冯三处理"
    )
    assert names(world, instance) == [("wu.yi", "transferred", 0), ("feng.san", "pending", 0)]
    assert world.loom.flows.pending_for(world.ids["wu.yi"]) == []
    with pytest.raises(FlowConflict, match="already been decided"):
        world.loom.flows.approve(task.id, actor=world.actor("wu.yi"))
    assert world.approve(instance, "feng.san").status == "approved"
    transfer = next(row for row in world.loom.flows.history(instance) if row["action"] == "transfer")
    assert transfer["comment"] == "出差，请冯三处理"
    assert (
        transfer["detail"]["from"] == world.ids["wu.yi"] and transfer["detail"]["to"] == world.ids["feng.san"]
    )


def test_transfer_keeps_the_place_in_a_sequence(crm: Loom) -> None:
    world, instance = review(crm, approvers=THREE, mode="sequential")
    task = world.task_of(instance, "wu.yi")
    world.loom.flows.transfer(task.id, world.ids["li.na"], actor=world.actor("wu.yi"))
    world.approve(instance, "li.na")
    assert [(n, s) for n, s, _ in names(world, instance)] == [
        ("wu.yi", "transferred"), ("li.na", "approved"), ("zheng.er", "pending"), ("feng.san", "waiting"),
    ]  # fmt: skip


def test_only_the_approver_or_an_administrator_may_transfer_and_never_to_someone_already_asked(
    crm: Loom,
) -> None:
    world, instance = review(crm, approvers=THREE, mode="all")
    task = world.task_of(instance, "wu.yi")
    with pytest.raises(PermissionDenied, match="not yours"):
        world.loom.flows.transfer(task.id, world.ids["li.na"], actor=world.actor("zheng.er"))
    with pytest.raises(FlowError, match="郑二 already has this step to approve"):
        world.loom.flows.transfer(task.id, world.ids["zheng.er"], actor=world.actor("wu.yi"))
    world.loom.flows.transfer(task.id, world.ids["li.na"], actor=world.actor("zhou.admin"))
    assert ("li.na", "pending", 0) in names(world, instance)


# -- add an approver (加签) -------------------------------------------------------------------------------


def test_an_approver_added_before_decides_first_then_the_task_returns(crm: Loom) -> None:
    world, instance = review(crm, approvers=[{"user": "wu.yi"}])
    task = world.task_of(instance, "wu.yi")
    world.loom.flows.add_approver(task.id, world.ids["li.na"], position="before", actor=world.actor("wu.yi"))
    assert names(world, instance) == [("li.na", "pending", 0), ("wu.yi", "waiting", 1)]
    assert world.approve(instance, "li.na").status == "running"  # not the node's decision yet
    assert names(world, instance) == [("li.na", "approved", 0), ("wu.yi", "pending", 1)]
    assert world.approve(instance, "wu.yi").status == "approved"


def test_an_approver_added_after_decides_before_the_node_completes(crm: Loom) -> None:
    world, instance = review(crm, approvers=[{"user": "wu.yi"}, {"user": "zheng.er"}], mode="sequential")
    task = world.task_of(instance, "wu.yi")
    world.loom.flows.add_approver(task.id, world.ids["li.na"], position="after", actor=world.actor("wu.yi"))
    assert names(world, instance) == [
        ("wu.yi", "pending", 0),
        ("li.na", "waiting", 1),
        ("zheng.er", "waiting", 2),
    ]
    world.approve(instance, "wu.yi")
    assert names(world, instance)[1:] == [("li.na", "pending", 1), ("zheng.er", "waiting", 2)]
    world.approve(instance, "li.na")
    assert world.approve(instance, "zheng.er").status == "approved"


def test_in_any_mode_an_approver_added_after_must_approve_too(crm: Loom) -> None:
    world, instance = review(crm, approvers=[{"user": "wu.yi"}, {"user": "zheng.er"}], mode="any")
    task = world.task_of(instance, "wu.yi")
    world.loom.flows.add_approver(task.id, world.ids["li.na"], position="after", actor=world.actor("wu.yi"))
    assert world.approve(instance, "wu.yi").status == "running"
    assert world.approve(instance, "li.na").status == "approved"
    history = [row for row in world.loom.flows.history(instance) if row["action"] == "add_approver"]
    assert history[0]["detail"]["position"] == "after" and history[0]["detail"]["user"] == world.ids["li.na"]


def test_adding_an_approver_is_the_approvers_own_act(crm: Loom) -> None:
    world, instance = review(crm, approvers=[{"user": "wu.yi"}])
    task = world.task_of(instance, "wu.yi")
    with pytest.raises(PermissionDenied):
        world.loom.flows.add_approver(
            task.id, world.ids["li.na"], position="before", actor=world.actor("li.na")
        )
    with pytest.raises(FlowError, match="position must be 'before' or 'after'"):
        world.loom.flows.add_approver(
            task.id, world.ids["li.na"], position="beside", actor=world.actor("wu.yi")
        )


# -- withdraw (撤回) -------------------------------------------------------------------------------------


def test_the_submitter_withdraws_and_the_record_is_editable_again(crm: Loom) -> None:
    world = build_world(crm)
    contract = world.contract(500_000)
    instance = world.submit(contract)
    with pytest.raises(PermissionDenied, match="only the submitter"):
        world.loom.flows.withdraw(instance.id, actor=world.actor("zhang.jingli"))
    withdrawn = world.loom.flows.withdraw(instance.id, actor=world.actor("wang.fang"), comment="金额写错了")
    assert withdrawn.status == "withdrawn" and withdrawn.ended_at is not None
    assert names(world, instance.id) == [("zhang.jingli", "cancelled", 0)]
    assert world.loom.flows.pending_for(world.ids["zhang.jingli"]) == []
    world.loom.records(world.actor("wang.fang")).update("contract", contract, {"amount": "50000"})
    with pytest.raises(FlowConflict, match="has ended"):
        world.loom.flows.withdraw(instance.id, actor=world.actor("wang.fang"))


# -- reject back to an earlier node (退回) ---------------------------------------------------------------


def test_a_rejection_back_to_an_earlier_node_runs_that_node_again(crm: Loom) -> None:
    world = build_world(crm)
    contract = world.contract(2_000_000)
    instance = world.submit(contract)
    world.approve(instance, "zhang.jingli")
    world.approve(instance, "zhao.fawu")
    world.approve(instance, "sun.caiwu")
    back = world.reject(instance, "chen.zong", "请法务再看付款条款", to_node="legal")
    assert back.status == "running" and back.active_nodes == ["legal"]
    assert world.status(contract) == "draft"  # not rejected: it is still being approved

    # Finance approved already and stays approved: once legal approves again the join goes on.
    world.approve(instance, "qian.fawu")
    [ceo] = world.pending(instance)
    assert ceo.node == "ceo"
    assert world.approve(instance, "chen.zong").status == "approved"
    returned = next(row for row in world.loom.flows.history(instance.id) if row["action"] == "return")
    assert returned["node"] == "ceo" and returned["detail"] == {"to": "legal"}


def test_a_rejection_back_to_the_first_node(crm: Loom) -> None:
    world = build_world(crm)
    instance = world.submit(world.contract(500_000))
    world.approve(instance, "zhang.jingli")
    world.reject(instance, "sun.caiwu", "请经理确认折扣", to_node="manager")
    assert [t.node for t in world.pending(instance)] == ["manager"]
    assert {t.status for t in world.loom.flows.tasks(instance.id) if t.node == "legal"} == {"cancelled"}
    world.approve(instance, "zhang.jingli")
    assert sorted(t.node for t in world.pending(instance)) == ["finance", "legal", "legal"]


def test_a_rejection_can_only_return_to_an_approval_node_already_reached(crm: Loom) -> None:
    world = build_world(crm)
    instance = world.submit(world.contract(500_000))
    task = world.task_of(instance, "zhang.jingli")
    manager = world.actor("zhang.jingli")
    with pytest.raises(FlowError, match="has not reached 'ceo' yet"):
        world.loom.flows.reject(task.id, actor=manager, comment="x", to_node="ceo")
    with pytest.raises(FlowError, match="'by_amount' is a condition node"):
        world.loom.flows.reject(task.id, actor=manager, comment="x", to_node="by_amount")
    with pytest.raises(FlowError, match="needs a reason"):
        world.loom.flows.reject(task.id, actor=manager, comment="  ")
    assert world.task_of(instance, "zhang.jingli").status == "pending"  # nothing was changed


# -- remind (催办) and comment -----------------------------------------------------------------------------


def test_the_submitter_reminds_the_approvers_who_have_not_decided(crm: Loom) -> None:
    world = build_world(crm)
    instance = world.submit(world.contract(500_000))
    world.approve(instance, "zhang.jingli")
    world.approve(instance, "sun.caiwu")
    told = world.loom.flows.remind(instance_id=instance.id, actor=world.actor("wang.fang"))
    assert told == 2  # both lawyers; finance has decided
    with world.loom.read() as conn:
        titles = [n["title"] for n in unread_for(conn, world.ids["zhao.fawu"])]
    assert any(title.startswith("催办") for title in titles)
    with pytest.raises(PermissionDenied):
        world.loom.flows.remind(instance_id=instance.id, actor=world.actor("li.na"))
    one = world.task_of(instance, "zhao.fawu")
    assert world.loom.flows.remind(one.id, actor=world.actor("wang.fang")) == 1
    assert [a for a, _ in world.actions(instance)].count("remind") == 2


def test_comments_go_into_the_history(crm: Loom) -> None:
    world = build_world(crm)
    instance = world.submit(world.contract(500_000))
    world.loom.flows.comment(instance.id, "附件已更新", actor=world.actor("wang.fang"))
    world.loom.flows.comment(instance.id, "收到", actor=world.actor("zhang.jingli"))
    with pytest.raises(PermissionDenied):
        world.loom.flows.comment(instance.id, "路过", actor=world.actor("wu.yi"))
    rows = [
        (r["actor_name"], r["comment"])
        for r in world.loom.flows.history(instance.id)
        if r["action"] == "comment"
    ]
    assert rows == [("王芳", "附件已更新"), ("张经理", "收到")]


# -- submitting ----------------------------------------------------------------------------------------


def test_submitting_is_refused_while_an_approval_runs_or_when_submit_when_fails(crm: Loom) -> None:
    world = build_world(crm)
    contract = world.contract(500_000)
    instance = world.submit(contract)
    with pytest.raises(FlowConflict, match=f"already being approved .*approval {instance.id}"):
        world.submit(contract)
    world.loom.records().update("contract", contract, {"status": "active"})
    world.loom.flows.withdraw(instance.id, actor=world.actor("wang.fang"))
    with pytest.raises(FlowError, match=r"status in \['draft', 'rejected'\] does not hold"):
        world.submit(contract)


def test_only_someone_who_may_change_the_record_may_submit_it(crm: Loom) -> None:
    world = build_world(crm)
    contract = world.contract(1_000)
    with pytest.raises(PermissionDenied, match="not submit it"):
        world.submit(contract, by="zhao.fawu")  # legal reads every contract but changes none
    with pytest.raises(Exception, match="does not exist"):
        world.submit(contract, by="li.na")  # another rep's contract: she does not even see it


def test_empty_approvers_follow_the_flow(crm: Loom) -> None:
    nobody = [{"role": "service_agent"}]
    skip = {**simple_flow("skipping", approvers=nobody).to_json(), "on_empty_approvers": "skip"}
    refuse = {**simple_flow("refusing", approvers=nobody).to_json(), "on_empty_approvers": "refuse"}
    admin = simple_flow("to_admins", approvers=nobody)
    world = build_world(crm, admin)
    publish(crm, skip, refuse)

    skipped = world.submit(world.contract(1), flow_name="skipping")
    assert skipped.status == "approved" and ("skip", "review") in world.actions(skipped)
    contract = world.contract(2)
    with pytest.raises(FlowError, match="nobody can approve step 'review' of 'refusing'"):
        world.submit(contract, flow_name="refusing")
    assert world.loom.flows.instance_of("contract", contract) is None  # nothing was written
    given = world.submit(contract, flow_name="to_admins")
    assert [t.assignee_id for t in world.pending(given)] == [world.ids["zhou.admin"]]


def test_the_submitter_chooses_the_approver_of_a_node(crm: Loom) -> None:
    world = build_world(crm, simple_flow(approvers=[{"chosen_by_submitter": True}]))
    contract = world.contract(1)
    instance = world.submit(contract, flow_name="review_flow", chosen_approvers={"review": ["feng.san"]})
    assert [t.assignee_id for t in world.pending(instance)] == [world.ids["feng.san"]]
    with pytest.raises(FlowError, match="cannot choose approvers for 'other'"):
        world.submit(world.contract(2), flow_name="review_flow", chosen_approvers={"other": ["feng.san"]})


def test_a_user_field_and_the_department_head_approve(crm: Loom) -> None:
    flow = simple_flow(
        approvers=[{"field": "signed_by"}, {"department_head": "submitter"}], mode="sequential"
    )
    world = build_world(crm, flow)
    contract = world.contract(1)
    world.loom.records().update("contract", contract, {"signed_by": world.ids["wu.yi"]})
    instance = world.submit(contract, flow_name="review_flow")
    assert [t.assignee_id for t in world.loom.flows.tasks(instance.id)] == [
        world.ids["wu.yi"],
        world.ids["zhang.jingli"],
    ]


def test_the_managers_levels_up_and_the_department_head_above_a_head(crm: Loom) -> None:
    flow = simple_flow(approvers=[{"manager_of": "submitter", "levels": 2}])
    world = build_world(crm, flow)
    instance = world.submit(world.contract(1, by="li.na"), flow_name="review_flow", by="li.na")
    assert [t.assignee_id for t in world.pending(instance)] == [world.ids["chen.zong"]]  # 张经理, then 陈总
    head = simple_flow("head_flow", approvers=[{"department_head": "submitter"}])
    publish(crm, head)
    contract = world.contract(2, by="zhang.jingli")
    by_manager = world.submit(contract, flow_name="head_flow", by="zhang.jingli")
    assert [t.assignee_id for t in world.pending(by_manager)] == [world.ids["chen.zong"]]


# -- cc, action nodes, parallel join any -------------------------------------------------------------


def test_cc_informs_and_action_nodes_run_rule_actions_as_the_flow(crm: Loom) -> None:
    flow = {
        "name": "with_cc",
        "object": "contract",
        "start": "tell_legal",
        "nodes": {
            "tell_legal": {"type": "cc", "to": [{"role": "legal"}], "next": "mark"},
            "mark": {
                "type": "action",
                "actions": [{"type": "set_field", "field": "remark", "value": "'审批中'"}],
                "next": "review",
            },
            "review": {"type": "approval", "approvers": [{"user": "wu.yi"}], "next": "done"},
            "done": {"type": "end"},
        },
    }
    world = build_world(crm)
    publish(crm, flow)
    contract = world.contract(1)
    instance = world.submit(contract, flow_name="with_cc")
    with world.loom.read() as conn:
        assert [n["title"] for n in unread_for(conn, world.ids["zhao.fawu"])] == [
            "抄送：with_cc · 设备采购合同"
        ]
    assert world.loom.records().get("contract", contract)["remark"] == "审批中"
    assert world.loom.records().history("contract", contract)[-1]["actor_name"] == "flow:with_cc"
    assert world.actions(instance)[:4] == [
        ("submit", None),
        ("cc", "tell_legal"),
        ("action", "mark"),
        ("assign", "review"),
    ]


def test_a_parallel_join_any_goes_on_after_the_first_branch(crm: Loom) -> None:
    flow = {
        "name": "either",
        "object": "contract",
        "start": "split",
        "nodes": {
            "split": {"type": "parallel", "branches": ["a", "b"], "join": "any", "next": "done"},
            "a": {"type": "approval", "approvers": [{"user": "wu.yi"}]},
            "b": {"type": "approval", "approvers": [{"user": "zheng.er"}]},
            "done": {"type": "end"},
        },
    }
    world = build_world(crm)
    publish(crm, flow)
    instance = world.submit(world.contract(1), flow_name="either")
    assert world.approve(instance, "zheng.er").status == "approved"
    assert names(world, instance.id) == [("wu.yi", "cancelled", 0), ("zheng.er", "approved", 0)]


# -- the record lock and rules ------------------------------------------------------------------------


def test_deleting_a_locked_record_is_refused_but_an_unlocked_flow_leaves_it_alone(crm: Loom) -> None:

    clerk = RoleSpec.from_json(
        {
            "name": "clerk",
            "label": {"en": "Clerk"},
            "objects": {"contract": {"read": "all", "update": "all", "delete": "all"}},
        }
    )
    apply_objects(crm, [], roles=[clerk])
    unlocked = {**simple_flow("unlocked", approvers=[{"user": "wu.yi"}]).to_json(), "lock_record": False}
    world = build_world(crm)
    publish(crm, unlocked)
    add_role(crm, world.ids["li.na"], "clerk", actor=SYSTEM)
    clerk_actor = world.actor("li.na")
    locked = world.contract(1)
    world.submit(locked, flow_name="contract_approval")
    with pytest.raises(RecordLocked):
        world.loom.records(clerk_actor).delete("contract", locked)
    free = world.contract(2)
    world.submit(free, flow_name="unlocked")
    world.loom.records(clerk_actor).update("contract", free, {"remark": "可以改"})
    world.loom.records(clerk_actor).delete("contract", free)


def test_submit_and_outcomes_fire_the_objects_flow_rules(crm: Loom) -> None:
    rules = [
        RuleSpec.from_json(
            {
                "name": f"contract_{trigger}",
                "object": "contract",
                "trigger": {"type": trigger},
                "actions": [{"type": "set_field", "field": "remark", "value": f"'{trigger}'"}],
            }
        )
        for trigger in ("on_submit", "on_approved", "on_rejected")
    ]
    world = build_world(crm)
    apply_objects(crm, [], rules=rules)
    contract = world.contract(1)
    instance = world.submit(contract)
    assert world.loom.records().get("contract", contract)["remark"] == "on_submit"
    world.approve(instance, "zhang.jingli")
    assert world.loom.records().get("contract", contract)["remark"] == "on_approved"
    other = world.contract(2)
    world.reject(world.submit(other), "zhang.jingli", "不要")
    assert world.loom.records().get("contract", other)["remark"] == "on_rejected"


def test_a_start_flow_rule_submits_as_the_person_who_saved(crm: Loom) -> None:
    world = build_world(crm, contract_approval())
    rule = RuleSpec.from_json(
        {
            "name": "approve_big_contracts",
            "object": "contract",
            "trigger": {"type": "on_create"},
            "condition": "amount >= 100000",
            "actions": [{"type": "start_flow", "flow": "contract_approval"}],
        }
    )
    apply_objects(crm, [], rules=[rule])
    small, big = world.contract(5_000), world.contract(500_000)
    assert world.loom.flows.instance_of("contract", small) is None
    instance = world.loom.flows.instance_of("contract", big)
    assert instance is not None and instance.submitter_id == world.ids["wang.fang"]
    assert [t.assignee_id for t in world.pending(instance)] == [world.ids["zhang.jingli"]]
