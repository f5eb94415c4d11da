"""The CRM's reader-scoped totals on the pages and the API: a rep sees the contracts and payments they
may open, their manager the team's, finance everyone's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.pages_world import PASSWORD, Team, build_team, text


@pytest.fixture
def team(crm: Loom) -> tuple[Team, int]:
    """A customer of 王芳 on which both reps of 销售部 signed a contract and collected a payment."""
    team = build_team(crm)
    customer = team.customer("宁波海曙精密模具有限公司")["id"]
    records = crm.records(SYSTEM)
    for rep, amount, received in (("wang.fang", "100000", "20000"), ("li.na", "30000", "5000")):
        owner = team.ids[rep]
        contract = records.create(
            "contract",
            {
                "name": f"{rep} 模具合同",
                "customer": customer,
                "amount": amount,
                "status": "active",
                "owner": owner,
            },
        )
        records.create(
            "payment",
            {
                "customer": customer,
                "contract": contract["id"],
                "amount": received,
                "status": "received",
                "owner": owner,
            },
        )
    return team, customer


def test_the_customer_page_and_list_show_each_reader_their_own_totals(team: tuple[Team, int]) -> None:
    people, customer = team
    wang = text(people.client("wang.fang").get(f"/app/customer/{customer}"))
    manager = text(people.client("zhang.jingli").get(f"/app/customer/{customer}"))
    assert "¥100,000.00" in wang and "¥130,000.00" not in wang  # 合同总额: only 王芳's contract
    assert "¥130,000.00" in manager  # the whole team's
    # The list's 累计回款 column, one row per customer.
    assert "¥20,000.00" in text(people.client("wang.fang").get("/app/customer"))
    assert "¥5,000.00" in text(people.client("li.na").get("/app/customer"))
    assert "¥25,000.00" in text(people.client("zhang.jingli").get("/app/customer"))


def test_the_api_gives_each_caller_their_own_totals(team: tuple[Team, int]) -> None:
    people, customer = team
    client = people.app.test_client()

    def total(username: str, field: str) -> Decimal:
        body = {"username": username, "password": PASSWORD, "name": "tests"}
        token = client.post("/api/v1/auth/token", json=body).get_json()["token"]
        response = client.get(
            f"/api/v1/records/customer/{customer}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_json()
        return Decimal(response.get_json()[field])

    assert total("li.na", "total_contract_amount") == Decimal("30000")
    assert total("li.na", "total_received") == Decimal("5000")
    assert total("zhao.caiwu", "total_contract_amount") == Decimal("130000")
    assert total("zhao.caiwu", "total_received") == Decimal("25000")
