"""The lead pool (公海): leads go back to it, reps claim them up to a cap, and two reps never get one lead."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from engine.base.actors import Actor
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE
from engine.rules.pool import PoolRefused, claim, release
from engine.schema.changes import apply_objects
from engine.store.system_tables import users
from engine.work.due_work import run_due
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec
from metadata.validation import validate_object


def add_rep(loom: Loom, username: str) -> Actor:
    with loom.begin() as conn:
        result = conn.execute(
            insert(users).values(username=username, display_name=username, created_at=loom.clock.now())
        )
    return Actor.user(result.inserted_primary_key[0], username, {"sales_rep"})


def configure_pool(loom: Loom, **pool: Any) -> None:
    lead = loom.registry.object("lead").spec
    apply_objects(loom, [ObjectSpec.from_json({**lead.to_json(), "pool": pool})])


def pooled_lead(loom: Loom, name: str = "公海线索", **values: Any) -> int:
    return loom.records().create("lead", {"name": name, "in_pool": True, **values})["id"]


def test_an_unqualified_lead_goes_back_to_the_pool(crm: Loom) -> None:
    rep = add_rep(crm, "zhang.wei")
    doc = {
        "name": "unqualified_to_pool",
        "object": "lead",
        "trigger": {"type": "on_update", "fields": ["status"]},
        "condition": "status == 'unqualified'",
        "actions": [{"type": "move_to_pool"}],
    }
    apply_objects(crm, [], rules=[RuleSpec.from_json(doc)])
    lead = crm.records(rep).create("lead", {"name": "王先生", "owner": rep.user_id})
    assert lead["in_pool"] is False

    crm.records(rep).update("lead", lead["id"], {"status": "unqualified"})
    back = crm.records().get("lead", lead["id"])
    assert (back["owner"], back["in_pool"], back["pool_entered_at"]) == (None, True, crm.clock.now())
    change = crm.records().history("lead", lead["id"])[-1]
    assert change["actor_name"] == "rule:unqualified_to_pool"
    assert change["changes"]["owner"] == [rep.user_id, None]


def test_move_to_pool_before_save_changes_the_record_being_saved(crm: Loom) -> None:
    doc = {
        "name": "web_leads_to_pool",
        "object": "lead",
        "trigger": {"type": "on_create", "phase": "before_save"},
        "condition": "source == 'website'",
        "actions": [{"type": "move_to_pool"}],
    }
    apply_objects(crm, [], rules=[RuleSpec.from_json(doc)])
    lead = crm.records().create("lead", {"name": "网站线索", "source": "website", "owner": None})
    assert (lead["in_pool"], lead["pool_entered_at"]) == (True, crm.clock.now())
    assert [entry["action"] for entry in crm.records().history("lead", lead["id"])] == ["create"]


def test_a_rep_claims_a_lead_and_the_audit_says_who(crm: Loom) -> None:
    rep = add_rep(crm, "li.na")
    lead_id = pooled_lead(crm)
    [claimed] = claim(crm, rep, "lead", [lead_id])
    assert (claimed["owner"], claimed["in_pool"]) == (rep.user_id, False)
    change = crm.records().history("lead", lead_id)[-1]
    assert (change["actor_id"], change["actor_name"]) == (rep.user_id, "li.na")
    assert change["changes"]["owner"] == [None, rep.user_id]


def test_reps_claim_through_the_pool_even_when_they_cannot_edit_the_flag(crm: Loom) -> None:
    lead = crm.registry.object("lead").spec.to_json()
    for field in lead["fields"]:
        if field["name"] == "in_pool":
            field["readonly"] = True
    apply_objects(crm, [ObjectSpec.from_json(lead)])
    rep = add_rep(crm, "li.na")
    lead_id = pooled_lead(crm)
    with pytest.raises(PermissionDenied, match="may see this lead but not change it"):
        crm.records(rep).update("lead", lead_id, {"in_pool": False, "owner": rep.user_id})
    [claimed] = claim(crm, rep, "lead", [lead_id])
    assert (claimed["owner"], claimed["in_pool"]) == (rep.user_id, False)
    [released] = release(crm, rep, "lead", [lead_id], "客户暂无需求")
    assert released["in_pool"] is True


def test_a_lead_already_claimed_is_refused_and_nothing_is_claimed(crm: Loom) -> None:
    first, second = add_rep(crm, "li.na"), add_rep(crm, "wang.fang")
    taken, free = pooled_lead(crm, "已被领取"), pooled_lead(crm, "仍在公海")
    claim(crm, first, "lead", [taken])
    with pytest.raises(PoolRefused, match=f"lead {taken} is not in the pool any more"):
        claim(crm, second, "lead", [free, taken])
    still = crm.records().get("lead", free)
    assert (still["owner"], still["in_pool"]) == (None, True)  # all or nothing


def test_a_lead_that_does_not_exist_is_named(crm: Loom) -> None:
    rep = add_rep(crm, "li.na")
    with pytest.raises(PoolRefused, match="lead 999 does not exist"):
        claim(crm, rep, "lead", [999])


def test_the_claim_cap_counts_only_the_leads_still_being_worked(crm: Loom) -> None:
    configure_pool(crm, claim_cap=2, cap_filter="status in ['new', 'contacted']")
    rep = add_rep(crm, "li.na")
    crm.records().create("lead", {"name": "在跟进", "owner": rep.user_id, "status": "contacted"})
    crm.records().create("lead", {"name": "已转化", "owner": rep.user_id, "status": "converted"})
    a, b = pooled_lead(crm, "甲"), pooled_lead(crm, "乙")

    with pytest.raises(PoolRefused) as refused:
        claim(crm, rep, "lead", [a, b])
    assert refused.value.message.startswith("you may hold at most 2 lead records that match status in")
    assert "you hold 1, so claiming 2 more would make 3" in refused.value.message
    assert crm.records().get("lead", a)["in_pool"] is True

    claim(crm, rep, "lead", [a])
    with pytest.raises(PoolRefused, match="you hold 2"):
        claim(crm, rep, "lead", [b])


def test_a_rep_releases_their_lead_and_only_their_own(crm: Loom) -> None:
    owner, other = add_rep(crm, "li.na"), add_rep(crm, "wang.fang")
    lead_id = pooled_lead(crm)
    claim(crm, owner, "lead", [lead_id])
    with pytest.raises(PoolRefused, match=f"lead {lead_id} is not yours to release"):
        release(crm, other, "lead", [lead_id], "不是我的")
    [back] = release(crm, owner, "lead", [lead_id], "客户暂无需求")
    assert (back["owner"], back["in_pool"], back["pool_entered_at"]) == (None, True, crm.clock.now())
    [again] = claim(crm, other, "lead", [lead_id])
    assert again["owner"] == other.user_id


def test_two_reps_claiming_one_lead_at_once_exactly_one_gets_it(crm: Loom) -> None:
    reps = [add_rep(crm, f"rep{n}") for n in range(4)]
    lead_id = pooled_lead(crm)
    # A slow save keeps the first claim's transaction open while the others arrive.
    crm.events.subscribe("before_save", lambda event: time.sleep(0.2))
    start = threading.Barrier(len(reps))
    won: list[int] = []
    refused: list[str] = []
    unexpected: list[BaseException] = []

    def try_claim(rep: Actor) -> None:
        start.wait()
        try:
            claim(crm, rep, "lead", [lead_id])
            won.append(rep.user_id or 0)
        except PoolRefused as error:
            refused.append(error.message)
        except BaseException as error:  # reported by the assertion below
            unexpected.append(error)

    threads = [threading.Thread(target=try_claim, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    assert len(won) == 1 and len(refused) == len(reps) - 1
    assert all("not in the pool any more" in message for message in refused)
    assert crm.records().get("lead", lead_id)["owner"] == won[0]


def test_pool_settings_are_checked_when_the_object_is_validated() -> None:
    lead, *targets = (
        json.loads((CRM_PACKAGE / "objects" / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("lead", "customer", "contact", "opportunity", "followup", "task")
    )
    known = {doc["name"]: ObjectSpec.from_json(doc) for doc in targets}  # what the lead looks up and lists
    lead["pool"] = {"flag": "company", "claim_cap": 0}
    [problem] = validate_object(lead, "objects/lead.json", known_objects=known).problems
    assert (problem.path, problem.message) == ("/pool/claim_cap", "must be at least 1, not 0")

    lead["pool"] = {"flag": "company", "claim_cap": 50, "cap_filter": "status in ['new', 'contacted']"}
    [problem] = validate_object(lead, "objects/lead.json", known_objects=known).problems
    assert problem.path == "/pool/flag"
    assert "'company' is a text field" in problem.message


def run_passes(loom: Loom, at: datetime) -> None:
    loom.clock.set(at)
    run_due(loom, loom.due_handlers)


def test_a_claimed_lead_is_recycled_counting_from_the_claim_not_from_its_silence_before(crm: Loom) -> None:
    rep = add_rep(crm, "li.na")
    start = crm.clock.now()
    lead_id = pooled_lead(crm, "沉默了十天的线索")
    run_passes(crm, start + timedelta(days=10))
    claim(crm, rep, "lead", [lead_id])

    run_passes(crm, start + timedelta(days=11))  # held one day: not the rep's silence
    kept = crm.records().get("lead", lead_id)
    assert (kept["owner"], kept["in_pool"]) == (rep.user_id, False)

    run_passes(crm, start + timedelta(days=18, hours=1))  # 8 days since the claim, no follow-up
    back = crm.records().get("lead", lead_id)
    assert (back["owner"], back["in_pool"], back["pool_last_owner"]) == (None, True, rep.user_id)
    assert back["pool_return_reason"] == "超过7天未跟进，系统自动回收"


def test_a_follow_up_after_the_claim_restarts_the_clock_too(crm: Loom) -> None:
    rep = add_rep(crm, "li.na")
    start = crm.clock.now()
    lead_id = pooled_lead(crm, "刚领取的线索")
    claim(crm, rep, "lead", [lead_id])
    crm.clock.set(start + timedelta(days=5))
    crm.records(rep).create("followup", {"lead": lead_id, "subject": "首次沟通", "content": "电话沟通需求"})
    run_passes(crm, start + timedelta(days=10))
    assert crm.records().get("lead", lead_id)["owner"] == rep.user_id
    run_passes(crm, start + timedelta(days=13, hours=1))
    assert crm.records().get("lead", lead_id)["in_pool"] is True


def test_a_rep_cannot_reclaim_what_they_gave_back_until_the_cooldown_ends(crm: Loom) -> None:
    rep, other = add_rep(crm, "li.na"), add_rep(crm, "wang.fang")
    lead_id = pooled_lead(crm)
    claim(crm, rep, "lead", [lead_id])
    [back] = release(crm, rep, "lead", [lead_id], "客户预算下季度才批")
    assert (back["pool_last_owner"], back["pool_return_reason"]) == (rep.user_id, "客户预算下季度才批")

    with pytest.raises(PoolRefused) as refused:
        claim(crm, rep, "lead", [lead_id])
    assert refused.value.reason == "cooldown"
    assert refused.value.params["until"] == crm.clock.now() + timedelta(days=3)
    assert "you may claim it again from" in refused.value.message
    assert crm.records().get("lead", lead_id)["in_pool"] is True

    crm.clock.set(crm.clock.now() + timedelta(days=3))
    [again] = claim(crm, rep, "lead", [lead_id])
    assert again["owner"] == rep.user_id
    release(crm, rep, "lead", [lead_id], "仍无需求")
    [taken] = claim(crm, other, "lead", [lead_id])  # the cooldown is only for who gave it back
    assert taken["owner"] == other.user_id


def test_returning_needs_a_reason_and_a_lead_still_held(crm: Loom) -> None:
    rep = add_rep(crm, "li.na")
    lead_id = pooled_lead(crm)
    claim(crm, rep, "lead", [lead_id])
    with pytest.raises(PoolRefused) as refused:
        release(crm, rep, "lead", [lead_id], "   ")
    assert refused.value.reason == "reason_required"
    assert crm.records().get("lead", lead_id)["owner"] == rep.user_id
    release(crm, rep, "lead", [lead_id], "联系不上")
    with pytest.raises(PoolRefused) as refused:
        release(crm, rep, "lead", [lead_id], "联系不上")
    assert refused.value.reason == "already_in_pool"


def test_only_those_who_may_change_leads_claim_them(crm: Loom) -> None:
    with crm.begin() as conn:
        result = conn.execute(
            insert(users).values(username="zhao.caiwu", display_name="赵财务", created_at=crm.clock.now())
        )
    finance = Actor.user(result.inserted_primary_key[0], "zhao.caiwu", {"finance"})
    lead_id = pooled_lead(crm)
    with pytest.raises(PermissionDenied):
        claim(crm, finance, "lead", [lead_id])
    assert crm.records().get("lead", lead_id)["in_pool"] is True


def test_the_pools_cooldown_and_reason_need_the_fields_that_record_them() -> None:
    lead, *targets = (
        json.loads((CRM_PACKAGE / "objects" / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("lead", "customer", "contact", "opportunity", "followup", "task")
    )
    known = {doc["name"]: ObjectSpec.from_json(doc) for doc in targets}
    lead["pool"] = {"reclaim_cooldown_days": 3, "reason_required": True, "last_owner": "name"}
    problems = validate_object(lead, "objects/lead.json", known_objects=known).problems
    assert [(p.path, p.message) for p in problems] == [
        ("/pool/last_owner", "pool last_owner: 'name' is a text field, which cannot be used here"),
        ("/pool/reason_required", "reason_required needs return_reason: name the field that records it"),
    ]
