"""SaaS subscriptions: usage fed back by webhook, churn risk, renewals opened before the term ends, and
renewal discounts approved by size — the template's own rules and flow, as it ships them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from engine.base.actors import SYSTEM
from engine.identity import add_role
from engine.rules.schedules import sync_rule_schedules
from engine.work.due_work import run_due
from tests.engine.flow_world import World

T0 = datetime(2026, 11, 26, 1, 0)  # 09:00 in Beijing


@pytest.fixture
def company(saas_world: World) -> World:
    """The flow tests' company at T0 selling a Pro plan; the reps also work as customer success."""
    world = saas_world
    loom = world.loom
    loom.clock.set(T0)
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        sync_rule_schedules(loom, conn, {}, registry.rule_specs(), registry)
    for rep in ("wang.fang", "li.na"):
        add_role(loom, world.ids[rep], "customer_success", actor=SYSTEM)
    world.ids["pro"] = loom.records().create(
        "plan", {"code": "PRO", "name": "专业版", "tier": "pro", "price_per_seat": "99"}
    )["id"]
    return world


def subscribe(world: World, **values: object) -> dict:
    base = {
        "customer": world.customer_id,
        "plan": world.ids["pro"],
        "seats": 50,
        "mrr": "4950",
        "status": "active",
        "current_period_end": "2027-06-30",
        "owner": world.ids["wang.fang"],
    }
    return world.loom.records().create("subscription", {**base, **values})


def test_usage_reported_by_webhook_updates_the_subscription_and_its_churn_risk(company: World) -> None:
    loom = company.loom
    sub = subscribe(company, active_users_30d=40, last_active_at=T0)
    assert (sub["usage_percent"], sub["churn_risk"]) == (80, "low")

    run = loom.rules.fire_inbound(
        "usage_feed", {"subscription_id": sub["id"], "active_users": 20, "api_calls": 900}
    )
    assert run.status == "fired"
    [report] = loom.queries().find("usage_report").records
    assert (report["subscription"], report["active_users"], report["api_calls"]) == (sub["id"], 20, 900)
    after = loom.records().get("subscription", sub["id"])
    assert (after["active_users_30d"], after["usage_percent"], after["churn_risk"]) == (20, 40, "medium")

    loom.rules.fire_inbound("usage_feed", {"subscription_id": sub["id"], "active_users": 0})
    assert loom.records().get("subscription", sub["id"])["churn_risk"] == "high"
    skipped = loom.rules.fire_inbound("usage_feed", {"active_users": 5})
    assert skipped.status == "skipped" and loom.queries().count("usage_report") == 2


def test_nobody_active_for_two_weeks_is_high_risk_whatever_the_seat_count_says(company: World) -> None:
    sub = subscribe(company, active_users_30d=45, last_active_at=T0 - timedelta(days=15))
    assert sub["churn_risk"] == "high"
    assert (
        subscribe(company, status="trial", active_users_30d=0)["churn_risk"] == "low"
    )  # trials are not churn


def test_a_high_churn_risk_opens_one_customer_success_task(company: World) -> None:
    loom = company.loom
    subscribe(company, active_users_30d=10, last_active_at=T0)  # 20 % of seats: high
    subscribe(company, active_users_30d=45, last_active_at=T0)
    for day in range(3):
        loom.clock.set(T0 + timedelta(days=day, hours=1))
        run_due(loom, loom.due_handlers)
    tasks = loom.queries().find("task").records
    assert [(t["subject"], t["owner"]) for t in tasks] == [
        ("流失预警：SUB-2026-00001 席位使用率 20%", company.ids["wang.fang"])
    ]


def test_a_renewal_is_opened_90_days_before_the_term_ends(company: World) -> None:
    loom = company.loom
    sub = subscribe(company, current_period_end="2027-02-26")  # 90 days after T0's date
    run_due(loom, loom.due_handlers)
    assert loom.queries().find("renewal").records == []  # due at 09:00 on 28 November
    loom.clock.set(datetime(2026, 11, 28, 1, 0))
    run_due(loom, loom.due_handlers)
    [renewal] = loom.queries().find("renewal").records
    assert (renewal["subscription"], renewal["renew_on"], renewal["list_amount"], renewal["status"]) == (
        sub["id"],
        date(2027, 2, 26),
        Decimal("59400.00"),
        "draft",
    )
    assert loom.records().get("subscription", sub["id"])["open_renewals"] == 1


def renewal(company: World, discount: int) -> int:
    sub = subscribe(company)
    values = {
        "subscription": sub["id"],
        "customer": company.customer_id,
        "renew_on": "2027-06-30",
        "list_amount": "59400",
        "discount_percent": discount,
    }
    return int(company.loom.records(company.actor("wang.fang")).create("renewal", values)["id"])


def submit(company: World, renewal_id: int):  # type: ignore[no-untyped-def]
    return company.loom.flows.submit("renewal", renewal_id, actor=company.actor("wang.fang"))


def approve(company: World, instance_id: int, username: str) -> None:
    [task] = [t for t in company.pending(instance_id) if t.assignee_id == company.ids[username]]
    company.loom.flows.approve(task.id, actor=company.actor(username))


def status(company: World, renewal_id: int) -> str:
    return company.loom.records().get("renewal", renewal_id)["status"]


def test_a_small_discount_is_approved_at_once(company: World) -> None:
    small = renewal(company, 5)
    instance = submit(company, small)
    assert instance.status == "approved" and status(company, small) == "approved"


def test_above_10_percent_the_manager_approves_and_above_30_finance_too(company: World) -> None:
    medium, deep = renewal(company, 20), renewal(company, 40)
    medium_run, deep_run = submit(company, medium), submit(company, deep)
    assert status(company, medium) == "pending"
    assert [t.assignee_id for t in company.pending(medium_run.id)] == [company.ids["zhang.jingli"]]
    approve(company, medium_run.id, "zhang.jingli")
    assert status(company, medium) == "approved"

    approve(company, deep_run.id, "zhang.jingli")
    assert status(company, deep) == "pending"
    approve(company, deep_run.id, "sun.caiwu")
    assert status(company, deep) == "approved"


def test_a_rejected_renewal_goes_back_to_the_rep(company: World) -> None:
    deep = renewal(company, 35)
    run = submit(company, deep)
    [task] = company.pending(run.id)
    company.loom.flows.reject(task.id, actor=company.actor("zhang.jingli"), comment="折扣过大")
    assert status(company, deep) == "rejected"


def test_a_won_renewal_extends_the_subscription(company: World) -> None:
    loom = company.loom
    won = renewal(company, 0)
    sub_id = loom.records().get("renewal", won)["subscription"]
    loom.records().update("subscription", sub_id, {"status": "past_due"})
    loom.records(company.actor("wang.fang")).update(
        "renewal", won, {"status": "won", "new_period_end": "2028-06-30"}
    )
    sub = loom.records().get("subscription", sub_id)
    assert (sub["current_period_end"], sub["status"]) == (date(2028, 6, 30), "active")


def test_the_customer_sums_the_mrr_of_its_live_subscriptions(company: World) -> None:
    subscribe(company, mrr="4950")
    subscribe(company, mrr="990", status="past_due")
    subscribe(company, mrr="10000", status="cancelled")
    customer = company.loom.records().get("customer", company.customer_id)
    assert (customer["mrr_total"], customer["active_subscriptions"]) == (Decimal("5940.00"), 2)
    option_values = [
        o["value"] for o in company.loom.registry.object("customer").field("source").param("options")
    ]
    assert option_values[-1] == "product_trial"
