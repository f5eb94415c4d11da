"""Reader-scoped roll-ups: a total counts only the related records its reader may open."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata
from engine.identity.sharing import share_record
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE
from engine.schema.changes import apply_objects
from engine.store.system_tables import departments, users
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec

T0 = datetime(2026, 11, 26, 1, 0)
ADMIN, REP_A, REP_B, MANAGER = 201, 202, 203, 204
# 销售一部 holds rep A and the manager; rep B is in 销售二部.
PEOPLE = {
    ADMIN: ("admin", 1),
    REP_A: ("sales_rep", 1),
    REP_B: ("sales_rep", 2),
    MANAGER: ("sales_manager", 1),
}

PIPELINE = {
    "name": "pipeline",
    "type": "rollup",
    "label": {"zh_CN": "商机金额", "en": "Pipeline"},
    "source": {
        "object": "opportunity",
        "via": "customer",
        "function": "sum",
        "field": "amount",
        "scope": "reader",
    },
}
PIPELINE_WAN = {
    "name": "pipeline_wan",
    "type": "formula",
    "label": {"zh_CN": "商机金额（万元）", "en": "Pipeline (10k)"},
    "result": "decimal",
    "expression": "pipeline / 10000",
}
OPPORTUNITY_COUNT = {
    "name": "opportunity_count",
    "type": "rollup",
    "label": {"zh_CN": "商机数", "en": "Opportunities"},
    "source": {"object": "opportunity", "via": "customer", "function": "count"},
}


def customer_with(*fields: dict[str, Any]) -> dict[str, Any]:
    """The CRM's customer document with `fields` added."""
    doc = json.loads((CRM_PACKAGE / "objects" / "customer.json").read_text(encoding="utf-8"))
    doc["fields"] = [*doc["fields"], *fields]
    return doc


def actor(user_id: int) -> Actor:
    role, department = PEOPLE[user_id]
    return Actor.user(user_id, role, {role}, department_id=department, department_path=f"/{department}/")


@pytest.fixture
def world(crm: Loom) -> tuple[Loom, int, int]:
    """Two customers of rep A, shared with rep B; each rep has opportunities on both."""
    crm.clock.set(T0)
    with crm.begin() as conn:
        for dept_id, name in ((1, "销售一部"), (2, "销售二部")):
            conn.execute(
                departments.insert().values(id=dept_id, name=name, path=f"/{dept_id}/", created_at=T0)
            )
        for user_id, (role, dept) in PEOPLE.items():
            conn.execute(
                users.insert().values(
                    id=user_id,
                    username=f"u{user_id}",
                    display_name=role,
                    active=True,
                    created_at=T0,
                    department_id=dept,
                )
            )
    apply_objects(crm, [ObjectSpec.from_json(customer_with(PIPELINE, PIPELINE_WAN, OPPORTUNITY_COUNT))])
    records = crm.records(SYSTEM)
    first = records.create("customer", {"name": "杭州星河科技有限公司", "owner": REP_A})["id"]
    second = records.create("customer", {"name": "苏州明远机械有限公司", "owner": REP_A})["id"]
    for customer, owner, amount in (
        (first, REP_A, "100"),
        (first, REP_A, "200"),
        (first, REP_B, "50"),
        (second, REP_A, "250"),
        (second, REP_B, "500"),
    ):
        records.create(
            "opportunity", {"name": f"商机 {amount}", "customer": customer, "owner": owner, "amount": amount}
        )
    for customer in (first, second):
        share_record(crm, "customer", customer, user_id=REP_B, actor=SYSTEM)
    return crm, first, second


def test_each_reader_sees_the_total_of_the_opportunities_they_may_open(world) -> None:  # type: ignore[no-untyped-def]
    loom, first, _ = world
    seen = {
        who: loom.records(who_as).get("customer", first)
        for who, who_as in (("rep A", actor(REP_A)), ("rep B", actor(REP_B)), ("manager", actor(MANAGER)),
                            ("admin", actor(ADMIN)), ("system", SYSTEM))
    }  # fmt: skip
    assert {who: record["pipeline"] for who, record in seen.items()} == {
        "rep A": Decimal("300"),  # their own two; rep B's is in another department
        "rep B": Decimal("50"),
        "manager": Decimal("300"),  # 销售一部 and below
        "admin": Decimal("350"),
        "system": Decimal("350"),
    }
    # A formula over the roll-up follows it; a roll-up left at scope "all" counts every one.
    assert seen["rep B"]["pipeline_wan"] == Decimal("0.005")
    assert {record["opportunity_count"] for record in seen.values()} == {3}


