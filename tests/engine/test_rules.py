"""The rules engine with the standard CRM's own rules: the seeds' examples, exactly as written."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.base.actors import SYSTEM
from engine.base.errors import RecordInvalid
from engine.loom import Loom
from engine.rules.explain import business_time, created_records, explain
from engine.rules.firing import RuleLoopError
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.store.system_tables import notifications, users
from engine.work.due_work import run_due
from metadata.rules import RuleSpec

T0 = datetime(2026, 11, 26, 1, 0)  # 09:00 in Beijing
BIG_DEAL_IS_KEY = RuleSpec.from_json(
    {
        "name": "big_deal_is_key",
        "object": "customer",
        "trigger": {"type": "on_save", "phase": "before_save", "fields": ["annual_purchase"]},
        "condition": "annual_purchase >= 1000000",
        "actions": [{"type": "set_field", "field": "level", "value": "'key'"}],
    }
)


def add_user(loom: Loom, user_id: int, username: str) -> int:
    with loom.begin() as conn:
        conn.execute(
            users.insert().values(
                id=user_id, username=username, display_name=username, active=True, created_at=T0
            )
        )
    return user_id


def worker_pass(loom: Loom) -> int:
    return run_due(loom, loom.due_handlers)


def tasks(loom: Loom, filter: str | None = None) -> list[dict]:
    return loom.queries().find("task", filter=filter, limit=500).records


@pytest.fixture
def crm_at_t0(crm: Loom) -> Loom:
    crm.clock.set(T0)
    return crm


def reinstall_rules(loom: Loom) -> None:
    """Rules were installed with the package at the fixture's clock; re-plan their schedules from T0."""
    from engine.rules.schedules import sync_rule_schedules

    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        sync_rule_schedules(loom, conn, {}, registry.rule_specs(), registry)


