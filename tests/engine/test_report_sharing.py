"""A report's sharing, enforced by the engine: everyone, some roles, or its owner alone (and the
administrators, who manage every report); the report cache never hands one reader's private
report to another in the same scope; roles may allow building reports."""

from __future__ import annotations

from typing import Any

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata, UnknownReport
from engine.loom import Loom
from engine.records.report_access import may_build_reports, may_manage_report
from engine.records.report_cache import ReportCache
from engine.records.reports import readable_reports, run_report
from engine.schema.changes import apply_objects
from metadata.report_checks import report_problems
from metadata.reports import ReportSpec, Sharing
from metadata.validation import validate_report

COUNT: dict[str, Any] = {
    "object": "opportunity",
    "group_by": ["stage"],
    "measures": [{"function": "count"}],
    "chart": "bar",
}


@pytest.fixture
def people(crm: Loom) -> dict[str, Actor]:
    sales = identity.create_department(crm, "销售部", actor=SYSTEM)["id"]
    found = {}
    for username, roles in (
        ("zhang.jingli", ["sales_manager"]),
        ("sun.jingli", ["sales_manager"]),
        ("wang.fang", ["sales_rep"]),
        ("guan.li", ["admin"]),
    ):
        user = identity.create_user(
            crm, username, username, "a-long-password-1", roles=roles, department_id=sales, actor=SYSTEM
        )
        found[username] = identity.actor_for(crm, user["id"])
    customer = crm.records(SYSTEM).create("customer", {"name": "华东电子"})["id"]
    for stage in ("initial_contact", "initial_contact", "needs_confirmed"):
        values = {"name": stage, "customer": customer, "stage": stage, "owner": found["wang.fang"].user_id}
        crm.records(SYSTEM).create("opportunity", values)
    return found


def install(loom: Loom, name: str, **extra: Any) -> ReportSpec:
    spec = ReportSpec.from_json({"name": name, **COUNT, **extra})
    apply_objects(loom, [], reports=[spec])
    return loom.registry.report(name)


def names(loom: Loom, actor: Actor) -> set[str]:
    return {spec.name for spec in readable_reports(loom.registry, actor)}


def test_a_private_report_runs_for_its_owner_and_the_administrators_only(
    crm: Loom, people: dict[str, Actor]
) -> None:
    install(crm, "mine", sharing={"with": "private", "owner": "zhang.jingli"})
    owner, peer, rep, admin = (people[n] for n in ("zhang.jingli", "sun.jingli", "wang.fang", "guan.li"))
    assert {row["stage"]: row["count"] for row in run_report(crm, "mine", owner).rows} == {
        "initial_contact": 2,
        "needs_confirmed": 1,
    }
    assert run_report(crm, "mine", admin).rows == run_report(crm, "mine", owner).rows
    for other in (peer, rep):
        with pytest.raises(UnknownReport):
            run_report(crm, "mine", other)
        assert "mine" not in names(crm, other)
    assert "mine" in names(crm, owner) and "mine" in names(crm, admin)
    # Managing: the owner (a builder) and administrators; not a peer holding the same role.
    spec = crm.registry.report("mine")
    assert may_manage_report(crm.registry, owner, spec) and may_manage_report(crm.registry, admin, spec)
    assert not may_manage_report(crm.registry, peer, spec)
    assert not may_manage_report(crm.registry, owner, crm.registry.report("opportunity_funnel"))


def test_a_report_shared_with_roles_runs_for_those_roles(crm: Loom, people: dict[str, Actor]) -> None:
    install(crm, "for_managers", sharing={"with": "roles", "roles": ["sales_manager"]})
    assert run_report(crm, "for_managers", people["sun.jingli"]).rows
    assert "for_managers" in names(crm, people["zhang.jingli"])
    with pytest.raises(UnknownReport):
        run_report(crm, "for_managers", people["wang.fang"])
    assert "for_managers" not in names(crm, people["wang.fang"])
    # Shared with everyone (the default): still only over an object the reader may read.
    finance = identity.create_user(crm, "zhao", "赵", "a-long-password-1", roles=["finance"], actor=SYSTEM)
    assert "opportunity_funnel" in names(crm, people["wang.fang"])
    reader = identity.actor_for(crm, finance["id"])
    readable = crm.registry.roles["finance"].objects.get("opportunity")
    assert ("opportunity_funnel" in names(crm, reader)) == bool(readable and readable.scope("read"))


def test_the_cache_does_not_hand_a_private_report_to_a_reader_of_the_same_scope(
    crm: Loom, people: dict[str, Actor]
) -> None:
    install(crm, "mine", sharing={"with": "private", "owner": "zhang.jingli"})
    cache = ReportCache(crm)
    assert cache.run("mine", people["zhang.jingli"]).rows
    with pytest.raises(UnknownReport):
        cache.run("mine", people["sun.jingli"])  # same role, same department: the same scope key


def test_sharing_names_roles_that_exist_and_a_private_report_names_its_owner(crm: Loom) -> None:
    bad = ReportSpec.from_json({"name": "bad", **COUNT, "sharing": {"with": "roles", "roles": ["sales_mgr"]}})
    with pytest.raises(InvalidMetadata) as refused:
        apply_objects(crm, [], reports=[bad])
    assert [(p.path, "sales_manager" in p.message) for p in refused.value.problems] == [
        ("/sharing/roles/0", True)
    ]
    assert "bad" not in crm.registry.reports()
    lonely = ReportSpec.from_json({"name": "lonely", **COUNT, "sharing": {"with": "private"}})
    assert [p.path for p in report_problems(lonely, "r.json", crm.registry.specs())] == ["/sharing/owner"]
    schema = validate_report({"name": "x", **COUNT, "sharing": {"with": "friends"}}, "r.json")
    assert [p.path for p in schema.problems] == ["/sharing/with"]


def test_folder_and_sharing_round_trip_and_stay_out_of_a_default_document() -> None:
    doc = {
        "name": "r",
        **COUNT,
        "folder": {"zh_CN": "销售分析", "en": "Sales analysis"},
        "sharing": {"with": "roles", "roles": ["sales_manager", "ceo"]},
    }
    spec = ReportSpec.from_json(doc)
    assert spec.sharing == Sharing("roles", ("sales_manager", "ceo"))
    assert ReportSpec.from_json(spec.to_json()) == spec
    assert spec.to_json()["folder"] == doc["folder"] and spec.to_json()["sharing"] == doc["sharing"]
    plain = ReportSpec.from_json({"name": "r", **COUNT, "folder": "我的"})
    assert plain.to_json()["folder"] == "我的" and "sharing" not in plain.to_json()
    assert "folder" not in ReportSpec.from_json({"name": "r", **COUNT}).to_json()


def test_the_crm_lets_managers_and_the_ceo_build_reports(crm: Loom, people: dict[str, Actor]) -> None:
    registry = crm.registry
    assert registry.roles["sales_manager"].build_reports and registry.roles["ceo"].build_reports
    assert may_build_reports(registry, people["zhang.jingli"])
    assert may_build_reports(registry, people["guan.li"])
    assert not may_build_reports(registry, people["wang.fang"])
