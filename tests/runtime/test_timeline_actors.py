"""The timeline and approval history name the rules and flows that acted by their labels, never by id."""

from __future__ import annotations

import html

import pytest

from engine.loom import Loom
from engine.records.actor_names import actor_label
from tests.runtime.api_world import Api
from tests.runtime.pages_world import Team, build_team, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def timeline_of(team: Team, path: str, locale: str) -> str:
    page = text(team.client("wang.fang", locale).get(path, query_string={"lang": locale}))
    return html.unescape(page[page.index('class="timeline"') :])


def test_a_change_a_rule_made_shows_the_rules_label_in_the_readers_language(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    team.loom.records(team.actor("wang.fang")).create(
        "followup",
        {
            "subject": "电话沟通",
            "type": "call",
            "followup_at": "2026-11-20T02:00:00Z",
            "content": "谈了采购需求",
            "customer": customer["id"],
        },
    )
    path = f"/app/customer/{customer['id']}"
    chinese = timeline_of(team, path, "zh_CN")
    assert "规则「跟进记录更新客户最近跟进时间」 修改了" in chinese
    assert "系统 创建了记录" in chinese  # the record was created by the system, not by a person
    english = timeline_of(team, path, "en")
    assert 'rule "A follow-up updates the customer\'s last follow-up"' in english
    assert "rule:" not in chinese + english


def test_an_approval_shows_the_flow_that_acted_by_its_label(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    contract = team.loom.records(team.actor("wang.fang")).create(
        "contract", {"name": "数控机床采购合同", "customer": customer["id"], "amount": "86000"}
    )
    team.loom.flows.submit("contract", contract["id"], actor=team.actor("wang.fang"))
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    team.loom.flows.approve(task["task_id"], actor=team.actor("zhang.jingli"), comment="同意")
    path = f"/app/contract/{contract['id']}"
    chinese = timeline_of(team, path, "zh_CN")
    assert "审批流程「合同审批」" in chinese and "张经理 同意" in chinese
    assert "flow:" not in chinese and "flow:" not in timeline_of(team, path, "en")


def test_the_api_timeline_keeps_the_actor_and_adds_its_label(crm: Loom) -> None:
    api = Api(crm)
    api.person("admin", ["admin"])
    customer = api.create("customer", {"name": "苏州精工机械有限公司"})
    api.create(
        "followup",
        {
            "subject": "电话沟通",
            "type": "call",
            "followup_at": "2026-11-20T02:00:00Z",
            "content": "谈了采购需求",
            "customer": customer["id"],
        },
    )
    path = f"/records/customer/{customer['id']}/timeline"
    entries = api.get(path, headers={"Accept-Language": "zh-CN"}).get_json()["data"]
    [by_rule] = [entry for entry in entries if entry["actor"] == "rule:followup_touches_customer"]
    assert by_rule["actor_label"] == "规则「跟进记录更新客户最近跟进时间」"
    entries = api.get(path, headers={"Accept-Language": "en"}).get_json()["data"]
    [by_rule] = [entry for entry in entries if entry["actor"] == "rule:followup_touches_customer"]
    assert by_rule["actor_label"] == 'rule "A follow-up updates the customer\'s last follow-up"'


def test_a_rule_or_flow_that_no_longer_exists_is_named_and_a_person_stays_a_person(crm: Loom) -> None:
    registry = crm.registry
    assert actor_label(registry, "rule:vip_followup_overdue", "zh_CN") == "规则「VIP客户超过15天未跟进」"
    assert actor_label(registry, "rule:retired_rule", "zh_CN") == "规则「retired_rule」"
    assert actor_label(registry, "flow:retired_flow", "en") == 'approval flow "retired_flow"'
    assert actor_label(registry, "system", "zh_CN") == "系统"
    assert actor_label(registry, "王芳", "zh_CN") == "王芳" and actor_label(registry, None, "en") is None
