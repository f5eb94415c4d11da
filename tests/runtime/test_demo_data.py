"""Demo data: the same seed gives the same company, its records agree with one another, its approvals
went through the right people, and its users can sign in with the passwords printed for them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.base.clock import Clock
from engine.identity import actor_for, authenticate, get_user, user_by_username
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from runtime.demo.catalog import STAFF
from runtime.demo.data import DemoReport, load_demo_data

NOW = datetime(2026, 11, 26, 9, 0)
SMALL = 20  # customers: enough for every kind of record, quick to load
APPROVER_ROLES = {"sales_manager", "legal", "finance", "ceo"}  # whom the contract approval flow asks


def every(loom: Loom, object_name: str) -> list[dict[str, Any]]:
    records, cursor = [], None
    while True:
        page = loom.queries().find(object_name, limit=500, cursor=cursor)
        records += page.records
        if (cursor := page.next_cursor) is None:
            return records


@pytest.fixture
def demo(crm: Loom) -> tuple[Loom, DemoReport]:
    return crm, load_demo_data(crm, customers=SMALL)


def fresh_demo(path: Path, seed: int) -> Loom:
    loom = Loom(f"sqlite:///{path}", clock=Clock(NOW))
    loom.init()
    install_package(loom, CRM_PACKAGE)
    load_demo_data(loom, seed=seed, customers=SMALL)
    return loom


def company(loom: Loom) -> dict[str, list[tuple]]:
    return {
        "customers": [
            (c["code"], c["name"], c["level"], c["lifecycle"], c["created_at"])
            for c in every(loom, "customer")
        ],
        "contracts": [(c["code"], c["amount"], c["status"], c["signed_at"]) for c in every(loom, "contract")],
        "payments": [(p["code"], p["amount"], p["status"]) for p in every(loom, "payment")],
        "users": [(u, user_by_username(loom, u)["display_name"]) for u in ("admin", "manager1", "sales1")],
    }


def test_the_same_seed_on_an_empty_database_gives_the_same_company(tmp_path: Path) -> None:
    first, second = fresh_demo(tmp_path / "a.db", 7), fresh_demo(tmp_path / "b.db", 7)
    other = fresh_demo(tmp_path / "c.db", 8)
    try:
        assert company(first) == company(second)
        assert company(first)["customers"] != company(other)["customers"]
    finally:
        for loom in (first, second, other):
            loom.close()


def test_the_demo_fills_every_part_of_the_crm_with_records_that_agree(demo: tuple[Loom, DemoReport]) -> None:
    loom, report = demo
    assert report.loaded
    for name in (
        "customer",
        "contact",
        "lead",
        "opportunity",
        "quote",
        "contract",
        "sales_order",
        "payment",
        "service_ticket",
        "followup",
        "task",
    ):
        assert report.counts[name] > 0, name
    assert report.counts["customer"] == SMALL
    stages = {deal["stage"] for deal in every(loom, "opportunity")}
    assert {"won", "lost"} <= stages and stages & {
        "initial_contact",
        "needs_confirmed",
        "proposal",
        "negotiation",
    }
    assert any(lead["in_pool"] and lead["owner"] is None for lead in every(loom, "lead"))
    created = [c["created_at"] for c in every(loom, "customer")]
    assert (NOW - min(created)).days > 200 and (NOW - max(created)).days < 120  # spread over the year
    assert max(created) <= NOW

    customers = {c["id"] for c in every(loom, "customer")}
    assert all(contact["customer"] in customers for contact in every(loom, "contact"))
    contracts = {c["id"]: c for c in every(loom, "contract")}
    paid: dict[int, Decimal] = defaultdict(Decimal)
    received: dict[tuple[int, int], Decimal] = defaultdict(Decimal)  # (customer, rep) → received
    for payment in every(loom, "payment"):
        assert payment["customer"] == contracts[payment["contract"]]["customer"]
        assert payment["owner"] == contracts[payment["contract"]]["owner"]  # the rep's 回款
        paid[payment["contract"]] += payment["amount"]
        if payment["status"] == "received":
            received[(payment["customer"], payment["owner"])] += payment["amount"]
    # 累计回款 is reader-scoped: the rep who owns a customer sees what they collected from it.
    (customer_id, rep_id), total = max(received.items(), key=lambda item: item[1])
    assert loom.records(actor_for(loom, rep_id)).get("customer", customer_id)["total_received"] == total
    for contract_id, total in paid.items():
        assert total <= contracts[contract_id]["amount"]
    quotes = {q["opportunity"]: q for q in every(loom, "quote") if q["status"] == "accepted"}
    for contract in contracts.values():
        if contract["opportunity"] in quotes:
            assert contract["amount"] == quotes[contract["opportunity"]]["amount"]
    year_ago = NOW.date() - timedelta(days=365)
    for order in every(loom, "sales_order"):
        if order["contract"] is None:  # moved over from the old system: from before the demo's year
            assert order["order_date"] < year_ago and order["status"] == "completed"
        else:
            assert order["amount"] == contracts[order["contract"]]["amount"]


def test_approved_contracts_went_through_the_right_approvers_and_some_still_wait(
    demo: tuple[Loom, DemoReport],
) -> None:
    loom, _ = demo
    by_role = {node: user_by_username(loom, node)["id"] for node in ("legal", "finance", "ceo")}
    waiting = 0
    for contract in every(loom, "contract"):
        instance = loom.flows.instance_of("contract", contract["id"])
        deal = loom.records().get("opportunity", contract["opportunity"])
        if deal["stage"] != "won" and contract["amount"] < 1000000:
            # A deal still in negotiation: a draft its owner has yet to submit (the tour submits one).
            assert (contract["status"], instance) == ("draft", None)
            continue
        assert instance is not None and instance.submitter_id == contract["owner"]
        if contract["status"] in ("approved", "active", "expired"):
            assert instance.status == "approved"
        if instance.status == "running":
            waiting += 1
            assert contract["status"] == "pending"  # shown as 审批中
        else:
            assert contract["status"] != "pending"
        expected = {**by_role, "manager": get_user(loom, contract["owner"])["manager_id"]}
        for step in loom.flows.history(instance.id):
            if step["action"] in ("approve", "reject"):
                assert step["actor_id"] == expected[step["node"]], (contract["code"], step["node"])
    assert waiting > 0
    inboxes = [
        loom.flows.pending_for(user_by_username(loom, name)["id"])
        for name, role, *_ in STAFF
        if role in APPROVER_ROLES
    ]
    assert sum(len(tasks) for tasks in inboxes) >= waiting


def test_demo_users_sign_in_with_the_printed_passwords_and_a_second_load_does_nothing(
    demo: tuple[Loom, DemoReport],
) -> None:
    loom, report = demo
    roles = {login.role for login in report.logins}
    assert roles == {"admin", "ceo", "sales_manager", "sales_rep", "service_agent", "finance", "legal"}
    for login in report.logins[:3]:
        actor = authenticate(loom, login.username, login.password)
        assert login.role in actor.roles

    again = load_demo_data(loom, customers=SMALL)
    assert not again.loaded
    assert "already holds data" in again.message
    assert loom.queries().count("customer") == report.counts["customer"]
