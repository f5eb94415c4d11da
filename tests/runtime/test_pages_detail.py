"""The record page: fields by form layout, related lists, one timeline; buttons only for allowed actions."""

from __future__ import annotations

import re

import pytest

from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec
from tests.runtime.pages_world import Team, build_team, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def test_the_customer_page_shows_its_fields_related_records_and_timeline(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司", level="vip", annual_purchase="2500000")
    wang = team.actor("wang.fang")
    team.loom.records(wang).create(
        "contact", {"name": "李建国", "customer": customer["id"], "title": "采购总监"}
    )
    team.loom.records(wang).create(
        "followup",
        {
            "subject": "电话沟通采购需求",
            "type": "call",
            "followup_at": "2026-11-20T02:00:00Z",
            "content": "客户计划明年更新两条产线",
            "customer": customer["id"],
        },
    )
    team.loom.records(wang).update("customer", customer["id"], {"lifecycle": "prospect"})
    page = text(team.client("wang.fang").get(f"/app/customer/{customer['id']}"))
    assert "<h1>苏州精工机械有限公司</h1>" in page
    assert "基本信息" in page  # a section of the customer's form
    assert "¥2,500,000.00" in page
    assert "联系人" in page and "李建国" in page  # a related list
    timeline = page[page.index('class="timeline"') :]
    assert "电话沟通采购需求" in timeline  # the follow-up
    assert "潜在客户</span></del> → <ins><span" in timeline and "意向客户" in timeline  # the change, by label
    assert "创建了记录" in timeline


def test_a_colleagues_record_can_be_seen_but_offers_no_edit(team: Team) -> None:
    customer = team.customer("深圳云帆电子科技有限公司", owner="li.na")
    wang = team.client("wang.fang")
    page = text(wang.get(f"/app/customer/{customer['id']}"))
    assert "深圳云帆电子科技有限公司" in page
    assert f"/app/customer/{customer['id']}/edit" not in page
    assert wang.post(f"/app/customer/{customer['id']}/edit").status_code in (400, 403)
    own = text(team.client("li.na").get(f"/app/customer/{customer['id']}"))
    assert f"/app/customer/{customer['id']}/edit" in own


def test_a_record_out_of_scope_is_not_found(team: Team) -> None:
    contract = team.loom.records(team.actor("li.na")).create(
        "contract",
        {"name": "李娜的合同", "customer": team.customer("客户甲", owner="li.na")["id"], "amount": "1000"},
    )
    assert team.client("wang.fang").get(f"/app/contract/{contract['id']}").status_code == 404


def test_unknown_objects_and_records_are_not_found(team: Team) -> None:
    client = team.client("wang.fang")
    assert client.get("/app/no_such_object").status_code == 404
    assert client.get("/app/customer/999").status_code == 404


def test_related_lists_follow_the_objects_metadata_and_only_what_the_reader_may_read(team: Team) -> None:
    spec = team.loom.registry.object("customer").spec.to_json()
    related = [
        {"object": "opportunity", "via": "customer"},
        {"object": "contract", "via": "customer", "label": {"zh_CN": "签约记录", "en": "Signed"}},
        {"object": "contact", "via": "customer", "columns": ["phone", "name"]},
    ]
    apply_objects(team.loom, [ObjectSpec.from_json({**spec, "related_lists": related})])
    customer = team.customer("苏州精工机械有限公司")
    records = team.loom.records()
    owner = team.ids["wang.fang"]
    records.create(
        "contact", {"name": "李建国", "customer": customer["id"], "phone": "13900000002", "owner": owner}
    )
    records.create(
        "opportunity", {"name": "产线改造", "customer": customer["id"], "amount": "90000", "owner": owner}
    )
    records.create(
        "contract", {"name": "设备采购合同", "customer": customer["id"], "amount": "90000", "owner": owner}
    )
    records.create(
        "followup",
        {
            "subject": "电话沟通",
            "type": "call",
            "followup_at": "2026-11-20T02:00:00Z",
            "content": "需求确认",
            "customer": customer["id"],
            "owner": owner,
        },
    )

    def lists(username: str) -> list[str]:
        page = text(team.client(username).get(f"/app/customer/{customer['id']}"))
        return re.findall(r'<h2 id="related-\d+">([^<]+?) <span class="count">', page)

    manager = text(team.client("zhang.jingli").get(f"/app/customer/{customer['id']}"))
    assert lists("zhang.jingli") == ["商机", "签约记录", "联系人"]  # the metadata's order; no follow-ups
    contacts = manager[manager.index("联系人 <span") :]
    head = contacts[contacts.index("<thead>") : contacts.index("</thead>")]
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == ["手机", "姓名"]
    assert 'href="/app/contact/' in contacts.split("</table>")[0]  # the first column links to the record
    assert lists("zhao.caiwu") == ["签约记录"]  # finance reads contracts, not opportunities or contacts
