"""The demo's day-to-day work: follow-ups with customers and leads, service tickets from the first
call to the satisfaction rating, and the reps' to-do lists."""

from __future__ import annotations

import datetime as dt

from runtime.demo import catalog
from runtime.demo.world import CustomerPlan, World

SLA_HOURS = {"urgent": 4, "high": 8, "medium": 24, "low": 72}
FOLLOWUP_TYPES = {"call": 40, "wechat": 25, "visit": 15, "email": 10, "meeting": 10}
PAST_TASKS = ["准备技术交流材料", "发送产品手册和案例", "安排样机演示", "整理客户需求清单", "核对报价明细"]


def write_service(world: World) -> None:
    _write_followups(world)
    _write_tickets(world)
    _write_tasks(world)


# -- follow-ups ----------------------------------------------------------------------------------------


def _write_followups(world: World) -> None:
    """Every customer is followed up from the day it arrived until the day it went quiet; the
    package's rule keeps each customer's last and next follow-up in step."""
    rows: list[tuple[int, int, dict[str, object]]] = []
    for plan in world.customers:
        if plan.owner is not None:
            rows += [(day, plan.owner.id, _followup(world, plan, day)) for day in _followup_days(world, plan)]
    for lead_id, owner_id, arrived, created in world.worked_leads:
        days = sorted({max(arrived - world.rng.randint(0, 3), 0), max(arrived - world.rng.randint(4, 12), 0)})
        for day in days:
            values = _lead_followup(world, lead_id, day)
            if day == days[-1]:  # the first call: as soon as this rep gets round to new leads
                values["followup_at"] = world.first_response(owner_id, created)
            rows.append((day, owner_id, values))
    rows.sort(key=lambda row: row[2]["followup_at"])  # type: ignore[arg-type,return-value]
    for _, owner_id, values in rows:
        when = values["followup_at"]
        world.create("followup", world.by_id[owner_id].actor, when, [values])  # type: ignore[arg-type]


def _followup_days(world: World, plan: CustomerPlan) -> list[int]:
    """From the day the customer arrived to its last activity, every few weeks (VIPs more often)."""
    rng = world.rng
    low, high = (12, 35) if plan.level == "vip" else (25, 75)
    days, day = [], plan.acquired
    while day > plan.last_active:
        days.append(day)
        day -= rng.randint(low, high)
    days.append(plan.last_active)
    return days


def _followup(world: World, plan: CustomerPlan, day: int) -> dict[str, object]:
    rng = world.rng
    kind = world.weighted(FOLLOWUP_TYPES)
    open_deals = [d for d in plan.opportunities if d.start >= day >= (d.close if d.close is not None else 0)]
    outcome = world.weighted({"positive": 45, "neutral": 40, "negative": 15})
    when = world.moment(day, world.office_minutes())
    values: dict[str, object] = {
        "subject": rng.choice(catalog.FOLLOWUP_SUBJECTS[kind]),
        "type": kind,
        "followup_at": when,
        "content": rng.choice(catalog.FOLLOWUP_CONTENT[outcome]),
        "outcome": outcome,
        "next_step": rng.choice(catalog.NEXT_STEPS),
        "next_followup_at": when + dt.timedelta(days=rng.randint(3, 21)),
        "customer": plan.id,
        "contact": rng.choice(plan.contact_ids),
        "opportunity": open_deals[0].id if open_deals else None,
        "duration_minutes": rng.choice([5, 10, 15, 30, 60, 90, 120]),
    }
    if kind == "visit":
        values["location"] = plan.address
    return values


def _lead_followup(world: World, lead_id: int, day: int) -> dict[str, object]:
    rng = world.rng
    return {
        "subject": rng.choice(["首次电话联系", "了解采购需求", "发送产品资料"]),
        "type": rng.choice(["call", "wechat", "email"]),
        "followup_at": world.moment(day, world.office_minutes()),
        "content": rng.choice(
            [
                "客户有初步需求，约定下周详细沟通。",
                "已发送产品资料，等待反馈。",
                "客户在做年度预算，需求待确认。",
            ]
        ),
        "outcome": rng.choice(["positive", "neutral"]),
        "lead": lead_id,
    }


# -- service tickets -----------------------------------------------------------------------------------


def _write_tickets(world: World) -> None:
    """Customers who bought call in; the service desk dispatches, resolves and asks for a rating."""
    rng = world.rng
    tickets: list[tuple[int, CustomerPlan, int]] = []
    for contract in world.contracts:
        if contract.order_day is None:
            continue
        plan = contract.opportunity.customer
        for _ in range(rng.choices([0, 1, 2, 3], weights=[40, 35, 18, 7])[0]):
            codes = [code for code, _, _ in contract.opportunity.lines]
            tickets.append((rng.randint(0, contract.order_day), plan, world.products[rng.choice(codes)][0]))
    tickets.sort(key=lambda t: -t[0])
    for day, plan, product_id in tickets:
        _write_ticket(world, day, plan, product_id)


