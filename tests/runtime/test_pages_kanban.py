"""The kanban board: columns by a select field; moving a card saves through the engine, rules and all."""

from __future__ import annotations

import re

import pytest

from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec
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
    assert moved.get_json()["ok"] is True and moved.get_json()["version"] == 2
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


@pytest.mark.both_databases("sums of decimals are SQL of each database")
def test_each_column_shows_its_count_and_the_sum_of_its_amounts(team: Team) -> None:
    deal(team, "MES 升级", amount="120000")
    deal(team, "检测设备", amount="30000.50")
    deal(team, "产线改造", stage="needs_confirmed", amount="800000")
    page = text(team.client("wang.fang").get("/app/opportunity/kanban"))
    columns = {c.split('"')[0]: c for c in page.split('data-column="')[1:]}
    assert 'data-count title="本列卡片数">2<' in columns["initial_contact"]
    assert "¥150,000.50" in columns["initial_contact"]
    assert "¥800,000.00" in columns["needs_confirmed"]
    assert 'data-count title="本列卡片数">0<' in columns["won"] and "¥0.00" in columns["won"]


def test_a_move_answers_the_new_counts_and_sums_for_the_boards_filter(team: Team) -> None:
    moved_deal = deal(team, "MES 升级", amount="120000")
    deal(team, "检测设备", amount="30000")
    client = team.client("wang.fang")
    body = {"field": "stage", "value": "needs_confirmed", "version": 1, "query": "q=MES"}
    moved = client.post(
        f"/app/opportunity/{moved_deal['id']}/move", json=body, headers={"X-CSRFToken": csrf(client)}
    ).get_json()
    assert moved["columns"]["needs_confirmed"] == {"count": 1, "sum": "¥120,000.00"}
    assert moved["columns"]["initial_contact"] == {"count": 0, "sum": "¥0.00"}  # 检测设备 is not searched for


def test_a_long_column_loads_more_cards_instead_of_hiding_them(team: Team) -> None:
    customer = team.customer("大客户")
    team.loom.records().bulk_create(
        "opportunity",
        [
            {
                "name": f"商机{i:02d}",
                "customer": customer["id"],
                "amount": "1000",
                "owner": team.ids["wang.fang"],
            }
            for i in range(45)
        ],
    )
    client = team.client("wang.fang")
    page = text(client.get("/app/opportunity/kanban?sort=name"))
    first = page.split('data-column="')[1]
    assert first.count('class="kanban-card"') == 20 and ">45<" in first
    cursor = first.split('data-more="')[1].split('"')[0]
    seen = 20
    while cursor:
        more = client.get(
            "/app/opportunity/kanban/cards",
            query_string={"by": "stage", "value": "initial_contact", "cursor": cursor, "sort": "name"},
        ).get_json()
        seen += more["html"].count('class="kanban-card"')
        cursor = more["cursor"]
    assert seen == 45 and "商机44" in more["html"]
    odd = client.get("/app/opportunity/kanban/cards", query_string={"by": "stage", "value": "x"})
    assert odd.status_code == 404
    bad = client.get("/app/opportunity/kanban/cards", query_string={"value": "won", "cursor": "not-a-cursor"})
    assert bad.status_code == 200 and bad.get_json()["html"] == ""


def contract_cards(team: Team, card_fields: list[str] | None) -> str:
    spec = team.loom.registry.object("contract").spec.to_json()
    kanban = {"group_by": "status", **({"card_fields": card_fields} if card_fields is not None else {})}
    apply_objects(
        team.loom,
        [ObjectSpec.from_json({**spec, "kanban": kanban})],
    )
    customer = team.customer("华东精密")
    team.loom.records().create(
        "contract",
        {
            "name": "年度维保合同",
            "customer": customer["id"],
            "amount": "120000",
            "cost_price": "80000",
            "owner": team.ids["wang.fang"],
        },
    )
    return text(team.client("wang.fang").get("/app/contract/kanban"))


def test_cards_show_the_objects_card_fields_in_their_order_but_never_a_hidden_one(team: Team) -> None:
    board = contract_cards(team, ["amount", "cost_price", "owner", "customer"])
    card = board[board.index("年度维保合同") : board.index("</li>", board.index("年度维保合同"))]
    assert re.findall(r"<dt>([^<]+)</dt>", card) == [
        "合同金额",
        "负责人",
        "客户",
    ]  # cost_price is hidden from reps
    assert "华东精密" in card and "王芳" in card and "80,000" not in card


def test_without_card_fields_cards_show_the_first_list_columns(team: Team) -> None:
    board = contract_cards(team, None)
    card = board[board.index("年度维保合同") : board.index("</li>", board.index("年度维保合同"))]
    assert re.findall(r"<dt>([^<]+)</dt>", card) == ["合同编号", "客户", "合同类型"]
