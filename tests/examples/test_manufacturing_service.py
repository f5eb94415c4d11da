"""Manufacturing after-sales service: equipment, service contracts, field tickets with SLA escalation,
spare parts — its own rules, exactly as the template ships them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.base.actors import SYSTEM
from engine.base.errors import PackageRefused, RecordInvalid
from engine.identity import actor_for, create_user
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.rules.schedules import sync_rule_schedules
from engine.store.system_tables import notifications
from engine.work.due_work import run_due

T0 = datetime(2026, 11, 26, 1, 0)  # 09:00 in Beijing


@pytest.fixture
def plant(manufacturing: Loom) -> Loom:
    """The template at T0 with one customer, one running machine and its maintenance contract."""
    loom = manufacturing
    loom.clock.set(T0)
    with loom.begin() as conn:  # schedules were planned at install time; plan them from T0
        registry = loom.registry_for(conn)
        sync_rule_schedules(loom, conn, {}, registry.rule_specs(), registry)
    records = loom.records()
    customer = records.create("customer", {"name": "苏州精工机械有限公司"})["id"]
    machine = records.create(
        "equipment",
        {
            "serial_no": "CNC-2024-0831",
            "model": "VMC-850",
            "customer": customer,
            "installed_on": "2026-03-01",
            "last_maintenance_on": "2026-09-01",
            "maintenance_interval_days": 90,
        },
    )["id"]
    contract = records.create(
        "service_contract",
        {
            "customer": customer,
            "equipment": machine,
            "kind": "maintenance",
            "start_date": "2026-03-01",
            "end_date": "2027-02-28",
            "response_hours": 8,
            "annual_fee": "36000",
        },
    )["id"]
    manager = create_user(loom, "he.jingli", "何经理", actor=SYSTEM)["id"]
    loom.ids = {"customer": customer, "machine": machine, "contract": contract, "manager": manager}  # type: ignore[attr-defined]
    return loom


def ticket(loom: Loom, **values: object) -> dict:
    ids = loom.ids  # type: ignore[attr-defined]
    base = {
        "equipment": ids["machine"],
        "customer": ids["customer"],
        "fault_type": "breakdown",
        "fault_summary": "主轴异响",
        "owner": ids["manager"],
        "response_hours": 8,
    }
    return loom.records().create("field_ticket", {**base, **values})


def notified(loom: Loom) -> list[str]:
    with loom.read() as conn:
        return list(conn.execute(select(notifications.c.title).order_by(notifications.c.id)).scalars())


def test_a_tickets_sla_due_time_follows_its_response_time_and_urgent_caps_it_at_four_hours(
    plant: Loom,
) -> None:
    normal = ticket(plant)
    assert normal["sla_due_at"] == T0 + timedelta(hours=8)
    urgent = ticket(plant, priority="urgent", response_hours=24)
    assert urgent["sla_due_at"] == T0 + timedelta(hours=4)
    later = plant.records().update("field_ticket", normal["id"], {"response_hours": 48})
    assert later["sla_due_at"] == T0 + timedelta(hours=48)


def test_a_ticket_past_its_sla_escalates_once_then_again_four_hours_later(plant: Loom) -> None:
    engineer = create_user(plant, "liu.gong", "刘工", actor=SYSTEM)["id"]
    open_ticket = ticket(plant, engineer=engineer, status="dispatched")
    done = ticket(plant, engineer=engineer, status="resolved", resolution="更换轴承")

    plant.clock.set(T0 + timedelta(hours=9))
    run_due(plant, plant.due_handlers)
    escalated = plant.records().get("field_ticket", open_ticket["id"])
    assert (escalated["escalation_level"], escalated["priority"], escalated["sla_breached"]) == (
        1,
        "urgent",
        True,
    )
    assert plant.records().get("field_ticket", done["id"])["escalation_level"] == 0
    assert notified(plant) == [f"现场工单已超过SLA：{open_ticket['code']}"]

    plant.clock.set(T0 + timedelta(hours=10))
    run_due(plant, plant.due_handlers)
    assert plant.records().get("field_ticket", open_ticket["id"])["escalation_level"] == 1  # not yet 4 h late

    plant.clock.set(T0 + timedelta(hours=12, minutes=30))
    run_due(plant, plant.due_handlers)
    assert plant.records().get("field_ticket", open_ticket["id"])["escalation_level"] == 2
    assert notified(plant)[-1] == f"现场工单超时4小时未完工：{open_ticket['code']}"


def test_maintenance_coming_due_opens_one_maintenance_ticket(plant: Loom) -> None:
    machine = plant.records().get("equipment", plant.ids["machine"])  # type: ignore[attr-defined]
    assert machine["next_maintenance_due"] == date(2026, 11, 30)  # 90 days after 1 September
    run_due(plant, plant.due_handlers)
    plant.clock.set(T0 + timedelta(days=1))
    run_due(plant, plant.due_handlers)
    tickets = plant.queries().find("field_ticket").records
    assert [(t["fault_type"], t["equipment"], t["fault_summary"]) for t in tickets] == [
        ("maintenance", machine["id"], "定期保养：VMC-850 CNC-2024-0831")
    ]
    assert tickets[0]["sla_due_at"] == T0 + timedelta(
        days=1, hours=168
    )  # the SLA rule ran on the new ticket too


def test_parts_used_are_priced_and_add_up_on_the_ticket(plant: Loom) -> None:
    records = plant.records()
    bearing = records.create(
        "spare_part", {"part_no": "BRG-6205", "name": "主轴轴承", "stock": 10, "unit_price": "320.50"}
    )["id"]
    seal = records.create(
        "spare_part", {"part_no": "SL-40", "name": "油封", "stock": 50, "unit_price": "12"}
    )["id"]
    job = ticket(plant)
    first = records.create(
        "part_usage", {"ticket": job["id"], "part": bearing, "quantity": 2, "unit_price": "320.50"}
    )
    records.create("part_usage", {"ticket": job["id"], "part": seal, "quantity": 3, "unit_price": "12"})
    assert first["amount"] == Decimal("641.00")
    assert records.get("field_ticket", job["id"])["parts_cost"] == Decimal("677.00")


def test_a_part_falling_below_safety_stock_alerts_its_owner_once(plant: Loom) -> None:
    records = plant.records()
    part = records.create(
        "spare_part",
        {
            "part_no": "BRG-6205",
            "name": "主轴轴承",
            "stock": 6,
            "safety_stock": 5,
            "owner": plant.ids["manager"],
        },  # type: ignore[attr-defined]
    )
    records.update("spare_part", part["id"], {"stock": 4})
    records.update("spare_part", part["id"], {"stock": 3})
    assert notified(plant) == ["备件库存不足：主轴轴承"]
    assert records.get("spare_part", part["id"])["low_stock"] is True


def test_a_dispatched_ticket_needs_an_engineer_and_a_resolved_one_its_resolution(plant: Loom) -> None:
    with pytest.raises(RecordInvalid) as refused:
        ticket(plant, status="resolved")
    assert set(refused.value.fields) == {"engineer", "resolution"}


def test_a_field_engineer_sees_contracts_but_not_their_fees(plant: Loom) -> None:
    engineer = create_user(plant, "liu.gong", "刘工", roles=["field_engineer"], actor=SYSTEM)["id"]
    actor = actor_for(plant, engineer)
    contract = plant.records(actor).get("service_contract", plant.ids["contract"])  # type: ignore[attr-defined]
    assert contract["response_hours"] == 8 and "annual_fee" not in contract
    with pytest.raises(PermissionDenied):
        plant.records(actor).create(
            "service_contract",
            {
                "customer": plant.ids["customer"],  # type: ignore[attr-defined]
                "kind": "warranty",
                "start_date": "2026-01-01",
                "end_date": "2027-01-01",
            },
        )


def test_the_customer_gains_a_service_level_and_counts_its_equipment_and_open_tickets(plant: Loom) -> None:
    customer_id = plant.ids["customer"]  # type: ignore[attr-defined]
    ticket(plant)
    ticket(plant, status="dispatched", engineer=plant.ids["manager"])  # type: ignore[attr-defined]
    customer = plant.records().get("customer", customer_id)
    assert (customer["service_level"], customer["equipment_count"], customer["open_field_tickets"]) == (
        "standard",
        1,
        2,
    )
    assert "service_level" in {f.name for f in plant.registry.object("customer").spec.fields}


def test_uninstalling_the_template_with_its_data_kept_leaves_the_crm_whole(plant: Loom) -> None:
    from engine.packages.uninstall import uninstall_package

    # The contract's expiry reminder is still due: refused until the uninstall is told to cancel it.
    with pytest.raises(PackageRefused, match=r"1 due work item\(s\) \(rule:service_contract_expiry:record:"):
        uninstall_package(plant, "manufacturing_service", keep_data=True)
    plan = uninstall_package(plant, "manufacturing_service", keep_data=True, cancel_pending=True)
    assert plan.lines()[0].startswith("cancelled 1 due work item(s)")
    customer = plant.records().get("customer", plant.ids["customer"])  # type: ignore[attr-defined]
    assert customer["name"] == "苏州精工机械有限公司" and "service_level" not in customer
    assert not plant.registry.has_object("field_ticket")
