"""The record page's actions over the API: convert a lead, claim and return pool leads, transfer owners."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.api_world import Api, error_of


@pytest.fixture
def api(crm: Loom) -> Api:
    api = Api(crm)
    sales = identity.create_department(crm, "销售部", actor=SYSTEM)["id"]
    api.person("admin", ["admin"])
    api.person("manager", ["sales_manager"], department_id=sales)
    api.person("wang.fang", ["sales_rep"], department_id=sales)
    api.person("li.na", ["sales_rep"], department_id=sales)
    return api


def test_a_rep_converts_their_lead_and_gets_every_record_back(api: Api) -> None:
    lead = api.create(
        "lead", {"name": "陈经理", "company": "苏州精密机械有限公司", "phone": "13812345678"}, as_="wang.fang"
    )
    plan = api.get(f"/records/lead/{lead['id']}/convert", as_="wang.fang").get_json()
    assert [(t["object"], t["optional"], t["values"].get("name")) for t in plan["targets"]] == [
        ("customer", False, "苏州精密机械有限公司"),
        ("contact", False, "陈经理"),
        ("opportunity", True, "苏州精密机械有限公司 - 陈经理"),
    ]
    body = {"include": ["opportunity"], "values": {"opportunity": {"amount": "50000"}}}
    response = api.post(f"/records/lead/{lead['id']}/convert", json=body, as_="wang.fang")
    assert response.status_code == 201, response.get_json()
    done = response.get_json()
    customer = done["records"]["customer"]
    assert done["source"]["status"] == "converted"
    assert done["source"]["converted_customer"] == customer["id"]
    assert done["records"]["opportunity"]["amount"] == "50000.00"
    assert done["records"]["contact"]["customer"] == customer["id"]

    again = api.post(f"/records/lead/{lead['id']}/convert", json={}, as_="wang.fang")
    assert (again.status_code, error_of(again)["code"]) == (409, "conversion_refused")


def test_a_conversion_request_of_the_wrong_shape_is_a_422(api: Api) -> None:
    lead = api.create("lead", {"name": "陈经理"}, as_="wang.fang")
    for body in ({"values": []}, {"existing": {"customer": "x"}}, {"include": "opportunity"}):
        response = api.post(f"/records/lead/{lead['id']}/convert", json=body, as_="wang.fang")
        assert response.status_code == 422, body
    bad = api.post(
        f"/records/lead/{lead['id']}/convert",
        json={"values": {"opportunity": {"amount": "很多"}}},
        as_="wang.fang",
    )
    assert (bad.status_code, list(error_of(bad)["fields"])) == (422, ["opportunity.amount"])


def test_reps_claim_and_return_pool_leads_with_the_pools_limits(api: Api) -> None:
    lead = api.create("lead", {"name": "公海线索", "in_pool": True, "owner": None})
    claimed = api.post(f"/records/lead/{lead['id']}/claim", as_="wang.fang")
    assert claimed.status_code == 200
    assert (claimed.get_json()["owner"], claimed.get_json()["in_pool"]) == (api.ids["wang.fang"], False)

    taken = api.post(f"/records/lead/{lead['id']}/claim", as_="li.na")
    assert (taken.status_code, error_of(taken)["code"]) == (409, "pool_refused")
    not_theirs = api.post(f"/records/lead/{lead['id']}/return", json={"reason": "无意向"}, as_="li.na")
    assert not_theirs.status_code in (403, 409)
    no_reason = api.post(f"/records/lead/{lead['id']}/return", as_="wang.fang")
    assert (no_reason.status_code, error_of(no_reason)["code"]) == (409, "pool_refused")

    back = api.post(f"/records/lead/{lead['id']}/return", json={"reason": "客户无预算"}, as_="wang.fang")
    assert back.status_code == 200
    assert (back.get_json()["in_pool"], back.get_json()["pool_return_reason"]) == (True, "客户无预算")
    cooling = api.post(f"/records/lead/{lead['id']}/claim", as_="wang.fang")
    assert cooling.status_code == 409 and "claim it again from" in error_of(cooling)["message"]


def test_a_manager_transfers_a_record_a_rep_may_not(api: Api) -> None:
    customer = api.create("customer", {"name": "杭州云帆科技"}, as_="wang.fang")
    path = f"/records/customer/{customer['id']}/owner"
    refused = api.post(path, json={"owner": api.ids["li.na"]}, as_="wang.fang")
    assert (refused.status_code, error_of(refused)["code"]) == (422, "transfer_refused")
    moved = api.post(path, json={"owner": api.ids["li.na"]}, as_="manager")
    assert (moved.status_code, moved.get_json()["owner"]) == (200, api.ids["li.na"])
    assert api.post(path, json={"owner": "li.na"}, as_="manager").status_code == 422
    stale = api.post(path, json={"owner": api.ids["wang.fang"], "version": 1}, as_="manager")
    assert stale.status_code == 409


def test_the_document_describes_the_actions_where_they_apply(api: Api) -> None:
    paths = api.get("/openapi.json").get_json()["paths"]
    assert {"post"} <= set(paths["/api/v1/records/lead/{record_id}/convert"])
    assert "/api/v1/records/customer/{record_id}/convert" not in paths
    assert "/api/v1/records/lead/{record_id}/claim" in paths
    assert "/api/v1/records/contract/{record_id}/claim" not in paths
    assert "/api/v1/records/contract/{record_id}/owner" in paths
