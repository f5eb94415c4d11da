"""The kanban board: columns by a select field; moving a card saves through the engine, rules and all."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.pages_world import Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def deal(team: Team, name: str, **values: object) -> dict:
    customer = team.customer(f"{name}的客户")
    return team.loom.records(team.actor("wang.fang")).create(
        "opportunity", {"name": name, "customer": customer["id"], "amount": "50000", **values}
    )


def test_the_board_has_a_column_per_stage_with_its_cards(team: Team) -> None:
    first = deal(team, "MES 升级")
    deal(team, "检测设备", stage="needs_confirmed")
    page = text(team.client("wang.fang").get("/app/opportunity/kanban"))
    columns = page.split('data-column="')[1:]
    assert [column.split('"')[0] for column in columns] == [
        "initial_contact",
        "needs_confirmed",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    assert "MES 升级" in columns[0] and "检测设备" in columns[1]
    assert f'data-id="{first["id"]}" data-version="1"' in columns[0]


def test_moving_a_card_saves_the_stage_and_a_refused_move_says_why(team: Team) -> None:
    opportunity = deal(team, "MES 升级")
    client = team.client("wang.fang")
    headers = {"X-CSRFToken": csrf(client)}
    url = f"/app/opportunity/{opportunity['id']}/move"
    moved = client.post(
        url, json={"field": "stage", "value": "needs_confirmed", "version": 1}, headers=headers
    )
    assert moved.get_json() == {"ok": True, "version": 2}
    refused = client.post(url, json={"field": "stage", "value": "proposal", "version": 2}, headers=headers)
    assert refused.get_json()["ok"] is False
    assert "关键联系人" in refused.get_json()["errors"][0]  # the package's own validation rule
    assert team.loom.records().get("opportunity", opportunity["id"])["stage"] == "needs_confirmed"


def test_the_move_form_works_without_script(team: Team) -> None:
    opportunity = deal(team, "MES 升级")
    client = team.client("wang.fang")
    form = {"csrf_token": csrf(client), "field": "stage", "value": "needs_confirmed", "version": "1"}
    response = client.post(f"/app/opportunity/{opportunity['id']}/move", data=form, follow_redirects=True)
    assert "已移动" in text(response)
    assert team.loom.records().get("opportunity", opportunity["id"])["stage"] == "needs_confirmed"


def test_a_card_of_someone_else_cannot_be_moved(team: Team) -> None:
    customer = team.customer("李娜的客户", owner="li.na")
    opportunity = team.loom.records(team.actor("li.na")).create(
        "opportunity", {"name": "李娜的商机", "customer": customer["id"]}
    )
    client = team.client("wang.fang")
    response = client.post(
        f"/app/opportunity/{opportunity['id']}/move",
        json={"field": "stage", "value": "lost"},
        headers={"X-CSRFToken": csrf(client)},
    )
    assert response.get_json()["ok"] is False
    assert team.loom.records().get("opportunity", opportunity["id"])["stage"] == "initial_contact"