def _write_ticket(world: World, day: int, plan: CustomerPlan, product_id: int) -> None:
    rng = world.rng
    desk = world.with_role("service_agent")
    agent, engineer = rng.choice(desk), rng.choice(desk)
    category = world.weighted(
        {
            "repair": 30,
            "maintenance": 20,
            "consultation": 20,
            "installation": 17,
            "complaint": 7,
            "return_exchange": 6,
        }
    )
    priority = world.weighted({"low": 15, "medium": 50, "high": 25, "urgent": 10})
    title = rng.choice(catalog.TICKETS[category])
    contact = rng.randrange(len(plan.contact_ids))
    opened = world.moment(day, world.office_minutes())
    fate = (
        "closed"
        if day >= 5 and rng.random() < 0.85
        else "resolved"
        if day >= 2
        else rng.choice(["new", "assigned", "in_progress"])
    )
    values: dict[str, object] = {
        "title": title,
        "customer": plan.id,
        "contact": plan.contact_ids[contact],
        "product": product_id,
        "category": category,
        "priority": priority,
        "channel": world.weighted({"phone": 45, "wechat": 30, "email": 10, "web": 10, "onsite": 5}),
        "description": f"{plan.contacts[contact][0]}反映：{title}，请尽快安排处理。",
        "sla_due_at": opened + dt.timedelta(hours=SLA_HOURS[priority]),
    }
    if fate != "new":
        values["engineer"] = engineer.id  # the dispatch rule stamps the time and marks it assigned
    ticket_id = world.create_one("service_ticket", agent.actor, opened, values)
    if fate == "in_progress":
        world.update(
            "service_ticket",
            engineer.actor,
            opened + dt.timedelta(minutes=40),
            ticket_id,
            {"status": "in_progress"},
        )
    if fate in ("resolved", "closed"):
        hours = rng.choice([2, 3, 6, 10, 20, 30, 50, 70])
        resolution = rng.choice(list(catalog.SOLUTIONS))
        changes: dict[str, object] = {
            "status": fate,
            "resolution_type": resolution,
            "solution": catalog.SOLUTIONS[resolution],
        }
        if hours > SLA_HOURS[priority]:
            changes.update(
                escalated=True, escalated_at=values["sla_due_at"], escalation_reason="超过SLA截止时间未解决"
            )
        if fate == "closed":
            score = int(world.weighted(catalog.SATISFACTION_BY_CATEGORY.get(category, catalog.SATISFACTION)))
            changes.update(satisfaction=score, feedback=catalog.FEEDBACK[score])
        done = min(opened + dt.timedelta(hours=hours), world.now)
        world.update("service_ticket", engineer.actor, done, ticket_id, changes)


# -- tasks ---------------------------------------------------------------------------------------------


def _write_tasks(world: World) -> None:
    """Open deals and overdue payments have a to-do; past work shows as completed tasks."""
    rng = world.rng
    rows: list[tuple[int, int, dict[str, object]]] = []
    for plan in world.customers:
        if plan.owner is None:
            continue
        for deal in plan.opportunities:
            if deal.close is None:
                due = world.today + dt.timedelta(days=rng.randint(-3, 10))
                rows.append(
                    (
                        rng.randint(0, min(deal.start, 7)),
                        plan.owner.id,
                        {
                            "subject": f"跟进商机：{deal.name}",
                            "category": "followup",
                            "priority": rng.choice(["medium", "high"]),
                            "due_date": due,
                            "status": "in_progress" if due < world.today else "not_started",
                            "customer": plan.id,
                            "opportunity": deal.id,
                            "contact": deal.contact,
                        },
                    )
                )
        for _ in range(rng.choice([0, 1, 1, 2])):
            day = rng.randint(max(plan.last_active, 3), max(plan.acquired, 3))
            rows.append(
                (
                    day,
                    plan.owner.id,
                    {
                        "subject": rng.choice(PAST_TASKS),
                        "category": "followup",
                        "due_date": world.day(day - 2),
                        "status": "completed",
                        "completed_at": world.moment(max(day - 1, 0), 420),
                        "customer": plan.id,
                    },
                )
            )
    rows += _collection_tasks(world)
    rows.sort(key=lambda row: -row[0])
    for day, owner_id, values in rows:
        world.create_one(
            "task", world.by_id[owner_id].actor, world.moment(day, world.office_minutes()), values
        )


def _collection_tasks(world: World) -> list[tuple[int, int, dict[str, object]]]:
    """A reminder to chase each overdue instalment, for the contract's owner."""
    rows = []
    for contract, installment in world.overdue:
        owner = contract.opportunity.customer.owner
        assert owner is not None
        deal = contract.opportunity
        rows.append(
            (
                world.rng.randint(0, 3),
                owner.id,
                {
                    "subject": f"催收回款：{deal.customer.short_name}{deal.topic}合同 第{installment}期",
                    "category": "collection",
                    "priority": "high",
                    "due_date": world.today + dt.timedelta(days=world.rng.randint(1, 7)),
                    "customer": deal.customer.id,
                    "contract": contract.id,
                },
            )
        )
    return rows