def test_vip_rule_creates_one_task_per_overdue_vip_customer_for_its_owner(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    reinstall_rules(loom)
    wang, li = add_user(loom, 11, "wang.fang"), add_user(loom, 12, "li.na")
    records = loom.records()
    last = T0 - timedelta(days=1)
    overdue = records.create(
        "customer", {"name": "上海云杉科技", "level": "vip", "owner": wang, "last_followup_at": last}
    )
    records.create(
        "customer",
        {"name": "北京华信", "level": "vip", "owner": li, "last_followup_at": T0 + timedelta(days=10)},
    )
    records.create(
        "customer", {"name": "杭州普通客户", "level": "normal", "owner": li, "last_followup_at": last}
    )

    loom.clock.set(last + timedelta(days=16, hours=2))  # LOOM_NOW 16 days after the last follow-up
    worker_pass(loom)
    created = tasks(loom, "contains(subject, 'VIP')")
    assert [(t["subject"], t["owner"], t["customer"]) for t in created] == [
        ("请立即跟进VIP客户：上海云杉科技", wang, overdue["id"])
    ]
    assert created[0]["due_date"] == loom.clock.today() + timedelta(days=1)

    loom.clock.set(loom.clock.now() + timedelta(days=1))
    worker_pass(loom)
    assert len(tasks(loom, "contains(subject, 'VIP')")) == 1  # once per episode: no second task


def test_vip_rule_fires_again_after_the_customer_was_followed_up(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    reinstall_rules(loom)
    customer = loom.records().create(
        "customer", {"name": "上海云杉科技", "level": "vip", "last_followup_at": T0 - timedelta(days=20)}
    )
    loom.clock.set(T0 + timedelta(days=1))
    worker_pass(loom)
    loom.records().update("customer", customer["id"], {"last_followup_at": loom.clock.now()})
    loom.clock.set(T0 + timedelta(days=2))
    worker_pass(loom)  # condition false: the episode ends
    loom.clock.set(T0 + timedelta(days=20))
    worker_pass(loom)
    assert len(tasks(loom, "contains(subject, 'VIP')")) == 2


def test_contract_expiry_reminder_fires_once_on_the_right_day(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    owner = add_user(loom, 21, "zhao.lei")
    customer = loom.records().create("customer", {"name": "深圳前海贸易"})
    contract = loom.records().create(
        "contract",
        {
            "name": "年度服务合同",
            "customer": customer["id"],
            "amount": "120000",
            "status": "active",
            "owner": owner,
            "start_date": date(2026, 1, 1),
            "end_date": date(2027, 1, 10),
        },
    )
    due_day = date(2026, 12, 11)  # 30 days before 2027-01-10
    loom.clock.set(datetime(2026, 12, 10, 12, 0))
    worker_pass(loom)
    assert tasks(loom, "contains(subject, '续约')") == []

    loom.clock.set(datetime(2026, 12, 11, 1, 0))  # 09:00 Beijing on the due day
    worker_pass(loom)
    reminders = tasks(loom, "contains(subject, '续约')")
    assert [(t["contract"], t["owner"]) for t in reminders] == [(contract["id"], owner)]
    assert loom.clock.today() == due_day
    with loom.read() as conn:
        sent = (
            conn.execute(select(notifications.c.title).where(notifications.c.user_id == owner))
            .scalars()
            .all()
        )
    assert sent == ["合同将在30天后到期：年度服务合同"]

    loom.clock.set(datetime(2026, 12, 12, 1, 0))
    worker_pass(loom)
    assert len(tasks(loom, "contains(subject, '续约')")) == 1


def test_moving_the_end_date_moves_the_reminder(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    customer = loom.records().create("customer", {"name": "深圳前海贸易"})
    contract = loom.records().create(
        "contract",
        {
            "name": "框架合同",
            "customer": customer["id"],
            "amount": "1",
            "status": "active",
            "end_date": date(2027, 1, 10),
        },
    )
    loom.records().update("contract", contract["id"], {"end_date": date(2027, 3, 1)})
    loom.clock.set(datetime(2026, 12, 11, 2, 0))
    worker_pass(loom)
    assert tasks(loom, "contains(subject, '续约')") == []
    loom.clock.set(datetime(2027, 1, 30, 2, 0))
    worker_pass(loom)
    assert len(tasks(loom, "contains(subject, '续约')")) == 1


def test_received_payment_makes_the_customer_a_customer_in_the_same_transaction(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    customer = loom.records().create("customer", {"name": "成都天府软件", "lifecycle": "prospect"})
    payment = loom.records().create(
        "payment", {"customer": customer["id"], "amount": "50000", "status": "planned"}
    )
    assert loom.records().get("customer", customer["id"])["lifecycle"] == "prospect"
    loom.records().update("payment", payment["id"], {"status": "received"})
    assert loom.records().get("customer", customer["id"])["lifecycle"] == "customer"
    history = loom.records().history("customer", customer["id"])
    assert history[-1]["actor_name"] == "rule:payment_received_customer"


def test_a_failing_action_rolls_the_payment_back(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    breaking = RuleSpec.from_json(
        {
            "name": "bad_followup_task",
            "object": "payment",
            "trigger": {"type": "on_create"},
            "actions": [{"type": "create_record", "object": "task", "values": {"subject": "''"}}],
        }
    )
    apply_objects(loom, [], rules=[breaking])
    customer = loom.records().create("customer", {"name": "成都天府软件"})
    with pytest.raises(Exception) as caught:
        loom.records().create("payment", {"customer": customer["id"], "amount": "50000"})
    assert "bad_followup_task" in str(caught.value) and "subject" in str(caught.value)
    assert loom.queries().count("payment") == 0
    with loom.read() as conn:
        [run] = runs_for_rule(conn, "bad_followup_task")
    assert run["status"] == "failed" and "subject" in run["error"]


def test_rules_that_update_each_other_stop_at_the_depth_limit(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    ping = RuleSpec.from_json(
        {
            "name": "ping",
            "object": "customer",
            "trigger": {"type": "on_update", "fields": ["short_name"]},
            "actions": [
                {"type": "set_field", "field": "contact_name", "value": "coalesce(contact_name, '') + 'a'"}
            ],
        }
    )
    pong = RuleSpec.from_json(
        {
            "name": "pong",
            "object": "customer",
            "trigger": {"type": "on_update", "fields": ["contact_name"]},
            "actions": [
                {"type": "set_field", "field": "short_name", "value": "coalesce(short_name, '') + 'b'"}
            ],
        }
    )
    apply_objects(loom, [], rules=[ping, pong])
    customer = loom.records().create("customer", {"name": "无限循环有限公司"})
    with pytest.raises(RuleLoopError) as caught:
        loom.records().update("customer", customer["id"], {"short_name": "x"})
    message = caught.value.message
    assert "ping" in message and "pong" in message and "Nothing was saved" in message
    assert loom.records().get("customer", customer["id"])["short_name"] is None
    with loom.read() as conn:
        stopped = [
            run
            for name in ("ping", "pong")
            for run in runs_for_rule(conn, name)
            if run["status"] == "stopped"
        ]
    assert len(stopped) == 1 and stopped[0]["error"] == message


def test_before_save_rules_change_or_refuse_the_record(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    normalise = BIG_DEAL_IS_KEY
    refuse = RuleSpec.from_json(
        {
            "name": "lost_needs_reason",
            "object": "customer",
            "trigger": {"type": "on_save", "phase": "before_save"},
            "condition": "lifecycle == 'lost' and isblank(lost_reason)",
            "actions": [
                {
                    "type": "reject",
                    "fields": ["lost_reason"],
                    "message": {"zh_CN": "流失客户必须填写流失原因", "en": "A lost customer needs a reason"},
                }
            ],
        }
    )
    apply_objects(loom, [], rules=[normalise, refuse])
    big = loom.records().create("customer", {"name": "大客户", "annual_purchase": "2000000"})
    assert big["level"] == "key"
    with pytest.raises(RecordInvalid) as caught:
        loom.records().create("customer", {"name": "流失客户", "lifecycle": "lost"})
    assert caught.value.fields == {"lost_reason": ["A lost customer needs a reason"]}


def test_explain_says_why_each_rule_did_or_did_not_fire(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    reinstall_rules(loom)
    customer = loom.records().create(
        "customer", {"name": "上海云杉科技", "level": "vip", "last_followup_at": T0 - timedelta(days=20)}
    )
    quiet = loom.records().create("customer", {"name": "北京华信", "level": "normal"})
    loom.clock.set(T0 + timedelta(days=1))
    worker_pass(loom)
    vip = {item.rule: item for item in explain(loom, "customer", customer["id"])}["vip_followup_overdue"]
    assert "already fired in this episode" in vip.verdict
    assert vip.inputs["level"] == "vip" and vip.runs[0]["status"] == "fired"
    other = {item.rule: item for item in explain(loom, "customer", quiet["id"])}["vip_followup_overdue"]
    assert other.verdict.startswith("condition is false")
    assert other.condition_value is False


def test_every_firing_is_in_the_run_log_with_its_inputs(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    customer = loom.records().create("customer", {"name": "成都天府软件", "lifecycle": "prospect"})
    loom.records().create("payment", {"customer": customer["id"], "amount": "1", "status": "received"})
    with loom.read() as conn:
        [run] = runs_for_rule(conn, "payment_received_customer")
        total = conn.execute(select(func.count()).select_from(notifications)).scalar()
    assert run["status"] == "fired" and run["condition_value"] is True
    assert run["inputs"]["status"] == "received"
    assert run["actions"][0]["type"] == "update_related"
    assert total == 0


def test_approval_outcomes_fire_their_rules_in_the_callers_transaction(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    approved = RuleSpec.from_json(
        {
            "name": "contract_approved_activates",
            "object": "contract",
            "trigger": {"type": "on_approved"},
            "actions": [{"type": "set_field", "field": "status", "value": "'active'"}],
        }
    )
    apply_objects(loom, [], rules=[approved])
    customer = loom.records().create("customer", {"name": "苏州精工"})
    contract = loom.records().create(
        "contract", {"name": "设备采购", "customer": customer["id"], "amount": "1"}
    )
    with loom.begin() as conn:
        [run] = loom.rules.fire_flow_event(conn, "contract", contract["id"], "on_approved", SYSTEM)
        assert run.status == "fired"
        conn.rollback()  # the flow decision failed after all: the rule's change goes with it
    assert loom.records().get("contract", contract["id"])["status"] == "draft"
    with loom.begin() as conn:
        loom.rules.fire_flow_event(conn, "contract", contract["id"], "on_approved", SYSTEM)
    assert loom.records().get("contract", contract["id"])["status"] == "active"


def test_an_inbound_rule_turns_a_webhook_payload_into_a_lead(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    inbound = RuleSpec.from_json(
        {
            "name": "website_contact_form",
            "object": "lead",
            "trigger": {"type": "inbound"},
            "condition": "not isblank(get(payload, 'phone'))",
            "actions": [
                {
                    "type": "create_record",
                    "object": "lead",
                    "values": {
                        "name": "coalesce(get(payload, 'name'), '官网留言')",
                        "company": "get(payload, 'company')",
                        "phone": "get(payload, 'phone')",
                        "source": "'website'",
                    },
                }
            ],
        }
    )
    apply_objects(loom, [], rules=[inbound])
    run = loom.rules.fire_inbound(
        "website_contact_form", {"name": "陈静", "company": "宁波港航物流", "phone": "13912345678"}
    )
    assert run.status == "fired"
    [lead] = loom.queries().find("lead").records
    assert (lead["name"], lead["company"], lead["phone"], lead["source"]) == (
        "陈静",
        "宁波港航物流",
        "13912345678",
        "website",
    )
    skipped = loom.rules.fire_inbound("website_contact_form", {"name": "没有电话"})
    assert skipped.status == "skipped" and loom.queries().count("lead") == 1


def test_before_save_runs_name_the_record_they_ran_on_so_explain_finds_them(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    normalise = BIG_DEAL_IS_KEY
    apply_objects(loom, [], rules=[normalise])
    created = loom.records().create("customer", {"name": "大客户", "annual_purchase": "2000000"})
    updated = loom.records().create("customer", {"name": "小客户"})
    loom.records().update("customer", updated["id"], {"annual_purchase": "3000000"})
    for record in (created, updated):
        [item] = [i for i in explain(loom, "customer", record["id"]) if i.rule == "big_deal_is_key"]
        assert [run["status"] for run in item.runs] == ["fired"], record["name"]
    with loom.read() as conn:
        assert all(run["record_id"] is not None for run in runs_for_rule(conn, "big_deal_is_key"))


def test_a_followup_between_passes_ends_the_episode_so_the_rule_fires_again_later(crm_at_t0: Loom) -> None:
    loom = crm_at_t0
    reinstall_rules(loom)
    wang = add_user(loom, 11, "wang.fang")
    customer = loom.records().create(
        "customer",
        {"name": "上海云杉科技", "level": "vip", "owner": wang, "last_followup_at": T0 - timedelta(days=20)},
    )
    loom.clock.set(T0 + timedelta(days=1))
    worker_pass(loom)
    assert len(tasks(loom, f"customer == {customer['id']}")) == 1
    # Followed up the same afternoon, before any pass sees the customer quiet no more …
    loom.clock.set(T0 + timedelta(days=1, hours=5))
    loom.records().update("customer", customer["id"], {"last_followup_at": T0 + timedelta(days=1, hours=5)})
    # … and then silent again for 16 days: the rule must fire a second time.
    loom.clock.set(T0 + timedelta(days=18))
    worker_pass(loom)
    assert len(tasks(loom, f"customer == {customer['id']}")) == 2


def test_explain_shows_computed_inputs_the_task_a_run_created_and_times_in_business_time(
    crm_at_t0: Loom,
) -> None:
    loom = crm_at_t0
    reinstall_rules(loom)
    customer = loom.records().create(
        "customer", {"name": "上海云杉科技", "level": "vip", "last_followup_at": T0 - timedelta(days=15)}
    )
    loom.clock.set(T0 + timedelta(days=1))  # the 09:00 Beijing pass, 16 days after the follow-up
    worker_pass(loom)
    [task] = tasks(loom, "contains(subject, 'VIP')")
    vip = {item.rule: item for item in explain(loom, "customer", customer["id"])}["vip_followup_overdue"]
    assert vip.computed["days_since(coalesce(last_followup_at, created_at))"] == 16
    assert vip.computed["coalesce(last_followup_at, created_at)"] == "2026-11-11 09:00 Asia/Shanghai"
    assert created_records(vip.runs[0]) == [("task", task["id"])]
    assert vip.timezone == "Asia/Shanghai"
    assert vip.inputs["last_followup_at"] == "2026-11-11 09:00 Asia/Shanghai"
    assert "last fired 2026-11-27 09:00 Asia/Shanghai" in vip.verdict
    assert business_time(vip.next_due, vip.timezone) == "2026-11-28 09:00 Asia/Shanghai"
