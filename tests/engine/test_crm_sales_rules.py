"""The standard CRM's own sales and service rules: funnel stage criteria, quotes, tickets, follow-ups —
each through a real save on the installed package."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from engine.base.actors import SYSTEM
from engine.base.errors import RecordInvalid
from engine.identity import create_user
from engine.loom import Loom

PROPOSAL_AMOUNT = "From the proposal stage on, an opportunity needs an amount"
PROPOSAL_CONTACT = "From the proposal stage on, an opportunity needs a key contact"


@pytest.fixture
def buyer(crm: Loom) -> dict[str, Any]:
    customer = crm.records().create("customer", {"name": "苏州精工机械有限公司"})
    contact = crm.records().create("contact", {"name": "王芳", "customer": customer["id"]})
    return {"customer": customer["id"], "contact": contact["id"]}


def refused(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(RecordInvalid) as error:
        call()
    return error.value.fields


# -- the funnel ----------------------------------------------------------------------------------------


def test_entering_the_proposal_stage_needs_an_amount_and_a_key_contact(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    deal = records.create("opportunity", {"name": "产线质检升级", "customer": buyer["customer"]})
    assert refused(lambda: records.update("opportunity", deal["id"], {"stage": "proposal"})) == {
        "amount": [PROPOSAL_AMOUNT],
        "contact": [PROPOSAL_CONTACT],
    }
    assert records.get("opportunity", deal["id"])["stage"] == "initial_contact"

    moved = records.update(
        "opportunity", deal["id"], {"stage": "proposal", "amount": "180000", "contact": buyer["contact"]}
    )
    assert moved["stage"] == "proposal"


def test_the_first_stages_need_neither_amount_nor_contact(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    for stage in ("initial_contact", "needs_confirmed"):
        deal = records.create(
            "opportunity", {"name": "MES系统建设", "customer": buyer["customer"], "stage": stage}
        )
        assert deal["amount"] is None and deal["contact"] is None


def test_negotiation_needs_an_expected_close_date(crm: Loom, buyer: dict) -> None:
    values = {"name": "设备年度采购", "stage": "negotiation", "amount": "90000", **buyer}
    assert refused(lambda: crm.records().create("opportunity", values)) == {
        "expected_close_date": ["An opportunity in negotiation needs an expected close date"]
    }
    deal = crm.records().create("opportunity", {**values, "expected_close_date": "2026-12-20"})
    assert deal["expected_close_date"] == date(2026, 12, 20)


def test_a_won_deal_records_today_as_its_close_date_and_is_certain(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    deal = records.create("opportunity", {"name": "维保服务续签", "amount": "36000", **buyer})
    won = records.update("opportunity", deal["id"], {"stage": "won"})
    assert (won["closed_on"], won["probability"]) == (crm.clock.today(), Decimal(100))

    earlier = records.create("opportunity", {"name": "备品备件", "amount": "8000", **buyer})
    given = records.update("opportunity", earlier["id"], {"stage": "won", "closed_on": "2026-11-20"})
    assert given["closed_on"] == date(2026, 11, 20)  # a close date given is kept


def test_a_won_deal_cannot_lose_its_close_date_or_amount(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    deal = records.create("opportunity", {"name": "维保服务续签", "amount": "36000", **buyer})
    records.update("opportunity", deal["id"], {"stage": "won"})
    assert refused(
        lambda: records.update("opportunity", deal["id"], {"closed_on": None, "amount": None})
    ) == {
        "amount": [PROPOSAL_AMOUNT],
        "closed_on": ["A won opportunity needs the date it closed"],
    }


def test_a_lost_deal_needs_the_reason_it_was_lost(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    deal = records.create("opportunity", {"name": "数据看板项目", **buyer})
    assert refused(lambda: records.update("opportunity", deal["id"], {"stage": "lost"})) == {
        "lost_reason": ["A lost opportunity needs the reason it was lost"]
    }
    lost = records.update("opportunity", deal["id"], {"stage": "lost", "lost_reason": "competitor"})
    assert (lost["probability"], lost["closed_on"]) == (Decimal(0), crm.clock.today())


# -- quotes --------------------------------------------------------------------------------------------


def quote_with_lines(crm: Loom, buyer: dict, *lines: tuple[str, str, str], **values: Any) -> dict:
    records = crm.records()
    quote = records.create("quote", {"name": "产线质检升级报价", **buyer, **values})
    for index, (quantity, price, discount) in enumerate(lines):
        product = records.create(
            "product", {"code": f"P-{index}", "name": f"产品{index}", "unit_price": price}
        )
        records.create(
            "quote_line",
            {
                "quote": quote["id"],
                "product": product["id"],
                "quantity": quantity,
                "unit_price": price,
                "discount": discount,
            },
        )
    return records.get("quote", quote["id"])


def test_a_quote_adds_up_its_lines_then_takes_off_the_overall_discount(crm: Loom, buyer: dict) -> None:
    quote = quote_with_lines(crm, buyer, ("2", "68000", "5"), ("40", "1280", "0"), discount="3")
    assert quote["lines_amount"] == Decimal("180400.00")  # 2 × 68,000 × 95 % + 40 × 1,280
    assert quote["max_line_discount"] == Decimal(5)
    assert quote["amount"] == Decimal("174988.00")
    [first, _] = crm.queries().find("quote_line", sort="created_at").records
    assert first["amount"] == Decimal("129200.00")


def test_a_changed_line_changes_its_amount_and_the_quote_total(crm: Loom, buyer: dict) -> None:
    quote = quote_with_lines(crm, buyer, ("1", "9800", "0"))
    [line] = crm.queries().find("quote_line").records
    crm.records().update("quote_line", line["id"], {"quantity": "3"})
    assert crm.records().get("quote", quote["id"])["amount"] == Decimal("29400.00")


def test_a_new_quote_is_valid_for_30_days_and_cannot_expire_before_its_date(crm: Loom, buyer: dict) -> None:
    quote = crm.records().create("quote", {"name": "报价", **buyer})
    today = crm.clock.today()
    assert (quote["status"], quote["quote_date"], quote["valid_until"]) == (
        "draft",
        today,
        today + timedelta(days=30),
    )
    assert refused(lambda: crm.records().update("quote", quote["id"], {"valid_until": "2026-01-01"})) == {
        "valid_until": ["A quote cannot expire before its quote date"]
    }


def test_an_overall_discount_above_10_percent_needs_a_reason(crm: Loom, buyer: dict) -> None:
    values = {"name": "报价", **buyer, "discount": "12"}
    assert refused(lambda: crm.records().create("quote", values)) == {
        "discount_reason": ["An overall discount above 10 % needs a reason"]
    }
    assert crm.records().create("quote", {**values, "discount_reason": "年度框架客户"})["discount"] == 12
    assert crm.records().create("quote", {**values, "discount": "10"})["discount_reason"] is None


def test_a_quote_is_sent_to_a_contact_on_a_date(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    quote = records.create("quote", {"name": "报价", "customer": buyer["customer"]})
    assert refused(lambda: records.update("quote", quote["id"], {"status": "sent"})) == {
        "contact": ["A quote needs a customer contact before it is sent"],
        "sent_at": ["A sent quote needs the date it was sent"],
    }
    sent = records.update(
        "quote", quote["id"], {"status": "sent", "contact": buyer["contact"], "sent_at": "2026-11-26"}
    )
    assert sent["status"] == "sent"


# -- service tickets -----------------------------------------------------------------------------------


def open_ticket(crm: Loom, buyer: dict, **values: Any) -> dict:
    return crm.records().create(
        "service_ticket",
        {"title": "设备无法开机", "customer": buyer["customer"], "description": "开机无反应", **values},
    )


def test_assigning_an_engineer_dispatches_the_ticket(crm: Loom, buyer: dict) -> None:
    ticket = open_ticket(crm, buyer)
    assert (ticket["status"], ticket["dispatched_at"]) == ("new", None)
    assert refused(lambda: crm.records().update("service_ticket", ticket["id"], {"status": "assigned"})) == {
        "engineer": ["A dispatched ticket needs an engineer"]
    }
    engineer = create_user(crm, "chen.jie", "陈杰", actor=SYSTEM)["id"]
    dispatched = crm.records().update("service_ticket", ticket["id"], {"engineer": engineer})
    assert (dispatched["status"], dispatched["dispatched_at"]) == ("assigned", crm.clock.now())


def test_a_resolved_ticket_has_its_solution_and_times_and_is_rated_only_then(crm: Loom, buyer: dict) -> None:
    records = crm.records()
    ticket = open_ticket(crm, buyer)
    assert refused(lambda: records.update("service_ticket", ticket["id"], {"satisfaction": 5})) == {
        "satisfaction": ["Satisfaction is rated once the ticket is resolved"]
    }
    assert refused(lambda: records.update("service_ticket", ticket["id"], {"status": "resolved"})) == {
        "solution": ["A resolved or closed ticket needs its solution"]
    }
    resolved = records.update("service_ticket", ticket["id"], {"status": "resolved", "solution": "更换电源"})
    assert (resolved["resolved_at"], resolved["closed_at"]) == (crm.clock.now(), None)
    crm.clock.set(crm.clock.now() + timedelta(hours=5))
    closed = records.update("service_ticket", ticket["id"], {"status": "closed", "satisfaction": 2})
    assert closed["resolved_at"] == resolved["resolved_at"] and closed["closed_at"] == crm.clock.now()
    [task] = crm.queries().find("task", filter=f"service_ticket == {ticket['id']}").records
    assert (task["category"], task["priority"]) == ("service", "high")  # a rating below 3 gets a call-back


# -- follow-ups ----------------------------------------------------------------------------------------


def test_a_follow_up_moves_the_customers_last_and_next_follow_up(crm: Loom, buyer: dict) -> None:
    when = crm.clock.now() - timedelta(hours=2)
    crm.records().create(
        "followup",
        {
            "subject": "电话沟通",
            "content": "客户有意向",
            "followup_at": when,
            "next_followup_at": when + timedelta(days=7),
            "customer": buyer["customer"],
        },
    )
    customer = crm.records().get("customer", buyer["customer"])
    assert (customer["last_followup_at"], customer["next_followup_at"]) == (when, when + timedelta(days=7))
    assert customer["days_silent"] == 0


def test_a_follow_up_marks_a_new_lead_contacted(crm: Loom) -> None:
    lead = crm.records().create("lead", {"name": "李娜", "company": "杭州星河科技有限公司"})
    crm.records().create("followup", {"subject": "首次电话联系", "content": "有需求", "lead": lead["id"]})
    followed = crm.records().get("lead", lead["id"])
    assert (followed["status"], followed["last_followup_at"]) == ("contacted", crm.clock.now())


def test_the_first_follow_up_of_a_lead_stamps_its_first_response_once(crm: Loom) -> None:
    arrived = crm.clock.now()
    lead = crm.records().create("lead", {"name": "李娜", "company": "杭州星河科技有限公司"})
    first = arrived + timedelta(hours=5, minutes=40)
    for when in (first, first + timedelta(days=2)):
        crm.records().create(
            "followup", {"subject": "电话联系", "content": "有需求", "lead": lead["id"], "followup_at": when}
        )
    followed = crm.records().get("lead", lead["id"])
    assert (followed["first_followup_at"], followed["last_followup_at"]) == (first, first + timedelta(days=2))
    assert followed["first_response_hours"] == 5  # whole hours
    assert crm.queries().count("lead", filter="first_response_hours == 5") == 1
    assert (
        crm.records().get("lead", crm.records().create("lead", {"name": "张伟"})["id"])[
            "first_response_hours"
        ]
        is None
    )  # not followed up yet


def test_a_customers_orders_give_its_order_count_last_order_date_and_lifetime_value(
    crm: Loom, buyer: dict
) -> None:
    for day, amount, status in (
        ("2025-03-02", "1000.50", "completed"),
        ("2026-05-20", "2000", "confirmed"),
        ("2026-09-01", "99999", "cancelled"),
    ):
        crm.records().create(
            "sales_order",
            {"customer": buyer["customer"], "order_date": day, "amount": amount, "status": status},
        )
    customer = crm.records().get("customer", buyer["customer"])
    assert (customer["order_count"], customer["last_order_date"], customer["lifetime_value"]) == (
        2,
        date(2026, 5, 20),
        Decimal("3000.50"),
    )


def test_people_read_validation_messages_in_their_own_language(crm: Loom, buyer: dict) -> None:
    from engine.identity import actor_for

    messages = {}
    for username, locale in (("li.xiaoshou", "zh_CN"), ("amy.sales", "en")):
        user = create_user(crm, username, username, roles=["admin"], locale=locale, actor=SYSTEM)
        records = crm.records(actor_for(crm, user["id"]))
        deal = records.create("opportunity", {"name": "数据看板项目", **buyer})
        messages[locale] = refused(lambda: records.update("opportunity", deal["id"], {"stage": "lost"}))  # noqa: B023
    assert messages == {
        "zh_CN": {"lost_reason": ["输单须选择输单原因"]},
        "en": {"lost_reason": ["A lost opportunity needs the reason it was lost"]},
    }


def test_a_taken_product_code_is_a_field_error_on_create_update_and_bulk(crm: Loom) -> None:
    from engine.base.errors import BulkInvalid

    records = crm.records()
    first = records.create("product", {"code": "CNC-850", "name": "立式加工中心"})
    second = records.create("product", {"code": "CNC-1060", "name": "龙门加工中心"})
    taken = [f"CNC-850 is already used by product {first['id']}"]
    assert refused(lambda: records.create("product", {"code": "CNC-850", "name": "复制品"})) == {
        "code": taken
    }
    assert refused(lambda: records.update("product", second["id"], {"code": "CNC-850"})) == {"code": taken}
    assert records.update("product", first["id"], {"name": "立式加工中心 V2"})["code"] == "CNC-850"
    with pytest.raises(BulkInvalid) as bulk:
        records.bulk_create("product", [{"code": "NEW-1", "name": "甲"}, {"code": "NEW-1", "name": "乙"}])
    assert bulk.value.rows == {1: {"code": ["NEW-1 is also in an earlier row"]}}
    assert crm.queries().count("product") == 2
