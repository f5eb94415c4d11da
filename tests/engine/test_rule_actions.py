"""The record actions — set_field, update_related, create_record, add_tag — plus reject and start_flow,
each through a real rule on the standard CRM, triggered by a real save."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata, RecordInvalid
from engine.loom import Loom
from engine.rules.actions import ActionFailed
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.store.system_tables import users
from metadata.rules import RuleSpec


def install(loom: Loom, *docs: dict[str, Any]) -> None:
    apply_objects(loom, [], rules=[RuleSpec.from_json(doc) for doc in docs])


def rule(name: str, object: str, trigger: dict[str, Any], *actions: dict[str, Any], **extra: Any) -> dict:
    return {"name": name, "object": object, "trigger": trigger, "actions": list(actions), **extra}


def add_user(loom: Loom, username: str) -> Actor:
    with loom.begin() as conn:
        result = conn.execute(
            insert(users).values(username=username, display_name=username, created_at=loom.clock.now())
        )
    return Actor.user(result.inserted_primary_key[0], username, {"sales_rep"})


def only_run(loom: Loom, name: str) -> dict[str, Any]:
    with loom.read() as conn:
        [run] = runs_for_rule(conn, name)
    return run


# -- set_field ---------------------------------------------------------------------------------------


def test_before_save_set_field_is_written_by_the_save_itself(crm: Loom) -> None:
    install(
        crm,
        rule(
            "short_name_from_name",
            "customer",
            {"type": "on_save", "phase": "before_save"},
            {"type": "set_field", "field": "short_name", "value": "upper(name)"},
            condition="isblank(short_name)",
        ),
    )
    customer = crm.records().create("customer", {"name": "Acme Trading"})
    assert customer["short_name"] == "ACME TRADING"
    history = crm.records().history("customer", customer["id"])
    assert [entry["action"] for entry in history] == ["create"]  # no second write


def test_after_save_set_field_updates_the_record_as_the_rule(crm: Loom) -> None:
    install(
        crm,
        rule(
            "plan_first_followup",
            "customer",
            {"type": "on_create"},
            {"type": "set_field", "field": "next_followup_at", "value": "add_days(now(), 3)"},
        ),
    )
    customer = crm.records().create("customer", {"name": "北京华信"})
    saved = crm.records().get("customer", customer["id"])
    assert saved["next_followup_at"] == crm.clock.now() + timedelta(days=3)
    last = crm.records().history("customer", customer["id"])[-1]
    assert last["actor_name"] == "rule:plan_first_followup"
    assert only_run(crm, "plan_first_followup")["actions"] == [
        {"type": "set_field", "field": "next_followup_at", "value": "2026-11-29T09:00:00Z"}
    ]


def test_a_value_the_field_cannot_hold_refuses_the_save_next_to_the_field(crm: Loom) -> None:
    install(
        crm,
        rule(
            "bad_budget",
            "customer",
            {"type": "on_create", "phase": "before_save"},
            {"type": "set_field", "field": "annual_purchase", "value": "'a lot'"},
        ),
    )
    with pytest.raises(RecordInvalid) as refused:
        crm.records().create("customer", {"name": "北京华信"})
    [message] = refused.value.fields["annual_purchase"]
    assert "bad_budget" in message
    assert crm.queries().count("customer") == 0


# -- update_related ----------------------------------------------------------------------------------


def test_a_won_opportunity_makes_its_customer_a_customer(crm: Loom) -> None:
    install(
        crm,
        rule(
            "won_makes_customer",
            "opportunity",
            {"type": "on_save", "fields": ["stage"]},
            {"type": "update_related", "lookup": "customer", "values": {"lifecycle": "'customer'"}},
            condition="stage == 'won'",
        ),
    )
    customer = crm.records().create("customer", {"name": "深圳前海贸易", "lifecycle": "prospect"})
    buyer = crm.records().create("contact", {"name": "王芳", "customer": customer["id"]})
    deal = crm.records().create("opportunity", {"name": "年度采购", "customer": customer["id"]})
    assert crm.records().get("customer", customer["id"])["lifecycle"] == "prospect"

    crm.records().update(
        "opportunity", deal["id"], {"stage": "won", "amount": "80000", "contact": buyer["id"]}
    )
    assert crm.records().get("customer", customer["id"])["lifecycle"] == "customer"
    change = crm.records().history("customer", customer["id"])[-1]
    assert change["actor_name"] == "rule:won_makes_customer"
    assert change["changes"]["lifecycle"] == ["prospect", "customer"]


def test_a_received_payment_makes_a_prospect_a_customer_but_leaves_a_loyal_one_loyal(crm: Loom) -> None:
    # The CRM package's own rule: update_related on the payment's customer, filtered by lifecycle.
    records = crm.records()
    prospect = records.create("customer", {"name": "深圳前海贸易", "lifecycle": "prospect"})
    loyal = records.create("customer", {"name": "北京华信", "lifecycle": "loyal"})
    for customer in (prospect, loyal):
        payment = records.create("payment", {"customer": customer["id"], "amount": "50000"})
        records.update("payment", payment["id"], {"status": "received"})
    assert records.get("customer", prospect["id"])["lifecycle"] == "customer"
    assert records.get("customer", loyal["id"])["lifecycle"] == "loyal"
    with crm.read() as conn:
        latest = runs_for_rule(conn, "payment_received_customer")[0]
    assert (
        latest["actions"][0]["note"]
        == "lifecycle in ['lead', 'prospect', 'dormant'] does not hold: not updated"
    )


def test_a_lost_customer_has_its_open_tasks_cancelled_and_its_done_tasks_kept(crm: Loom) -> None:
    install(
        crm,
        rule(
            "lost_cancels_tasks",
            "customer",
            {"type": "on_update", "fields": ["lifecycle"]},
            {
                "type": "update_related",
                "related": {
                    "object": "task",
                    "via": "customer",
                    "filter": "status in ['not_started', 'in_progress']",
                },
                "values": {"status": "'cancelled'", "description": "'Customer lost: ' + name"},
            },
            condition="lifecycle == 'lost'",
        ),
    )
    records = crm.records()
    customer = records.create("customer", {"name": "杭州普通客户"})
    other = records.create("customer", {"name": "另一个客户"})
    open_task = records.create("task", {"subject": "回访", "customer": customer["id"]})
    doing = records.create("task", {"subject": "报价", "customer": customer["id"], "status": "in_progress"})
    done = records.create("task", {"subject": "拜访", "customer": customer["id"], "status": "completed"})
    elsewhere = records.create("task", {"subject": "回访", "customer": other["id"]})

    records.update("customer", customer["id"], {"lifecycle": "lost"})
    status = {task["id"]: task["status"] for task in crm.queries().find("task").records}
    assert status == {
        open_task["id"]: "cancelled",
        doing["id"]: "cancelled",
        done["id"]: "completed",
        elsewhere["id"]: "not_started",
    }
    assert records.get("task", doing["id"])["description"] == "Customer lost: 杭州普通客户"
    summary = only_run(crm, "lost_cancels_tasks")["actions"][0]
    assert (summary["count"], summary["ids"]) == (2, [open_task["id"], doing["id"]])


def test_when_the_action_fails_the_payment_is_not_saved_either(crm: Loom) -> None:
    install(
        crm,
        rule(
            "payment_marks_customer",
            "payment",
            {"type": "on_create"},
            {"type": "update_related", "lookup": "customer", "values": {"annual_purchase": "'unknown'"}},
        ),
    )
    customer = crm.records().create("customer", {"name": "北京华信"})
    with pytest.raises(ActionFailed) as failed:
        crm.records().create("payment", {"customer": customer["id"], "amount": "50000"})
    assert f"could not update customer {customer['id']}: annual_purchase" in failed.value.message
    assert "payment_marks_customer" in failed.value.message
    assert crm.queries().count("payment") == 0
    assert crm.records().get("customer", customer["id"])["annual_purchase"] is None
    run = only_run(crm, "payment_marks_customer")  # the run log explains the refusal
    assert run["status"] == "failed" and "annual_purchase" in run["error"]


# -- create_record -----------------------------------------------------------------------------------


def test_a_new_opportunity_gets_a_task_for_its_owner(crm: Loom) -> None:
    rep = add_user(crm, "zhang.wei")
    install(
        crm,
        rule(
            "proposal_task",
            "opportunity",
            {"type": "on_create"},
            {
                "type": "create_record",
                "object": "task",
                "values": {
                    "subject": "'Prepare a proposal: ' + name",
                    "owner": "owner",
                    "opportunity": "id",
                    "customer": "customer",
                    "due_date": "add_days(today(), 2)",
                    "priority": "'high'",
                },
            },
        ),
    )
    customer = crm.records().create("customer", {"name": "深圳前海贸易", "owner": rep.user_id})
    deal = crm.records(rep).create("opportunity", {"name": "年度采购", "customer": customer["id"]})
    [task] = crm.queries().find("task").records
    assert (task["subject"], task["owner"], task["opportunity"], task["customer"]) == (
        "Prepare a proposal: 年度采购",
        rep.user_id,
        deal["id"],
        customer["id"],
    )
    assert task["due_date"] == crm.clock.today() + timedelta(days=2)
    assert only_run(crm, "proposal_task")["actions"] == [
        {"type": "create_record", "object": "task", "id": task["id"]}
    ]


def test_a_record_the_rule_cannot_create_refuses_the_save(crm: Loom) -> None:
    install(
        crm,
        rule(
            "bad_task",
            "opportunity",
            {"type": "on_create"},
            {"type": "create_record", "object": "task", "values": {"subject": "name", "priority": "'asap'"}},
        ),
    )
    customer = crm.records().create("customer", {"name": "深圳前海贸易"})
    with pytest.raises(ActionFailed, match="could not create the task: priority"):
        crm.records().create("opportunity", {"name": "年度采购", "customer": customer["id"]})
    assert crm.queries().count("opportunity") == 0


# -- add_tag -----------------------------------------------------------------------------------------


def test_a_big_buyer_is_tagged_once_and_keeps_its_other_tags(crm: Loom) -> None:
    install(
        crm,
        rule(
            "tag_big_buyers",
            "customer",
            {"type": "on_save"},
            {"type": "add_tag", "field": "tags", "tag": "'大客户'"},
            condition="annual_purchase >= 1000000",
        ),
    )
    records = crm.records()
    customer = records.create("customer", {"name": "深圳前海贸易", "tags": ["技术导向"]})
    records.update("customer", customer["id"], {"annual_purchase": "2000000"})
    records.update("customer", customer["id"], {"annual_purchase": "3000000"})
    assert records.get("customer", customer["id"])["tags"] == ["技术导向", "大客户"]


def test_add_tag_before_save_ignores_letter_case(crm: Loom) -> None:
    install(
        crm,
        rule(
            "tag_vip",
            "customer",
            {"type": "on_save", "phase": "before_save"},
            {"type": "add_tag", "field": "tags", "tag": "'VIP'"},
            condition="level == 'vip'",
        ),
    )
    records = crm.records()
    assert records.create("customer", {"name": "北京华信", "level": "vip"})["tags"] == ["VIP"]
    kept = records.create("customer", {"name": "上海云杉", "level": "vip", "tags": ["vip"]})
    assert kept["tags"] == ["vip"]


# -- reject and start_flow ---------------------------------------------------------------------------


def test_reject_refuses_the_save_with_its_message_next_to_the_fields(crm: Loom) -> None:
    install(
        crm,
        rule(
            "won_needs_amount",
            "opportunity",
            {"type": "on_save", "phase": "before_save"},
            {
                "type": "reject",
                "message": {"zh_CN": "赢单必须填写金额", "en": "A won opportunity needs an amount"},
                "fields": ["amount"],
            },
            condition="stage == 'won' and isblank(amount)",
        ),
        rule(
            "no_test_customers",
            "customer",
            {"type": "on_create", "phase": "before_save"},
            {"type": "reject", "message": {"zh_CN": "不能创建测试客户"}},
            condition="contains(name, '测试')",
        ),
    )
    customer = crm.records().create("customer", {"name": "北京华信"})
    buyer = crm.records().create("contact", {"name": "王芳", "customer": customer["id"]})
    deal = crm.records().create(
        "opportunity", {"name": "年度采购", "customer": customer["id"], "contact": buyer["id"]}
    )
    with pytest.raises(RecordInvalid) as refused:
        crm.records().update("opportunity", deal["id"], {"stage": "won"})
    assert refused.value.fields == {"amount": ["A won opportunity needs an amount"]}
    assert crm.records().get("opportunity", deal["id"])["stage"] == "initial_contact"
    won = crm.records().update("opportunity", deal["id"], {"stage": "won", "amount": "80000"})
    assert won["amount"] == Decimal("80000")

    with pytest.raises(RecordInvalid) as refused:
        crm.records().create("customer", {"name": "测试客户"})
    assert refused.value.fields == {"_record": ["不能创建测试客户"]}


def test_start_flow_without_the_flow_engine_refuses_the_save(crm: Loom) -> None:
    crm.flows = None  # type: ignore[assignment]  # an engine built without approval flows
    install(
        crm,
        rule(
            "approve_big_contracts",
            "contract",
            {"type": "on_create"},
            {"type": "start_flow", "flow": "contract_approval"},
            condition="amount > 100000",
        ),
    )
    customer = crm.records().create("customer", {"name": "北京华信"})
    with pytest.raises(ActionFailed, match="approval flows are not installed"):
        crm.records().create("contract", {"name": "大合同", "customer": customer["id"], "amount": "500000"})
    assert crm.queries().count("contract") == 0


def test_start_flow_starts_the_flow_as_the_person_who_saved(crm: Loom) -> None:
    started: list[tuple[str, int, str, str]] = []

    class Flows:
        def start(self, conn, object_name, record_id, flow, actor):  # type: ignore[no-untyped-def]
            started.append((object_name, record_id, flow, actor.name))
            return 99

    crm.flows = Flows()  # type: ignore[attr-defined]
    install(
        crm,
        rule(
            "approve_big_contracts",
            "contract",
            {"type": "on_create"},
            {"type": "start_flow", "flow": "contract_approval"},
            condition="amount > 100000",
        ),
    )
    rep = add_user(crm, "zhao.lei")
    customer = crm.records().create("customer", {"name": "北京华信", "owner": rep.user_id})
    small = {"name": "小合同", "customer": customer["id"], "amount": "5000"}
    crm.records(rep).create("contract", small)
    big = crm.records(rep).create("contract", {**small, "name": "大合同", "amount": "500000"})
    assert started == [("contract", big["id"], "contract_approval", "zhao.lei")]
    with crm.read() as conn:
        fired = [run for run in runs_for_rule(conn, "approve_big_contracts") if run["status"] == "fired"]
    assert fired[0]["actions"] == [{"type": "start_flow", "flow": "contract_approval", "instance": 99}]


# -- install-time checks -----------------------------------------------------------------------------


def test_actions_that_need_a_record_are_refused_in_inbound_rules(crm: Loom) -> None:
    with pytest.raises(InvalidMetadata, match="add_tag cannot run in a rule that runs inbound"):
        install(
            crm,
            rule(
                "tag_from_webhook",
                "customer",
                {"type": "inbound"},
                {"type": "add_tag", "field": "tags", "tag": "'webhook'"},
            ),
        )
