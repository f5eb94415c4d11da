"""Transferring a record to another owner (转移负责人): managers within their department, admins to anyone."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.records.ownership import OwnershipRefused, candidates, may_transfer, transfer_owner
from engine.records.timeline import timeline


@pytest.fixture
def people(crm: Loom) -> dict[str, Actor]:
    sales = identity.create_department(crm, "销售部", actor=SYSTEM)["id"]
    service = identity.create_department(crm, "服务部", actor=SYSTEM)["id"]
    found = {}
    for username, name, roles, department in (
        ("zhang.jingli", "张经理", ["sales_manager"], sales),
        ("wang.fang", "王芳", ["sales_rep"], sales),
        ("li.na", "李娜", ["sales_rep"], sales),
        ("zhou.fuwu", "周服务", ["sales_rep"], service),
        ("admin", "管理员", ["admin"], None),
    ):
        user = identity.create_user(
            crm, username, name, "a-long-password-1", roles=roles, department_id=department, actor=SYSTEM
        )
        found[username] = identity.actor_for(crm, user["id"])
    return found


def test_a_manager_hands_a_customer_to_another_rep_and_the_timeline_shows_it(crm: Loom, people: dict) -> None:
    manager, wang, li = people["zhang.jingli"], people["wang.fang"], people["li.na"]
    customer = crm.records(wang).create("customer", {"name": "杭州云帆科技"})
    assert may_transfer(crm, manager, "customer")
    crm.clock.set(crm.clock.now().replace(hour=10))
    moved = transfer_owner(crm, manager, "customer", customer["id"], li.user_id)
    assert moved["owner"] == li.user_id
    [latest, *_] = [
        entry for entry in timeline(crm, "customer", customer["id"], manager) if entry.kind == "change"
    ]
    assert (latest.actor, latest.details["changes"]["owner"]) == ("张经理", [wang.user_id, li.user_id])


def test_a_rep_cannot_give_records_away(crm: Loom, people: dict) -> None:
    wang, li = people["wang.fang"], people["li.na"]
    customer = crm.records(wang).create("customer", {"name": "杭州云帆科技"})
    assert not may_transfer(crm, wang, "customer")
    assert [person["username"] for person in candidates(crm, wang, "customer")] == ["wang.fang"]
    with pytest.raises(OwnershipRefused) as refused:
        transfer_owner(crm, wang, "customer", customer["id"], li.user_id)
    assert refused.value.reason == "owner_not_allowed"
    assert crm.records().get("customer", customer["id"])["owner"] == wang.user_id


def test_a_manager_gives_only_within_their_department_an_admin_to_anyone(crm: Loom, people: dict) -> None:
    manager, wang, zhou = people["zhang.jingli"], people["wang.fang"], people["zhou.fuwu"]
    customer = crm.records(wang).create("customer", {"name": "杭州云帆科技"})
    names = {person["username"] for person in candidates(crm, manager, "customer")}
    assert names == {"zhang.jingli", "wang.fang", "li.na"}
    with pytest.raises(OwnershipRefused) as refused:
        transfer_owner(crm, manager, "customer", customer["id"], zhou.user_id)
    assert refused.value.reason == "owner_not_allowed"
    assert (
        transfer_owner(crm, people["admin"], "customer", customer["id"], zhou.user_id)["owner"]
        == zhou.user_id
    )


def test_the_new_owner_must_be_an_active_user_and_another_one(crm: Loom, people: dict) -> None:
    manager, wang = people["zhang.jingli"], people["wang.fang"]
    customer = crm.records(wang).create("customer", {"name": "杭州云帆科技"})
    for new_owner, reason in ((999, "no_such_user"), (wang.user_id, "same_owner")):
        with pytest.raises(OwnershipRefused) as refused:
            transfer_owner(crm, manager, "customer", customer["id"], new_owner)
        assert refused.value.reason == reason


def test_who_may_not_change_the_object_transfers_nothing(crm: Loom, people: dict) -> None:
    finance = Actor.user(people["admin"].user_id + 1, "zhao", {"finance"})
    customer = crm.records(people["wang.fang"]).create("customer", {"name": "杭州云帆科技"})
    assert not may_transfer(crm, finance, "customer")
    with pytest.raises(PermissionDenied):
        transfer_owner(crm, finance, "customer", customer["id"], people["li.na"].user_id)


def test_a_pool_lead_given_to_a_rep_leaves_the_pool_and_its_clock_starts(crm: Loom, people: dict) -> None:
    lead = crm.records().create("lead", {"name": "公海线索", "in_pool": True, "owner": None})
    moved = transfer_owner(crm, people["admin"], "lead", lead["id"], people["li.na"].user_id)
    assert (moved["owner"], moved["in_pool"], moved["owner_assigned_at"]) == (
        people["li.na"].user_id,
        False,
        crm.clock.now(),
    )
