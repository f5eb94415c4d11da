"""Inbound rules called by outside systems, and the rule run log, over /api/v1."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pytest

from engine.loom import Loom
from engine.rules.inbound import inbound_key
from tests.runtime.api_world import Api, error_of
from tests.runtime.test_api_meta import INBOUND_RULE

SECRET = "a-long-random-webhook-secret"


@pytest.fixture
def api(crm: Loom) -> Api:
    crm.settings = replace(crm.settings, inbound_secret=SECRET)
    world = Api(crm)
    world.person("admin", ["admin"])
    world.person("wang.fang", ["sales_rep"])
    assert world.post("/meta/rules", json=INBOUND_RULE).status_code == 201
    return world


def leads(api: Api) -> list[dict]:
    return api.get("/records/lead").get_json()["data"]


def test_the_rules_signed_address_creates_a_lead_from_the_payload(api: Api) -> None:
    key = inbound_key(api.loom.settings, "website_contact_form")
    response = api.post(
        "/hooks/website_contact_form",
        query_string={"key": key},
        json={"name": "张先生", "company": "宁波港城物流"},
        as_=None,
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "fired"
    [lead] = leads(api)
    assert (lead["name"], lead["company"]) == ("张先生", "宁波港城物流")


def test_a_body_signed_with_the_rules_key_is_accepted(api: Api) -> None:
    key = inbound_key(api.loom.settings, "website_contact_form")
    body = json.dumps({"name": "李女士"}, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    response = api.post(
        "/hooks/website_contact_form",
        data=body,
        content_type="application/json",
        headers={"X-Loom-Signature": signature},
        as_=None,
    )
    assert response.status_code == 200
    assert [lead["name"] for lead in leads(api)] == ["李女士"]


def test_a_call_without_the_right_key_is_refused_and_runs_nothing(api: Api) -> None:
    wrong = api.post("/hooks/website_contact_form", query_string={"key": "guess"}, json={}, as_=None)
    assert wrong.status_code == 401
    unsigned = api.post("/hooks/website_contact_form", json={"name": "x"}, as_=None)
    assert unsigned.status_code == 401
    other_rule = inbound_key(api.loom.settings, "another_rule")
    borrowed = api.post("/hooks/website_contact_form", query_string={"key": other_rule}, json={}, as_=None)
    assert borrowed.status_code == 401
    assert leads(api) == []


def test_a_rule_that_is_not_inbound_is_404_even_with_its_key(api: Api) -> None:
    name = next(n for n, rule in api.loom.registry.rules.items() if rule.trigger.type != "inbound")
    key = inbound_key(api.loom.settings, name)
    assert api.post(f"/hooks/{name}", query_string={"key": key}, json={}, as_=None).status_code == 404


def test_inbound_rules_are_off_while_the_secret_is_the_placeholder(api: Api) -> None:
    api.loom.settings = replace(api.loom.settings, inbound_secret="change-me")
    response = api.post("/hooks/website_contact_form", query_string={"key": "x"}, json={}, as_=None)
    assert response.status_code == 403
    assert "LOOM_WEBHOOK_SECRET" in error_of(response)["message"]


def test_the_run_log_shows_what_a_rule_did_to_administrators_only(api: Api) -> None:
    key = inbound_key(api.loom.settings, "website_contact_form")
    api.post("/hooks/website_contact_form", query_string={"key": key}, json={"name": "王总"}, as_=None)
    runs = api.get("/rules/runs", query_string={"rule": "website_contact_form"})
    assert runs.status_code == 200
    [run] = runs.get_json()["data"]
    assert (run["rule"], run["trigger"], run["status"]) == ("website_contact_form", "inbound", "fired")
    assert (
        api.get("/rules/runs", query_string={"rule": "website_contact_form"}, as_="wang.fang").status_code
        == 403
    )
    assert api.get("/rules/runs").status_code == 400
    customer = api.create("customer", {"name": "青岛海风食品有限公司"})
    by_record = api.get("/rules/runs", query_string={"object": "customer", "record_id": customer["id"]})
    assert by_record.status_code == 200
