"""Metadata over /api/v1/meta as an administrator sees it: validated changes applied with schema sync."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.api_world import Api, error_of

INBOUND_RULE = {
    "name": "website_contact_form",
    "object": "lead",
    "label": {"zh_CN": "官网留言生成线索", "en": "Website contact form creates a lead"},
    "trigger": {"type": "inbound"},
    "actions": [
        {
            "type": "create_record",
            "object": "lead",
            "values": {
                "name": "coalesce(get(payload, 'name'), '官网留言')",
                "company": "get(payload, 'company')",
            },
        }
    ],
}


@pytest.fixture
def api(crm: Loom) -> Api:
    world = Api(crm)
    world.person("admin", ["admin"])
    world.person("wang.fang", ["sales_rep"])
    return world


def test_an_admin_lists_and_reads_documents_of_each_kind(api: Api) -> None:
    for kind in ("objects", "rules", "roles", "flows"):
        listed = api.get(f"/meta/{kind}")
        assert listed.status_code == 200
        assert listed.get_json()["data"], kind
    customer = api.get("/meta/objects/customer").get_json()
    assert customer["document"]["name"] == "customer"
    assert customer["revision"] >= 1
    assert api.get("/meta/objects/spaceship").status_code == 404
    assert api.get("/meta/widgets").status_code == 404


def test_only_administrators_may_use_the_metadata_api(api: Api) -> None:
    assert api.get("/meta/objects", as_="wang.fang").status_code == 403
    refused = api.put("/meta/rules/website_contact_form", json=INBOUND_RULE, as_="wang.fang")
    assert refused.status_code == 403
    assert api.get("/meta/rules/website_contact_form").status_code == 404


def test_adding_a_field_applies_the_schema_change_and_answers_with_the_revision(api: Api) -> None:
    customer = api.get("/meta/objects/customer").get_json()
    document = customer["document"]
    document["fields"].append(
        {"name": "wechat_id", "type": "text", "label": {"zh_CN": "微信号", "en": "WeChat"}}
    )
    response = api.put("/meta/objects/customer", json=document)
    assert response.status_code == 200
    change = response.get_json()
    assert change["revision"] == customer["revision"] + 1
    assert any("wechat_id" in line for line in change["changes"])
    created = api.create("customer", {"name": "厦门鹭岛贸易有限公司", "wechat_id": "ludao"})
    assert created["wechat_id"] == "ludao"


def test_invalid_metadata_is_a_422_naming_each_problem_by_its_json_path(api: Api) -> None:
    document = api.get("/meta/objects/customer").get_json()["document"]
    document["fields"].append({"name": "broken", "type": "no_such_type"})
    document["fields"].append({"name": "Bad Name", "type": "text"})
    response = api.put("/meta/objects/customer", json=document)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_metadata"
    assert error["fields"]
    assert all(path.startswith("/") for path in error["fields"])
    assert "broken" not in api.get("/meta/objects/customer").get_json()["document"]["fields"][-1]["name"]


def test_a_change_that_would_lose_data_is_a_409_and_nothing_changes(api: Api) -> None:
    api.create("customer", {"name": "重庆山城火锅有限公司", "city": "重庆"})
    document = api.get("/meta/objects/customer").get_json()["document"]
    for field in document["fields"]:
        if field["name"] == "city":
            field["type"] = "integer"
            field.pop("max_length", None)
    response = api.put("/meta/objects/customer", json=document)
    assert response.status_code == 409
    assert error_of(response)["code"] == "schema_change_refused"
    assert api.get("/records/customer").get_json()["data"][0]["city"] == "重庆"


def test_rules_are_created_refused_when_present_and_removed(api: Api) -> None:
    created = api.post("/meta/rules", json=INBOUND_RULE)
    assert created.status_code == 201
    assert created.get_json()["revision"] == 1
    assert api.post("/meta/rules", json=INBOUND_RULE).status_code == 409
    renamed = api.put("/meta/rules/website_contact_form", json={**INBOUND_RULE, "name": "other"})
    assert renamed.status_code == 422
    removed = api.delete("/meta/rules/website_contact_form")
    assert removed.status_code == 200
    assert removed.get_json()["revision"] is None
    assert api.get("/meta/rules/website_contact_form").status_code == 404
    assert api.delete("/meta/rules/website_contact_form").status_code == 404


def test_removing_an_object_a_role_in_use_or_a_flow_in_use_is_refused(api: Api) -> None:
    refused = api.delete("/meta/objects/customer")
    assert refused.status_code == 409
    assert api.get("/meta/objects/customer").status_code == 200
    assert api.delete("/meta/roles/sales_rep").status_code == 409
    flows = [row["name"] for row in api.get("/meta/flows").get_json()["data"]]
    assert flows


def test_forms_and_reports_are_changed_like_every_other_kind(api: Api) -> None:
    from metadata.forms import default_form

    form = default_form(api.loom.registry.object("customer").spec).to_json()
    form["name"] = "customer_quick"
    created = api.post("/meta/forms", json=form)
    assert created.status_code == 201
    assert created.get_json()["changes"] == ["+ form customer_quick"]
    broken = api.put("/meta/forms/customer_quick", json={**form, "sections": "all"})
    assert broken.status_code == 422
    assert "/sections" in error_of(broken)["fields"]
    assert api.get("/meta/reports").get_json()["data"]