def test_filters_sorts_and_exports_use_the_readers_total(world) -> None:  # type: ignore[no-untyped-def]
    loom, first, second = world

    def found(who: Actor, **query: Any) -> list[tuple[int, Decimal]]:
        page = loom.queries(who).find("customer", **query)
        return [(record["id"], record["pipeline"]) for record in page.records]

    ranked = {"sort": "-pipeline", "filter": "pipeline > 0"}
    assert found(actor(REP_A), **ranked) == [(first, Decimal("300")), (second, Decimal("250"))]
    assert found(actor(REP_B), **ranked) == [(second, Decimal("500")), (first, Decimal("50"))]
    assert found(actor(ADMIN), **ranked) == [(second, Decimal("750")), (first, Decimal("350"))]

    assert found(actor(REP_B), filter="pipeline > 100") == [(second, Decimal("500"))]
    assert found(actor(REP_A), filter="pipeline_wan >= 0.03") == [(first, Decimal("300"))]
    assert loom.queries(actor(MANAGER)).count("customer", filter="pipeline > 260") == 1
    # Everyone's list agrees on a scope-all roll-up.
    assert found(actor(REP_B), filter="opportunity_count == 3") == [(first, Decimal("50"))]
    # An export is a list too: rep A exports their own customers with their own totals.
    exported = found(actor(REP_A), operation="export", sort="pipeline")
    assert exported == [(second, Decimal("250")), (first, Decimal("300"))]


def test_a_scope_all_roll_up_still_counts_every_related_record(world) -> None:  # type: ignore[no-untyped-def]
    loom, first, second = world
    for who in (actor(REP_A), actor(REP_B), actor(MANAGER), actor(ADMIN)):
        assert loom.records(who).get("customer", first)["opportunity_count"] == 3
        assert loom.records(who).get("customer", second)["opportunity_count"] == 2


def test_rules_total_every_record_whoever_saved(world) -> None:  # type: ignore[no-untyped-def]
    loom, first, _ = world
    rule = RuleSpec.from_json(
        {
            "name": "big_pipeline",
            "object": "customer",
            "label": {"en": "Big pipeline"},
            "trigger": {"type": "on_update"},
            "condition": "pipeline >= 350",
            "actions": [{"type": "add_tag", "field": "tags", "tag": "'大客户'"}],
        }
    )
    apply_objects(loom, [], rules=[rule])
    # Rep A sees 300, but the rule runs as the system and sees all 350.
    loom.records(actor(REP_A)).update("customer", first, {"short_name": "星河"})
    assert "大客户" in loom.records(SYSTEM).get("customer", first)["tags"]


def problems_of(loom: Loom, doc: dict[str, Any], **documents: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidMetadata) as refused:
        apply_objects(loom, [ObjectSpec.from_json(doc)], **documents)
    return [(problem.path, problem.message) for problem in refused.value.problems]


def test_an_unknown_scope_is_refused_at_its_path(crm: Loom) -> None:
    team = {**PIPELINE, "source": {**PIPELINE["source"], "scope": "team"}}
    doc = customer_with(team)
    at = f"/fields/{len(doc['fields']) - 1}/source/scope"
    assert [path for path, _ in problems_of(crm, doc)] == [at]


def test_what_must_hold_for_everyone_may_not_read_a_reader_scoped_total(crm: Loom) -> None:
    """A validation rule (here through a formula), a default or a before-save rule would enforce or
    store one reader's partial total: refused, each at its JSON path."""
    limit = {
        "name": "pipeline_cap",
        "condition": "pipeline_wan <= 100",
        "message": {"en": "Too much", "zh_CN": "过多"},
    }
    doc = customer_with(PIPELINE, PIPELINE_WAN)
    doc["validation_rules"] = [*doc.get("validation_rules", []), limit]
    found = problems_of(crm, doc)
    at = f"/validation_rules/{len(doc['validation_rules']) - 1}/condition"
    # Refused twice over: a formula is not there yet while a new record is validated, either.
    assert [path for path, _ in found] == [at, at]
    messages = " | ".join(message for _, message in found)
    assert "'pipeline_wan' depends on who reads it" in messages
    assert "reads 'pipeline_wan' (a formula" in messages

    before = RuleSpec.from_json(
        {
            "name": "mark_big",
            "object": "customer",
            "label": {"en": "Mark big"},
            "trigger": {"type": "on_save", "phase": "before_save"},
            "condition": "pipeline > 1000",
            "actions": [{"type": "set_field", "field": "level", "value": "'vip'"}],
        }
    )
    found = problems_of(crm, customer_with(PIPELINE), rules=[before])
    assert [path for path, _ in found] == ["/condition"]
