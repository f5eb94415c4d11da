"""The record page's actions in the browser's terms: convert a lead, claim and return pool leads,
transfer an owner — each button only for who may use it, each refusal a Chinese sentence."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.pages_world import Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def lead(team: Team, owner: str = "wang.fang", **values: object) -> dict:
    owner_id = team.ids[owner] if owner else None
    return team.loom.records().create(
        "lead",
        {
            "name": "陈经理",
            "company": "苏州精密机械有限公司",
            "phone": "13812345678",
            "owner": owner_id,
            **values,
        },
    )


def test_the_owner_converts_a_lead_into_a_customer_contact_and_opportunity(team: Team) -> None:
    found = lead(team)
    wang = team.client("wang.fang")
    page = text(wang.get(f"/app/lead/{found['id']}"))
    assert "转为客户" in page
    form = text(wang.get(f"/app/lead/{found['id']}/convert"))
    assert 'value="苏州精密机械有限公司"' in form and "同时创建商机" in form
    assert "发现疑似重复记录" not in form

    path = f"/app/lead/{found['id']}/convert"
    data = {
        "csrf_token": csrf(wang, path),
        "customer.name": "苏州精密机械",
        "contact.name": "陈经理",
        "opportunity__include": "1",
        "opportunity.name": "五轴加工中心",
        "opportunity.amount": "860000",
    }
    response = wang.post(path, data=data)
    assert response.status_code == 302
    customers = team.loom.queries().find("customer").records
    assert [c["name"] for c in customers] == ["苏州精密机械"]
    assert response.headers["Location"] == f"/app/customer/{customers[0]['id']}"
    assert "转化成功" in text(wang.get(response.headers["Location"]))
    [deal] = team.loom.queries().find("opportunity").records
    assert (deal["name"], str(deal["amount"])) == ("五轴加工中心", "860000.00")

    after = text(wang.get(f"/app/lead/{found['id']}"))
    assert "转为客户" not in after and "已转化" in after
    again = wang.post(path, data={"csrf_token": csrf(wang, f"/app/lead/{found['id']}")})
    assert again.status_code == 302
    assert "该记录已转化，不能重复转化" in text(wang.get(again.headers["Location"]))


def test_a_duplicate_customer_is_shown_and_linked_when_chosen(team: Team) -> None:
    known = team.customer("苏州精密机械", phone="13812345678")
    found = lead(team)
    wang = team.client("wang.fang")
    path = f"/app/lead/{found['id']}/convert"
    form = text(wang.get(path))
    assert "发现疑似重复记录" in form and "关联到「苏州精密机械」" in form
    response = wang.post(path, data={"csrf_token": csrf(wang, path), "customer__existing": str(known["id"])})
    assert response.headers["Location"] == f"/app/customer/{known['id']}"
    assert team.loom.queries().count("customer") == 1


def test_a_bad_amount_shows_the_form_again_with_the_error_and_nothing_saved(team: Team) -> None:
    found = lead(team)
    wang = team.client("wang.fang")
    path = f"/app/lead/{found['id']}/convert"
    data = {"csrf_token": csrf(wang, path), "opportunity__include": "1", "opportunity.amount": "很多"}
    response = wang.post(path, data=data)
    assert response.status_code == 200
    page = text(response)
    assert "请修改下面标出的字段" in page and 'aria-invalid="true"' in page and 'value="很多"' in page
    assert team.loom.queries().count("customer") == 0


def test_a_colleague_sees_no_convert_button_and_cannot_convert(team: Team) -> None:
    found = lead(team)
    li = team.client("li.na")
    assert "转为客户" not in text(li.get(f"/app/lead/{found['id']}"))
    path = f"/app/lead/{found['id']}/convert"
    response = li.post(path, data={"csrf_token": csrf(li, f"/app/lead/{found['id']}")})
    assert response.status_code == 302
    assert "您无权对该记录执行此操作" in text(li.get(response.headers["Location"]))
    assert team.loom.queries().count("customer") == 0


def test_a_rep_claims_from_the_pool_list_and_returns_with_a_reason(team: Team) -> None:
    found = lead(team, owner="", in_pool=True)
    wang = team.client("wang.fang")
    pool = text(wang.get("/app/lead/pool"))
    assert "公海" in pool and "陈经理" in pool and "领取" in pool
    assert "领取" in text(wang.get(f"/app/lead/{found['id']}"))

    response = wang.post(f"/app/lead/{found['id']}/claim", data={"csrf_token": csrf(wang), "from": "pool"})
    assert response.headers["Location"] == f"/app/lead/{found['id']}"
    page = text(wang.get(response.headers["Location"]))
    assert "领取成功" in page and "退回公海" in page
    assert team.loom.records().get("lead", found["id"])["owner"] == team.ids["wang.fang"]

    path = f"/app/lead/{found['id']}/return"
    empty = wang.post(path, data={"csrf_token": csrf(wang, path), "reason": "  "})
    assert empty.status_code == 200 and "请填写退回公海的原因" in text(empty)
    back = wang.post(path, data={"csrf_token": csrf(wang, path), "reason": "客户明年才有预算"})
    assert back.status_code == 302
    assert team.loom.records().get("lead", found["id"])["in_pool"] is True

    again = wang.post(f"/app/lead/{found['id']}/claim", data={"csrf_token": csrf(wang)})
    assert "您可在" in text(wang.get(again.headers["Location"]))  # the cooldown, in Chinese
    taken = team.client("li.na").post(f"/app/lead/{found['id']}/claim", data={"csrf_token": csrf(wang)})
    assert taken.status_code in (302, 400)


def test_a_lead_claimed_by_someone_else_first_is_a_clear_refusal(team: Team) -> None:
    found = lead(team, owner="", in_pool=True)
    wang, li = team.client("wang.fang"), team.client("li.na")
    token = csrf(li, "/app/lead/pool")
    wang.post(f"/app/lead/{found['id']}/claim", data={"csrf_token": csrf(wang)})
    response = li.post(f"/app/lead/{found['id']}/claim", data={"csrf_token": token, "from": "pool"})
    assert response.headers["Location"] == "/app/lead/pool"
    assert "已被他人抢先领取" in text(li.get("/app/lead/pool"))


def test_only_a_manager_sees_transfer_owner_and_the_timeline_shows_it(team: Team) -> None:
    customer = team.customer("杭州云帆科技")
    path = f"/app/customer/{customer['id']}/owner"
    wang = team.client("wang.fang")
    assert "转移负责人" not in text(wang.get(f"/app/customer/{customer['id']}"))
    refused = wang.post(path, data={"csrf_token": csrf(wang), "owner": str(team.ids["li.na"])})
    assert refused.status_code == 302
    assert team.loom.records().get("customer", customer["id"])["owner"] == team.ids["wang.fang"]

    manager = team.client("zhang.jingli")
    assert "转移负责人" in text(manager.get(f"/app/customer/{customer['id']}"))
    form = text(manager.get(path))
    assert "李娜" in form and "赵财务" not in form  # only people in the manager's department
    outside = manager.post(
        path, data={"csrf_token": csrf(manager, path), "owner": str(team.ids["zhao.caiwu"])}
    )
    assert outside.status_code == 200 and "您不能将该记录转移给此用户" in text(outside)
    moved = manager.post(path, data={"csrf_token": csrf(manager, path), "owner": str(team.ids["li.na"])})
    assert moved.status_code == 302
    page = text(manager.get(moved.headers["Location"]))
    assert "负责人已转移" in page
    timeline = page[page.index('class="timeline"') :]
    assert "负责人" in timeline and "李娜" in timeline


def test_the_pool_page_and_actions_are_chinese_and_english(team: Team) -> None:
    lead(team, owner="", in_pool=True)
    english = team.client("wang.fang", locale="en")
    page = text(english.get("/app/lead/pool?lang=en"))
    assert "Pool" in page and "Claim" in page
    assert team.client("wang.fang").get("/app/customer/pool").status_code == 200
    assert team.client("wang.fang").get("/app/contract/pool").status_code == 404


def test_a_record_locked_by_its_approval_offers_no_transfer(team: Team) -> None:
    customer = team.customer("杭州云帆科技")
    contract = team.loom.records(team.actor("wang.fang")).create(
        "contract", {"name": "年度框架合同", "customer": customer["id"], "amount": "300000"}
    )
    team.loom.flows.submit("contract", contract["id"], actor=team.actor("wang.fang"))
    manager = team.client("zhang.jingli")
    assert "转移负责人" not in text(manager.get(f"/app/contract/{contract['id']}"))
    path = f"/app/contract/{contract['id']}/owner"
    response = manager.post(path, data={"csrf_token": csrf(manager), "owner": str(team.ids["li.na"])})
    assert response.status_code == 302
    assert team.loom.records().get("contract", contract["id"])["owner"] == team.ids["wang.fang"]
