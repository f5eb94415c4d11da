"""assign_owner: new leads go to reps in turn, to the least loaded rep, or by region."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import insert, update

from engine.base.clock import Clock
from engine.loom import Loom
from engine.rules.actions import ActionFailed
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.store.system_tables import user_roles, users
from metadata.rules import RuleSpec

REPS = ["zhang.wei", "li.na", "wang.fang"]


def add_users(loom: Loom, *usernames: str, active: bool = True) -> list[int]:
    ids = []
    with loom.begin() as conn:
        for name in usernames:
            result = conn.execute(
                insert(users).values(
                    username=name, display_name=name, active=active, created_at=loom.clock.now()
                )
            )
            ids.append(result.inserted_primary_key[0])
    return ids


def assign_leads(loom: Loom, phase: str = "after_save", **action: Any) -> None:
    doc = {
        "name": "assign_new_leads",
        "object": "lead",
        "trigger": {"type": "on_create", "phase": phase},
        "actions": [{"type": "assign_owner", **action}],
    }
    apply_objects(loom, [], rules=[RuleSpec.from_json(doc)])


def new_lead(loom: Loom, **values: Any) -> dict[str, Any]:
    lead = loom.records().create("lead", {"name": "线索", **values})
    return loom.records().get("lead", lead["id"])


def test_round_robin_over_three_reps_gives_each_a_turn(crm: Loom) -> None:
    zhang, li, wang = add_users(crm, *REPS)
    assign_leads(crm, strategy="round_robin", users=REPS)
    owners = [new_lead(crm)["owner"] for _ in range(4)]
    assert owners == [zhang, li, wang, zhang]
    with crm.read() as conn:
        latest = runs_for_rule(conn, "assign_new_leads")[0]
    assert latest["actions"] == [
        {"type": "assign_owner", "strategy": "round_robin", "owner": zhang, "username": "zhang.wei"}
    ]


def test_round_robin_before_save_assigns_in_the_insert_itself(crm: Loom) -> None:
    zhang, li, _ = add_users(crm, *REPS)
    assign_leads(crm, phase="before_save", strategy="round_robin", users=REPS)
    first, second = new_lead(crm), new_lead(crm)
    assert (first["owner"], second["owner"]) == (zhang, li)
    assert [entry["action"] for entry in crm.records().history("lead", first["id"])] == ["create"]


def test_round_robin_continues_where_it_stopped_after_a_restart(crm: Loom, database_url: str) -> None:
    zhang, li, wang = add_users(crm, *REPS)
    assign_leads(crm, strategy="round_robin", users=REPS)
    assert [new_lead(crm)["owner"] for _ in range(2)] == [zhang, li]
    restarted = Loom(database_url, clock=Clock(crm.clock.now()))
    try:
        assert [new_lead(restarted)["owner"] for _ in range(2)] == [wang, zhang]
    finally:
        restarted.close()


def test_round_robin_skips_a_deactivated_rep(crm: Loom) -> None:
    zhang, wang = add_users(crm, "zhang.wei", "wang.fang")
    add_users(crm, "li.na", active=False)
    assign_leads(crm, strategy="round_robin", users=REPS)
    assert [new_lead(crm)["owner"] for _ in range(3)] == [zhang, wang, zhang]


def test_a_username_that_does_not_exist_stops_the_save_and_is_named(crm: Loom) -> None:
    add_users(crm, "zhang.wei")
    assign_leads(crm, strategy="round_robin", users=["zhang.wei", "zhao.lie"])
    with pytest.raises(ActionFailed, match=r"there is no user named 'zhao\.lie'"):
        crm.records().create("lead", {"name": "线索"})
    assert crm.queries().count("lead") == 0


def test_concurrent_leads_are_shared_out_evenly(crm: Loom) -> None:
    ids = add_users(crm, *REPS)
    assign_leads(crm, strategy="round_robin", users=REPS)
    # A slow save keeps each transaction open after its turn was taken, while the others arrive.
    crm.events.subscribe("after_save", lambda event: time.sleep(0.1))
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def save() -> None:
        try:
            start.wait()
            crm.records().create("lead", {"name": "并发线索"})
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    owners = [lead["owner"] for lead in crm.queries().find("lead").records]
    assert sorted(owners) == sorted(ids * 2)


def test_least_loaded_gives_the_lead_to_the_rep_with_fewest_leads(crm: Loom) -> None:
    zhang, li, wang = add_users(crm, *REPS)
    records = crm.records()
    for owner in (zhang, zhang, li, wang):
        records.create("lead", {"name": "已有线索", "owner": owner})
    extra = records.create("lead", {"name": "已删除", "owner": wang})
    records.delete("lead", extra["id"])  # the recycle bin does not count
    assign_leads(crm, strategy="least_loaded", users=REPS)
    assert new_lead(crm)["owner"] == li  # li and wang hold one each; li comes first in the list
    assert new_lead(crm)["owner"] == wang
    assert new_lead(crm)["owner"] == zhang  # all even again: the list order decides


def test_by_field_sends_each_region_to_its_rep_and_the_rest_to_the_default(crm: Loom) -> None:
    zhang, li, wang = add_users(crm, *REPS)
    assign_leads(
        crm,
        strategy="by_field",
        field="region",
        map={"east": "zhang.wei", "south": "li.na"},
        default="wang.fang",
    )
    assert new_lead(crm, region="east")["owner"] == zhang
    assert new_lead(crm, region="south")["owner"] == li
    assert new_lead(crm, region="north")["owner"] == wang
    assert new_lead(crm)["owner"] == wang


def test_by_field_without_a_match_or_default_leaves_the_owner(crm: Loom) -> None:
    (zhang,) = add_users(crm, "zhang.wei")
    assign_leads(crm, strategy="by_field", field="region", map={"east": "zhang.wei"})
    assert new_lead(crm, region="north", owner=zhang)["owner"] == zhang
    with crm.read() as conn:
        [run] = runs_for_rule(conn, "assign_new_leads")
    assert "no user for region = 'north'" in run["actions"][0]["note"]


def test_by_field_gives_a_deactivated_reps_region_to_the_default(crm: Loom) -> None:
    (wang,) = add_users(crm, "wang.fang")
    add_users(crm, "zhang.wei", active=False)
    assign_leads(crm, strategy="by_field", field="region", map={"east": "zhang.wei"}, default="wang.fang")
    assert new_lead(crm, region="east")["owner"] == wang


def test_round_robin_by_role_takes_in_whoever_holds_the_role_when_the_record_comes(crm: Loom) -> None:
    li, wang, zhang = add_users(crm, "li.na", "wang.fang", "zhang.wei")
    with crm.begin() as conn:
        conn.execute(
            insert(user_roles), [{"user_id": li, "role": "sales_rep"}, {"user_id": wang, "role": "sales_rep"}]
        )
    assign_leads(crm, strategy="round_robin", role="sales_rep")
    assert [new_lead(crm)["owner"] for _ in range(3)] == [li, wang, li]
    with crm.begin() as conn:
        conn.execute(insert(user_roles).values(user_id=zhang, role="sales_rep"))
        conn.execute(update(users).where(users.c.id == li).values(active=False))
    assert [new_lead(crm)["owner"] for _ in range(3)] == [wang, zhang, wang]


def test_a_role_nobody_active_holds_leaves_the_record_unowned(crm: Loom) -> None:
    assign_leads(crm, strategy="least_loaded", role="sales_rep")
    assert new_lead(crm)["owner"] is None
    with crm.read() as conn:
        latest = runs_for_rule(conn, "assign_new_leads")[0]
    assert "no active user has the role 'sales_rep'" in latest["actions"][0]["note"]
