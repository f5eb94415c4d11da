"""Create and edit forms: the form's conditions, every error beside its field, hidden fields never shown."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.pages_world import Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def test_a_customer_with_errors_comes_back_with_each_error_beside_its_field_and_nothing_lost(
    team: Team,
) -> None:
    client = team.client("wang.fang")
    form = {"csrf_token": csrf(client, "/app/customer/new"), "short_name": "星河", "email": "not-an-email"}
    page = text(client.post("/app/customer/new", data=form))
    name_error = page.index('id="error-name"')
    assert "为必填项" in page[name_error : name_error + 100]
    assert 'id="error-email"' in page and "必须是电子邮箱地址" in page
    assert 'value="星河"' in page
    assert team.loom.queries().count("customer") == 0

    form.update(name="杭州星河科技有限公司", email="sales@xinghe.example.com")
    saved = client.post("/app/customer/new", data=form)
    assert saved.status_code == 302
    [customer] = team.loom.queries().find("customer").records
    assert saved.headers["Location"] == f"/app/customer/{customer['id']}"
    assert customer["name"] == "杭州星河科技有限公司" and customer["owner"] == team.ids["wang.fang"]


def test_the_form_state_follows_the_forms_conditions_as_the_user_types(team: Team) -> None:
    client = team.client("wang.fang")
    headers = {"X-CSRFToken": csrf(client)}
    call = client.post(
        "/app/followup/form-state", json={"values": {"type": "call"}}, headers=headers
    ).get_json()
    visit = client.post(
        "/app/followup/form-state", json={"values": {"type": "visit"}}, headers=headers
    ).get_json()
    assert call["fields"]["location"] == {"visible": False, "required": False, "readonly": False}
    assert visit["fields"]["location"] == {"visible": True, "required": True, "readonly": False}
    assert visit["fields"]["duration_minutes"]["visible"] is True


def test_saving_enforces_the_forms_required_if_with_the_engines_validation(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    form = {
        "csrf_token": csrf(client, "/app/followup/new"),
        "subject": "上门拜访",
        "type": "visit",
        "followup_at": "2026-11-26T10:00",
        "content": "",
        "customer": str(customer["id"]),
    }
    page = text(client.post("/app/followup/new", data=form))
    assert 'id="error-location"' in page  # required because the type is a visit
    assert 'id="error-content"' in page  # required by the object itself: both at once
    assert team.loom.queries().count("followup") == 0
    form.update(location="苏州工业园区", content="看了产线，约定下周报价")
    assert client.post("/app/followup/new", data=form).status_code == 302
    [followup] = team.loom.queries().find("followup").records
    assert followup["location"] == "苏州工业园区"
    assert followup["followup_at"].isoformat() == "2026-11-26T02:00:00"  # typed in Shanghai time, kept as UTC


def test_fields_hidden_from_a_role_are_neither_shown_nor_saved(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    page = text(client.get("/app/contract/new"))
    assert 'name="cost_price"' not in page and "成本" not in page
    form = {
        "csrf_token": csrf(client, "/app/contract/new"),
        "name": "设备采购合同",
        "customer": str(customer["id"]),
        "amount": "86000",
        "cost_price": "1",
    }
    assert client.post("/app/contract/new", data=form).status_code == 302
    [contract] = team.loom.queries().find("contract").records
    assert contract["cost_price"] is None


def test_read_only_fields_are_shown_but_not_editable(team: Team) -> None:
    client = team.client("wang.fang")
    page = text(client.get("/app/customer/new"))
    assert 'name="level"' not in page  # read-only for a sales rep
    assert '<label for="field-level">客户级别' in page


def test_editing_keeps_the_version_and_refuses_a_stale_save(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    page = text(client.get(f"/app/customer/{customer['id']}/edit"))
    assert 'name="_version" value="1"' in page
    team.loom.records().update("customer", customer["id"], {"short_name": "精工"})
    form = {"csrf_token": csrf(client), "_version": "1", "name": "苏州精工机械股份有限公司"}
    response = client.post(f"/app/customer/{customer['id']}/edit", data=form)
    assert "其他人已保存过它" in text(response)
    assert team.loom.records().get("customer", customer["id"])["name"] == "苏州精工机械有限公司"


def test_a_form_post_without_the_csrf_token_is_refused(team: Team) -> None:
    client = team.client("wang.fang")
    assert client.post("/app/customer/new", data={"name": "无令牌公司"}).status_code == 400
    assert team.loom.queries().count("customer") == 0


def test_a_user_without_the_create_right_gets_no_form(team: Team) -> None:
    client = team.client("wang.fang")
    assert client.get("/app/payment/new").status_code == 403
    assert "新建回款" not in text(client.get("/app/payment"))
