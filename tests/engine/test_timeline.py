"""A record's timeline: follow-ups, changes, approval steps and notifications, newest first, as one actor."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import RecordNotFound
from engine.loom import Loom
from engine.records.timeline import activity_time_field, timeline
from engine.work.notifications import notify
from tests.engine.flow_world import publish, simple_flow

PASSWORD = "a-long-enough-password"


def person(loom: Loom, username: str, roles: list[str], department_id: int | None = None) -> Actor:
    user = identity.create_user(
        loom, username, username.title(), PASSWORD, roles=roles, department_id=department_id, actor=SYSTEM
    )
    return identity.actor_for(loom, user["id"])


def test_an_activity_object_is_one_listed_newest_first_by_a_datetime(crm: Loom) -> None:
    objects = crm.registry.objects
    assert activity_time_field(objects["followup"]) == "followup_at"
    assert activity_time_field(objects["task"]) is None  # sorted by due date, oldest first
    assert activity_time_field(objects["contract"]) is None  # newest first, but by a date


def test_follow_ups_and_changes_come_newest_first(crm: Loom) -> None:
    sales = identity.create_department(crm, "华东销售部", actor=SYSTEM)
    wang = person(crm, "wang.fang", ["sales_rep"], sales["id"])
    records = crm.records(wang)
    customer = records.create("customer", {"name": "上海云杉科技有限公司"})
    records.create(
        "followup",
        {
            "subject": "上门拜访",
            "content": "演示",
            "customer": customer["id"],
            "followup_at": "2026-11-28T02:00:00Z",
        },
    )
    records.create(
        "followup",
        {
            "subject": "首次电话",
            "content": "介绍",
            "customer": customer["id"],
            "followup_at": "2026-11-27T02:00:00Z",
        },
    )
    entries = timeline(crm, "customer", customer["id"], wang)
    assert [entry.title for entry in entries[:2]] == ["上门拜访", "首次电话"]
    assert entries[0].kind == "activity"
    assert entries[0].at == datetime(2026, 11, 28, 2, 0)
    assert entries[0].actor == "Wang.Fang"
    assert entries[0].details["object"] == "followup"
    assert any(entry.kind == "change" and entry.title == "created" for entry in entries)
    assert [entry.at for entry in entries] == sorted((entry.at for entry in entries), reverse=True)


def test_follow_ups_outside_the_actors_scope_are_left_out(crm: Loom) -> None:
    east = identity.create_department(crm, "华东销售部", actor=SYSTEM)
    south = identity.create_department(crm, "华南销售部", actor=SYSTEM)
    wang = person(crm, "wang.fang", ["sales_rep"], east["id"])
    chen = person(crm, "chen.nan", ["sales_rep"], south["id"])
    customer = crm.records(SYSTEM).create("customer", {"name": "共享客户", "owner": wang.user_id})
    # Logged for chen by the system: chen himself may not link a follow-up to a customer he cannot read.
    crm.records(SYSTEM).create(
        "followup",
        {"subject": "华南的拜访", "content": "x", "customer": customer["id"], "owner": chen.user_id},
    )
    seen = timeline(crm, "customer", customer["id"], wang)
    assert all(entry.kind != "activity" for entry in seen)
    with pytest.raises(RecordNotFound):
        timeline(crm, "customer", customer["id"], chen)


def test_hidden_fields_are_left_out_of_changes_and_approval_snapshots(crm: Loom) -> None:
    publish(crm, simple_flow("review_flow", approvers=[{"role": "finance"}]))
    wang = person(crm, "wang.fang", ["sales_rep"])
    person(crm, "zhao.cai", ["finance"])
    customer = crm.records(wang).create("customer", {"name": "无锡太湖仪器有限公司"})
    values = {"name": "仪器合同", "customer": customer["id"], "amount": "100", "cost_price": "60"}
    contract = crm.records(SYSTEM).create("contract", {**values, "owner": wang.user_id})
    crm.flows.submit("contract", contract["id"], "review_flow", actor=wang)
    admin_view = timeline(crm, "contract", contract["id"], SYSTEM)
    assert any("cost_price" in entry.details.get("changes", {}) for entry in admin_view)
    entries = timeline(crm, "contract", contract["id"], wang)
    approvals = [entry for entry in entries if entry.kind == "approval"]
    assert [entry.title for entry in approvals if entry.title == "submit"] == ["submit"]
    for entry in entries:
        assert "cost_price" not in entry.details.get("changes", {})
        assert "cost_price" not in (entry.details.get("snapshot") or {})
    assert any((entry.details.get("snapshot") or {}).get("amount") for entry in approvals)


def test_the_actor_sees_their_own_notifications_about_the_record(crm: Loom) -> None:
    wang = person(crm, "wang.fang", ["sales_rep"])
    li = person(crm, "li.na", ["sales_rep"])
    customer = crm.records(wang).create("customer", {"name": "杭州青禾贸易有限公司"})
    with crm.begin() as conn:
        now = crm.clock.now()
        notify(conn, [wang.user_id], "客户30天未跟进", None, "customer", customer["id"], "rule:dormant", now)
        notify(conn, [li.user_id], "给李娜的提醒", None, "customer", customer["id"], "rule:other", now)
    mine = [
        entry for entry in timeline(crm, "customer", customer["id"], wang) if entry.kind == "notification"
    ]
    assert [entry.title for entry in mine] == ["客户30天未跟进"]
    everyone = [
        entry for entry in timeline(crm, "customer", customer["id"], SYSTEM) if entry.kind == "notification"
    ]
    assert len(everyone) == 2
