"""The demo's sales year: opportunities through the funnel, quotes, contracts through the contract
approval flow, sales orders through the discount approval, and the payments that came in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.base.actors import SYSTEM
from engine.flows import Instance
from runtime.demo import catalog
from runtime.demo.world import ContractPlan, CustomerPlan, OpportunityPlan, World, line_amount, money

OPEN_STAGES = ["initial_contact", "needs_confirmed", "proposal", "negotiation"]
PROBABILITY = {"initial_contact": 10, "needs_confirmed": 30, "proposal": 50, "negotiation": 70}
QUOTED = {"proposal", "negotiation", "won", "lost"}
WIN_CHANCE = {"vip": 0.7, "key": 0.6, "normal": 0.5}
DISCOUNTS = {0: 40, 3: 15, 5: 20, 8: 12, 12: 8, 15: 4, 22: 1}
QUANTITIES = {
    "machine": (1, 6),
    "set": (1, 4),
    "piece": (10, 80),
    "license": (1, 1),
    "year": (1, 3),
    "hour": (20, 120),
    "box": (5, 40),
}
PAST_ORDER_UNIT = {"vip": 7500, "key": 4000, "normal": 2500}  # bigger customers bought bigger before
PAYMENT_SCHEDULES = {
    # terms → (share in percent, days after signing) per instalment
    "prepaid": [(100, 3)],
    "installments": [(30, 5), (60, 60), (10, 365)],
    "on_delivery": [(100, 25)],
    "net_30": [(100, 40)],
}


def write_sales(world: World) -> None:
    for plan in world.customers:
        _plan_opportunities(world, plan)
    _one_flagship_in_negotiation(world)
    _write_opportunities(world)
    _write_contracts(world)
    _write_orders(world)
    _write_payments(world)
    _write_past_orders(world)


# -- opportunities and quotes --------------------------------------------------------------------------


def _plan_opportunities(world: World, plan: CustomerPlan) -> None:
    """Deals follow one another: a new one opens some weeks after the last one closed."""
    rng = world.rng
    if plan.owner is None:
        return
    start = plan.acquired - rng.randint(1, 10)
    for index in range(world.rng.choices([0, 1, 2, 3], weights=[10, 35, 35, 20])[0]):
        if start < 1:
            return
        duration = rng.randint(20, 75)
        close: int | None = start - duration
        if close is not None and close >= 1:
            stage = "won" if rng.random() < WIN_CHANCE[plan.level] else "lost"
        else:
            close = None
            stage = OPEN_STAGES[min(int(start / duration * 4), 3)]
        topic = rng.choice(catalog.OPPORTUNITY_TOPICS)
        deal = OpportunityPlan(
            customer=plan,
            name=f"{plan.short_name}{topic}",
            topic=topic,
            start=start,
            close=close,
            stage=stage,
            contact=rng.choice(plan.contact_ids),
            source="new_business" if index == 0 else rng.choice(["upsell", "renewal", "referral"]),
            lines=_lines(world),
        )
        if stage == "lost":
            deal.lost_reason = world.weighted(catalog.LOST_REASON_WEIGHTS)
            deal.quote_discount = rng.choice([0, 5, 8, 12, 15])
        plan.opportunities.append(deal)
        if close is None:
            return
        start = close - rng.randint(20, 120)


def _one_flagship_in_negotiation(world: World) -> None:
    """A deal past a million stays in negotiation, so the CEO has a contract waiting in the inbox."""
    open_deals = [d for c in world.customers for d in c.opportunities if d.close is None]
    if not open_deals:
        return
    deal = max(
        open_deals, key=lambda d: (deal_amount(world, d) >= 1000000, d.customer.level == "vip", d.start)
    )
    deal.stage = "negotiation"
    if deal_amount(world, deal) < 1000000:
        deal.lines = [("MES-PRO", 1, 5), ("ZJ-3000", 5, 5), ("SV-IMPL", 120, 0)]


def _lines(world: World) -> list[tuple[str, int, int]]:
    rng = world.rng
    if rng.random() < 0.08:  # a flagship project: a plant-wide MES with vision inspection, past a million
        discount = rng.choice([0, 3, 5])
        return [
            ("MES-PRO", 1, discount),
            ("ZJ-3000", rng.randint(4, 8), discount),
            ("SV-IMPL", rng.randint(80, 200), 0),
        ]
    codes = rng.sample([p[0] for p in catalog.PRODUCTS], rng.choice([1, 1, 2, 2, 3]))
    lines = []
    for code in codes:
        unit = next(p[4] for p in catalog.PRODUCTS if p[0] == code)
        low, high = (20, 200) if code == "CRM-SAAS" else QUANTITIES[unit]
        discount = int(world.weighted({str(k): v for k, v in DISCOUNTS.items()}))
        lines.append((code, rng.randint(low, high), discount))
    return lines


def deal_amount(world: World, deal: OpportunityPlan) -> Decimal:
    """What the deal's quote comes to: its lines, less the quote's overall discount."""
    total = sum(
        (line_amount(quantity, world.products[code][1], discount) for code, quantity, discount in deal.lines),
        Decimal(0),
    )
    return money(total * (100 - deal.quote_discount) / 100)


def _write_opportunities(world: World) -> None:
    rng = world.rng
    deals = sorted((d for c in world.customers for d in c.opportunities), key=lambda d: -d.start)
    for deal in deals:
        owner = deal.customer.owner
        assert owner is not None
        amount = deal_amount(world, deal)
        expected = (
            world.day(deal.close)
            if deal.close is not None
            else world.today + dt.timedelta(rng.randint(10, 75))
        )
        values: dict[str, object] = {
            "name": deal.name,
            "customer": deal.customer.id,
            "contact": deal.contact,
            "lead": deal.customer.lead_id if deal.source == "new_business" else None,
            "amount": amount if deal.stage in QUOTED or rng.random() < 0.6 else None,
            "stage": deal.stage,
            "probability": PROBABILITY.get(deal.stage, 10),
            "expected_close_date": expected,
            "source": deal.source,
            "next_step": rng.choice(catalog.NEXT_STEPS),
            "competitors": rng.choice(catalog.COMPETITORS),
        }
        if deal.close is not None:
            # A decided deal carries its real close date (the close rule keeps a given one).
            values.update(closed_on=world.day(deal.close), lost_reason=deal.lost_reason)
        deal.id = world.create_one(
            "opportunity", owner.actor, world.moment(deal.start, world.office_minutes()), values
        )
        if deal.stage in QUOTED:
            _write_quote(world, deal, amount)


def _write_quote(world: World, deal: OpportunityPlan, amount: Decimal) -> None:
    rng = world.rng
    owner = deal.customer.owner
    assert owner is not None
    end = deal.close if deal.close is not None else 0
    day = max(deal.start - max((deal.start - end) // 2, 1), 0)
    expired = deal.stage == "lost" and rng.random() < 0.3
    status = {"won": "accepted", "lost": "expired" if expired else "rejected", "negotiation": "sent"}.get(
        deal.stage, "sent" if rng.random() < 0.7 else "draft"
    )
    values: dict[str, object] = {
        "name": f"{deal.name}报价",
        "customer": deal.customer.id,
        "opportunity": deal.id,
        "contact": deal.contact,
        "quote_date": world.day(day),
        "valid_until": world.day(day - (15 if expired else 30)),
        "status": status,
        "discount": deal.quote_discount,
        "payment_terms": rng.choice(list(PAYMENT_SCHEDULES)),
        "delivery_terms": "合同签订后30天内交货，含安装调试",
        "remark": f"报价总额 {amount} 元",
    }
    if deal.quote_discount > 10:
        values["discount_reason"] = "客户为年度重点项目，竞争激烈，申请特别折扣"
    if status != "draft":
        values["sent_at"] = world.day(day)
    if status in ("accepted", "rejected") and deal.close is not None:
        values["answered_at"] = world.day(deal.close)
    when = world.moment(day, world.office_minutes())
    quote_id = world.create_one("quote", owner.actor, when, values)
    rows = [
        {
            "quote": quote_id,
            "product": world.products[code][0],
            "quantity": quantity,
            "unit_price": world.products[code][1],
            "discount": discount,
        }
        for code, quantity, discount in deal.lines
    ]
    world.create("quote_line", owner.actor, when, rows)


# -- contracts and their approval ----------------------------------------------------------------------


def _write_contracts(world: World) -> None:
    """Won deals become contracts; some deals in negotiation have a draft, or one waiting for approval."""
    rng = world.rng
    plans = []
    for plan in world.customers:
        for deal in plan.opportunities:
            large = deal_amount(world, deal) >= 1000000
            if deal.won or (deal.stage == "negotiation" and (large or rng.random() < 0.6)):
                signed = deal.close if deal.close is not None else rng.randint(0, 6)
                term = (
                    182
                    if all(world.products[c][2] in ("service", "consumable") for c, _, _ in deal.lines)
                    else 365
                )
                terms = rng.choice(list(PAYMENT_SCHEDULES))
                plans.append(ContractPlan(deal, deal_amount(world, deal), terms, signed, signed - term))
    plans.sort(key=lambda c: -c.signed)
    for contract in plans:
        # A contract for a deal still in negotiation is a draft its rep has yet to submit; the large
        # ones already wait for the CEO.
        _write_contract(world, contract, submit=contract.opportunity.won or contract.amount >= 1000000)
    world.contracts = plans


def _write_contract(world: World, contract: ContractPlan, *, submit: bool = True) -> None:
    owner = contract.opportunity.customer.owner
    assert owner is not None
    values = _contract_values(world, contract, owner.id)
    contract.id = world.create_one("contract", owner.actor, world.moment(contract.signed, 30), values)
    if not submit:
        contract.outcome = "draft"
        return
    contract.outcome = _through_approval(world, contract)
    if contract.outcome == "approved":
        # The contract takes effect once approved; approved records are locked, so the system moves it on.
        started = min(world.loom.clock.now() + dt.timedelta(hours=1), world.now)
        world.update("contract", SYSTEM, started, contract.id, {"status": "active"})
        if contract.end > 0:
            ended = world.moment(contract.end, 0)
            world.update("contract", SYSTEM, ended, contract.id, {"status": "expired"})


def _contract_values(world: World, contract: ContractPlan, owner_id: int) -> dict[str, object]:
    deal = contract.opportunity
    if deal.source == "renewal":
        kind = "renewal"
    else:
        kind = "service" if contract.end == contract.signed - 182 else "sales"
    return {
        "name": f"{deal.customer.short_name}{deal.topic}合同",
        "customer": deal.customer.id,
        "opportunity": deal.id,
        "customer_signatory": deal.contact,
        "signed_by": owner_id,
        "type": kind,
        "amount": contract.amount,
        "payment_terms": contract.payment_terms,
        "signed_at": world.day(contract.signed),
        "start_date": world.day(contract.signed),
        "end_date": world.day(contract.end),
    }


def _through_approval(world: World, contract: ContractPlan) -> str:
    """Recent contracts still wait somewhere; about one in eight older ones is rejected, and half of
    those are revised and approved on a second submission."""
    rng, deal = world.rng, contract.opportunity
    owner = deal.customer.owner
    assert owner is not None
    recent = contract.signed <= 6 or not deal.won
    rejected_at = None if recent or rng.random() >= 0.12 else _some_node(world, contract.amount)
    stop_at = _pending_node(world, contract) if recent else None
    status = _approve(world, contract, stop_at=stop_at, reject_at=rejected_at)
    if status == "rejected" and contract.signed >= 15 and rng.random() < 0.5:
        later = contract.signed - 2
        revised = {"remark": "已按审批意见修改后重新提交"}
        world.update("contract", owner.actor, world.moment(later), contract.id, revised)
        status = _approve(world, contract, stop_at=None, reject_at=None, day=later)
    return {"approved": "approved", "rejected": "rejected"}.get(status, "pending")


def _some_node(world: World, amount: Decimal) -> str:
    nodes = (
        ["manager"]
        + (["legal", "finance"] if amount >= 100000 else [])
        + (["ceo"] if amount >= 1000000 else [])
    )
    return world.rng.choice(nodes)


def _pending_node(world: World, contract: ContractPlan) -> str:
    """Where a recent contract waits: with the manager, or further on when it is large."""
    if contract.amount >= 1000000:
        return "ceo"
    return world.rng.choice(["manager", "legal_and_finance"] if contract.amount >= 100000 else ["manager"])


def _approve(
    world: World,
    contract: ContractPlan,
    *,
    stop_at: str | None,
    reject_at: str | None,
    day: int | None = None,
) -> str:
    """Submit the contract as its owner, then let each approver decide a few hours apart."""
    loom, rng = world.loom, world.rng
    owner = contract.opportunity.customer.owner
    assert owner is not None
    day = contract.signed if day is None else day
    minutes = 60
    loom.clock.set(world.moment(day, minutes))
    instance: Instance = loom.flows.submit("contract", contract.id, actor=owner.actor, comment="请审批")
    while instance.status == "running":
        pending = [t for t in loom.flows.tasks(instance.id) if t.status == "pending"]
        nodes = {t.node for t in pending}
        if stop_at in nodes or (stop_at == "legal_and_finance" and nodes & {"legal", "finance"}):
            return "running"
        task = pending[0]
        approver = world.by_id[task.assignee_id]
        minutes += rng.randint(30, 900)
        loom.clock.set(world.moment(day, minutes))
        if task.node == reject_at:
            return loom.flows.reject(
                task.id, actor=approver.actor, comment=catalog.REJECT_REASONS[task.node]
            ).status
        instance = loom.flows.approve(
            task.id, actor=approver.actor, comment=rng.choice(catalog.APPROVAL_COMMENTS)
        )
    return instance.status


# -- orders and payments -------------------------------------------------------------------------------


def _write_orders(world: World) -> None:
    rng = world.rng
    for contract in sorted(world.contracts, key=lambda c: -c.signed):
        day = contract.signed - rng.randint(2, 8)
        if contract.outcome != "approved" or day < 0:
            continue
        contract.order_day = day
        contract.order_id = _write_order(world, contract, day)


def _write_order(world: World, contract: ContractPlan, day: int) -> int:
    rng, deal, loom = world.rng, contract.opportunity, world.loom
    owner = deal.customer.owner
    assert owner is not None
    contact = deal.customer.contacts[deal.customer.contact_ids.index(deal.contact)]
    when = world.moment(day, world.office_minutes())
    values = {
        "customer": deal.customer.id,
        "contract": contract.id,
        "order_date": world.day(day),
        "amount": contract.amount,
        "delivery_date": world.day(day - rng.randint(7, 20)),
        "receiver_name": contact[0],
        "receiver_phone": contact[1],
        "shipping_address": deal.customer.address,
    }
    order_id = world.create_one("sales_order", owner.actor, when, values)
    rows = [
        {
            "sales_order": order_id,
            "product": world.products[code][0],
            "quantity": quantity,
            "unit_price": world.products[code][1],
            "discount": discount,
        }
        for code, quantity, discount in deal.lines
    ]
    world.create("order_line", owner.actor, when, rows)
    status = "completed" if day > 45 else "delivered" if day > 25 else "shipped" if day > 10 else "confirmed"
    if max(discount for _, _, discount in deal.lines) > 10:
        # Deep discounts go through the discount approval; the newest still wait for the manager.
        instance = loom.flows.submit("sales_order", order_id, actor=owner.actor)
        minutes = 120
        while instance.status == "running" and day > 2:
            task = next(t for t in loom.flows.tasks(instance.id) if t.status == "pending")
            minutes += rng.randint(30, 300)
            loom.clock.set(world.moment(day, minutes))
            instance = loom.flows.approve(task.id, actor=world.by_id[task.assignee_id].actor, comment="同意")
        if instance.status != "approved" or status == "confirmed":
            return order_id
    world.update("sales_order", SYSTEM, world.moment(max(day - 7, 0)), order_id, {"status": status})
    return order_id


def _write_payments(world: World) -> None:
    """Each approved contract's instalments add up to its amount; the finance clerk records them.

    A payment counts for the rep who made the sale (回款业绩归属), so the clerk records it in the
    rep's name: the rep sees it, and the customer's reader-scoped 累计回款 adds it up for them.
    """
    rng = world.rng
    finance = world.people["finance"]
    rows: list[tuple[int, dict[str, object]]] = []
    for contract in world.contracts:
        if contract.outcome != "approved":
            continue
        schedule = PAYMENT_SCHEDULES[contract.payment_terms]
        shares = [money(contract.amount * share / 100) for share, _ in schedule[:-1]]
        shares.append(contract.amount - sum(shares, Decimal(0)))
        for number, ((_, after), amount) in enumerate(zip(schedule, shares, strict=True), start=1):
            planned = contract.signed - after
            owner = contract.opportunity.customer.owner
            assert owner is not None
            values: dict[str, object] = {
                "owner": owner.id,
                "customer": contract.opportunity.customer.id,
                "contract": contract.id,
                "sales_order": contract.order_id,
                "installment": number,
                "amount": amount,
                "planned_date": world.day(planned),
                "method": world.weighted(
                    {"bank_transfer": 70, "acceptance_bill": 15, "alipay": 8, "wechat_pay": 7}
                ),
            }
            received = planned - rng.randint(-5, 20)
            if planned > 0 and received >= 0 and rng.random() < (0.92 if planned > 30 else 0.6):
                values.update(
                    status="received", received_at=world.day(received), confirmed_by=finance.id, invoiced=True
                )
                rows.append((received, values))
            else:
                values["status"] = "planned" if planned <= 0 else "overdue"
                if planned > 0:
                    world.overdue.append((contract, number))
                rows.append((max(contract.signed - 1, 0), values))
    rows.sort(key=lambda row: -row[0])
    for day, values in rows:
        world.create_one("payment", finance.actor, world.moment(day, world.office_minutes()), values)
    _settle_targets(world, [values for _, values in rows])


def _settle_targets(world: World, payments: list[dict[str, object]]) -> None:
    """Where each customer's year ends: lifecycle stage and the day of its last follow-up."""
    rng = world.rng
    paid = {p["customer"] for p in payments if p["status"] == "received"}
    for plan in world.customers:
        deals = plan.opportunities
        last_close = min((d.close for d in deals if d.close is not None), default=None)
        quiet_since = plan.acquired if last_close is None else last_close
        if plan.owner is None or not deals:
            plan.target, plan.last_active = "lead", rng.randint(0, min(plan.acquired, 60))
        elif any(d.close is None for d in deals):
            plan.target, plan.last_active = "prospect", rng.randint(0, 10)
        elif plan.id not in paid:
            lost_long_ago = last_close is not None and last_close > 120 and rng.random() < 0.5
            plan.target = "lost" if lost_long_ago else "prospect"
            plan.last_active = rng.randint(90, quiet_since) if lost_long_ago else rng.randint(0, 20)
        elif quiet_since > 45 and rng.random() < 0.3:
            plan.target, plan.last_active = "dormant", rng.randint(31, min(quiet_since, 120))
        else:
            plan.target = "loyal" if sum(d.won for d in deals) >= 2 else "customer"
            plan.last_active = rng.randint(0, 20 if plan.level == "vip" else 12)
        plan.last_active = min(plan.last_active, plan.acquired)


def _write_past_orders(world: World) -> None:
    """Orders from the years before, moved over from the old system when each customer was imported:
    most lost and dormant customers bought before and stopped, so churn and repurchase have a past."""
    habits = world.habits
    for plan in world.customers:
        if plan.owner is None:
            continue
        chance = 0.8 if plan.target in ("lost", "dormant") else 0.2
        if habits.random() >= chance:
            continue
        rows = []
        for _ in range(habits.choice([1, 1, 2, 3])):
            day = habits.randint(max(plan.acquired + 30, 370), 900)  # over a year ago
            rows.append(
                {
                    "customer": plan.id,
                    "order_date": world.day(day),
                    "amount": money(habits.randint(4, 120) * PAST_ORDER_UNIT[plan.level]),
                    "status": "completed",
                    "delivery_date": world.day(day - habits.randint(7, 20)),
                    "shipping_address": plan.address,
                    "remark": "旧系统迁移的历史订单。",
                }
            )
        world.create("sales_order", plan.owner.actor, world.moment(plan.acquired, 30), rows)
