"""Lead conversion (线索转客户): a lead becomes a customer, a contact and maybe an opportunity, in one go."""

from __future__ import annotations

import json

import pytest

from engine.base.actors import Actor
from engine.base.errors import RecordInvalid
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE
from engine.plugin_api import loaded_registries
from engine.records.conversion import ConversionRefused, convert, convertible, plan
from engine.schema.checks import check_objects
from metadata.specs import ObjectSpec
from metadata.validation import validate_object
from tests.engine.test_pool import add_rep

LEAD = {
    "name": "陈经理",
    "company": "苏州精密机械有限公司",
    "title": "采购经理",
    "phone": "13812345678",
    "email": "chen@szjm.example.cn",
    "source": "exhibition",
    "region": "east",
    "industry": "manufacturing",
    "notes": "需要两台五轴加工中心",
}


def new_lead(loom: Loom, rep: Actor, **values: object) -> dict:
    return loom.records(rep).create("lead", {**LEAD, **values})


def test_a_lead_becomes_a_customer_a_contact_and_an_opportunity_linked_both_ways(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    lead = new_lead(crm, rep)
    done = convert(
        crm,
        rep,
        "lead",
        lead["id"],
        include=["opportunity"],
        values={"opportunity": {"name": "五轴加工中心采购", "amount": "860000"}},
    )
    customer, contact, deal = (done.records[name] for name in ("customer", "contact", "opportunity"))
    assert (customer["name"], customer["contact_name"], customer["phone"]) == (
        "苏州精密机械有限公司",
        "陈经理",
        "13812345678",
    )
    assert (customer["source"], customer["region"], customer["owner"]) == ("exhibition", "east", rep.user_id)
    assert (contact["name"], contact["customer"], contact["title"], contact["is_primary"]) == (
        "陈经理",
        customer["id"],
        "采购经理",
        True,
    )
    assert (deal["name"], str(deal["amount"]), deal["customer"], deal["contact"], deal["lead"]) == (
        "五轴加工中心采购",
        "860000.00",
        customer["id"],
        contact["id"],
        lead["id"],
    )
    after = crm.records().get("lead", lead["id"])
    assert after["status"] == "converted"
    assert (after["converted_customer"], after["converted_contact"], after["converted_opportunity"]) == (
        customer["id"],
        contact["id"],
        deal["id"],
    )
    assert after["converted_at"] == crm.clock.now()
    assert crm.records().history("lead", lead["id"])[-1]["actor_name"] == "wang.fang"


def test_the_opportunity_is_made_only_when_asked_for(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    lead = new_lead(crm, rep)
    done = convert(crm, rep, "lead", lead["id"])
    assert set(done.records) == {"customer", "contact"}
    assert crm.records().get("lead", lead["id"])["converted_opportunity"] is None
    assert crm.queries().count("opportunity") == 0


def test_a_lead_is_converted_once(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    lead = new_lead(crm, rep)
    convert(crm, rep, "lead", lead["id"])
    with pytest.raises(ConversionRefused) as refused:
        convert(crm, rep, "lead", lead["id"])
    assert refused.value.reason == "already_converted"
    assert "cannot be converted twice" in refused.value.message
    assert crm.queries().count("customer") == 1
    assert not convertible(crm, rep, "lead", crm.records().get("lead", lead["id"]))


def test_a_duplicate_customer_is_shown_and_can_be_linked_instead(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    known = crm.records(rep).create("customer", {"name": "苏州精密机械", "phone": "138-1234-5678"})
    lead = new_lead(crm, rep)
    [customer_plan, contact_plan, _] = plan(crm, rep, "lead", lead["id"])
    assert customer_plan.values["name"] == "苏州精密机械有限公司"
    found = [(d.id, d.title, d.rule) for d in customer_plan.duplicates]
    assert found == [(known["id"], "苏州精密机械", "same_phone")]
    assert contact_plan.duplicates == []

    done = convert(crm, rep, "lead", lead["id"], existing={"customer": known["id"]})
    assert done.records["customer"]["id"] == known["id"]
    assert done.records["contact"]["customer"] == known["id"]
    assert crm.queries().count("customer") == 1
    assert crm.records().get("lead", lead["id"])["converted_customer"] == known["id"]


def test_duplicates_the_rep_may_not_read_are_counted_not_named(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")  # no department: reads only their own customers
    crm.records().create("customer", {"name": "别人的客户", "phone": "13812345678"})
    lead = new_lead(crm, rep)
    customer_plan = plan(crm, rep, "lead", lead["id"])[0]
    assert (customer_plan.duplicates, customer_plan.hidden_duplicates) == ([], 1)
    with pytest.raises(ConversionRefused) as refused:
        convert(crm, rep, "lead", lead["id"], existing={"customer": 1})
    assert refused.value.reason == "not_linkable"
    assert crm.records().get("lead", lead["id"])["status"] == "new"


def test_a_bad_value_rolls_everything_back_and_names_the_target_field(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    lead = new_lead(crm, rep)
    with pytest.raises(RecordInvalid) as invalid:
        convert(crm, rep, "lead", lead["id"], values={"opportunity": {"name": "商机", "amount": "很多"}})
    assert list(invalid.value.fields) == ["opportunity.amount"]
    assert crm.queries().count("customer") == 0 and crm.queries().count("contact") == 0
    assert crm.records().get("lead", lead["id"])["status"] == "new"


def test_only_who_may_change_the_lead_converts_it(crm: Loom) -> None:
    owner, other = add_rep(crm, "wang.fang"), add_rep(crm, "li.na")
    lead = new_lead(crm, owner)
    crm.records().update("lead", lead["id"], {"in_pool": True, "owner": None})  # readable by everyone
    with pytest.raises(PermissionDenied, match="may see this lead but not change it"):
        convert(crm, other, "lead", lead["id"])
    assert not convertible(crm, Actor.user(99, "nobody", {"finance"}), "lead", lead)
    assert crm.queries().count("customer") == 0


def test_a_target_that_is_not_part_of_the_conversion_is_refused(crm: Loom) -> None:
    rep = add_rep(crm, "wang.fang")
    lead = new_lead(crm, rep)
    with pytest.raises(ConversionRefused) as refused:
        convert(crm, rep, "lead", lead["id"], include=["contract"])
    assert refused.value.reason == "unknown_target"
    with pytest.raises(ConversionRefused) as refused:
        convert(crm, rep, "lead", lead["id"], existing={"opportunity": 1})
    assert refused.value.reason == "no_linking"
    with pytest.raises(ConversionRefused) as refused:
        convert(crm, rep, "customer", 1)
    assert refused.value.reason == "not_convertible"


def test_conversion_metadata_is_checked_when_the_object_is_validated() -> None:
    lead, *targets = (
        json.loads((CRM_PACKAGE / "objects" / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("lead", "customer", "contact", "opportunity", "followup", "task")
    )
    known = {doc["name"]: ObjectSpec.from_json(doc) for doc in targets}
    assert validate_object(lead, "objects/lead.json", known_objects=known).problems == []
    lead["convert"]["status"]["value"] = "won"
    lead["convert"]["targets"][0]["link"] = "converted_contact"
    lead["convert"]["targets"][1]["values"]["nickname"] = "name"
    problems = validate_object(lead, "objects/lead.json", known_objects=known).problems
    assert [p.path for p in problems] == [
        "/convert/status/value",
        "/convert/targets/0/link",
        "/convert/targets/1/values/nickname",
    ]
    assert "looks up 'contact', not 'customer'" in problems[1].message


def test_a_conversion_value_that_is_no_expression_is_refused_with_its_path() -> None:
    docs = [
        json.loads((CRM_PACKAGE / "objects" / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("lead", "customer", "contact", "opportunity", "followup", "task")
    ]
    docs[0]["convert"]["targets"][2]["values"]["name"] = "company + nickname"
    objects = {doc["name"]: ObjectSpec.from_json(doc) for doc in docs}
    registries = loaded_registries()
    problems = check_objects(objects, registries.field_types, registries.functions, {}, only={"lead"})
    assert [p.path for p in problems] == ["/convert/targets/2/values/name"]
    assert "nickname" in problems[0].message
