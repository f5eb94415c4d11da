"""Approvals through the pages: submit on the record, decide in the inbox, see it on the record."""

from __future__ import annotations

import pytest

from engine import identity
from engine.actors import SYSTEM
from engine.errors import InvalidMetadata
from engine.loom import Loom
from engine.metadata_changes import apply_objects
from metadata.roles import RoleSpec
from metadata.specs import ObjectSpec
from tests.runtime.pages_world import Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def contract(team: Team, amount: str = "86000") -> dict:
    customer = team.customer("苏州精工机械有限公司")
    return team.loom.records(team.actor("wang.fang")).create(
        "contract", {"name": "数控机床采购合同", "customer": customer["id"], "amount": amount}
    )


def test_a_contract_goes_from_submission_to_approval_through_the_pages(team: Team) -> None:
    record = contract(team)
    path = f"/app/contract/{record['id']}"
    wang = team.client("wang.fang")
    assert "提交审批" in text(wang.get(path))
    submitted = wang.post(
        f"{path}/submit", data={"csrf_token": csrf(wang), "comment": "请审批"}, follow_redirects=True
    )
    page = text(submitted)
    assert "已提交审批" in page and "审批中" in page
    assert 'class="button primary">提交审批' not in page  # not twice while it runs

    manager = team.client("zhang.jingli")
    inbox = text(manager.get("/approvals"))
    assert "数控机床采购合同" in inbox and "提交人：王芳" in inbox
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    decided = manager.post(
        f"/approvals/tasks/{task['task_id']}/approve",
        data={
            "csrf_token": csrf(manager),
            "comment": "同意",
            "object": "contract",
            "record_id": record["id"],
        },
        follow_redirects=True,
    )
    assert "已通过" in text(decided)
    assert team.loom.records().get("contract", record["id"])["status"] == "approved"

    after = text(wang.get(path))
    timeline = after[after.index('class="timeline"') :]
    assert "提交了审批" in timeline and "张经理 同意" in timeline
    assert 'class="button primary">提交审批' not in after  # submit_when no longer holds


def test_only_the_approver_sees_the_decision_buttons_and_a_rejection_needs_a_reason(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    path = f"/app/contract/{record['id']}"
    assert "驳回" not in text(team.client("wang.fang").get(path))
    manager = team.client("zhang.jingli")
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    response = manager.post(
        f"/approvals/tasks/{task['task_id']}/reject",
        data={"csrf_token": csrf(manager), "comment": "", "object": "contract", "record_id": record["id"]},
        follow_redirects=True,
    )
    assert "驳回需要填写原因" in text(response)
    assert team.loom.flows.instance_of("contract", record["id"]).status == "running"


def test_the_submitter_can_withdraw(team: Team) -> None:
    record = contract(team)
    instance = team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    wang = team.client("wang.fang")
    response = wang.post(
        f"/approvals/{instance.id}/withdraw",
        data={"csrf_token": csrf(wang), "object": "contract", "record_id": record["id"]},
        follow_redirects=True,
    )
    assert "已撤回" in text(response)
    assert team.loom.flows.get(instance.id).status == "withdrawn"


def test_notifications_are_listed_and_marked_read(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    manager = team.client("zhang.jingli")
    page = text(manager.get("/notifications"))
    assert "待审批：合同审批 · 数控机床采购合同" in page
    assert '<span class="count">1</span>' in page
    manager.post("/notifications/read", data={"csrf_token": csrf(manager), "all": "1"})
    assert "所有通知都已读" in text(manager.get("/notifications"))
    assert "待审批：合同审批" in text(manager.get("/notifications?show=all"))


CALLBACK = {
    "name": "callback",
    "label": {"zh_CN": "回访", "en": "Callback"},
    "title_field": "topic",
    "home": {"filter": "owner == user() and not done", "sort": ["-topic"], "fields": ["due_on"]},
    "fields": [
        {"name": "topic", "type": "text", "required": True},
        {"name": "due_on", "type": "date"},
        {"name": "done", "type": "boolean", "default": "False"},
    ],
}


def test_the_home_page_to_dos_come_from_the_object_that_declares_them(team: Team) -> None:
    caller = {
        "name": "caller",
        "label": {"en": "Caller"},
        "objects": {"callback": {"create": True, "read": "own"}},
    }
    apply_objects(team.loom, [ObjectSpec.from_json(CALLBACK)], roles=[RoleSpec.from_json(caller)])
    identity.add_role(team.loom, team.ids["zhang.jingli"], "caller", actor=SYSTEM)
    records = team.loom.records(team.actor("zhang.jingli"))
    records.create("callback", {"topic": "回访甲方", "due_on": "2026-12-01"})
    records.create("callback", {"topic": "回访乙方", "done": True})
    records.create("task", {"subject": "整理报价单", "due_date": "2026-11-30"})
    home = text(team.client("zhang.jingli").get("/"))
    mine = home[home.index('id="my-tasks"') : home.index('id="my-approvals"')]
    assert "回访甲方" in mine and "2026" in mine  # the callback with its due date
    assert "回访乙方" not in mine  # done: the filter leaves it out
    assert "整理报价单" not in mine  # the first object by name with a home section is the one shown
    broken = {**CALLBACK, "home": {"filter": "owner == user() and not dnoe"}}
    with pytest.raises(InvalidMetadata) as caught:
        apply_objects(team.loom, [ObjectSpec.from_json(broken)])
    assert any(problem.path == "/home/filter" for problem in caught.value.problems)


def test_the_home_page_lists_my_tasks_approvals_and_recent_records(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    team.loom.records(team.actor("zhang.jingli")).create(
        "task", {"subject": "回访苏州精工", "due_date": "2026-11-30", "priority": "high"}
    )
    home = text(team.client("zhang.jingli").get("/"))
    assert "你好, 张经理" in home
    assert "回访苏州精工" in home  # my open task
    assert "数控机床采购合同" in home  # waiting for my approval
    assert "待审批：合同审批" in home  # the reminder under the bell
    recent = text(team.client("wang.fang").get("/"))
    assert "数控机床采购合同" in recent[recent.index('id="recent"') :]
