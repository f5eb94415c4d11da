"""Trying a rule on a record: the condition with its inputs, and what each action would do — with
nothing written, whatever the rule does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.base.actors import SYSTEM
from engine.identity import create_user
from engine.loom import Loom
from engine.rules.trial import try_rule
from engine.store.system_tables import audit_log, notifications, outbox, rule_episodes, rule_runs
from metadata.rules import RuleSpec

VIP_RULE = "vip_followup_overdue"


def counts(loom: Loom) -> dict[str, int]:
    """How many rows every table a rule may write to holds: a trial must leave each as it was."""
    tables = {"audit": audit_log, "notifications": notifications, "outbox": outbox, "runs": rule_runs}
    tables["episodes"] = rule_episodes
    with loom.read() as conn:
        found = {
            name: conn.execute(select(func.count()).select_from(t)).scalar() for name, t in tables.items()
        }
        for name in ("task", "customer"):
            found[name] = conn.execute(
                select(func.count()).select_from(loom.registry.object(name).table)
            ).scalar()
    return found


def vip_silent_for(crm: Loom, days: int, owner: int) -> dict:
    followed_up = crm.clock.now() - timedelta(days=days)
    return crm.records().create(
        "customer",
        {"name": f"沉默{days}天的客户", "level": "vip", "owner": owner, "last_followup_at": followed_up},
    )


def test_the_vip_rule_on_a_customer_silent_16_days_would_create_the_task_and_writes_nothing(
    crm: Loom,
) -> None:
    rep = create_user(crm, "wang.fang", "王芳", actor=SYSTEM)
    customer = vip_silent_for(crm, 16, rep["id"])
    rule = crm.registry.rules[VIP_RULE]
    before = counts(crm)

    trial = try_rule(crm, rule, customer["id"])

    assert trial.would_fire and trial.condition_value is True and trial.error is None
    assert trial.inputs["level"] == "vip" and trial.inputs["last_followup_at"].startswith("2026-11-10")
    [created] = [c for c in trial.changes if c["object"] == "task" and c["action"] == "create"]
    assert created["changes"]["subject"][1] == "请立即跟进VIP客户：沉默16天的客户"
    assert created["changes"]["owner"][1] == rep["id"]
    assert trial.actions[0]["type"] == "create_record"
    assert counts(crm) == before
    # Tried again, it would still fire: the trial started no episode.
    assert try_rule(crm, rule, customer["id"]).would_fire


def test_a_customer_silent_3_days_shows_the_false_condition_and_its_inputs(crm: Loom) -> None:
    rep = create_user(crm, "wang.fang", "王芳", actor=SYSTEM)
    customer = vip_silent_for(crm, 3, rep["id"])

    trial = try_rule(crm, crm.registry.rules[VIP_RULE], customer["id"])

    assert not trial.would_fire and trial.condition_value is False
    assert set(trial.inputs) == {"level", "last_followup_at", "created_at"}
    assert trial.changes == [] and trial.actions == []


def test_a_draft_rule_with_several_actions_reports_each_effect(crm: Loom) -> None:
    rep = create_user(crm, "wang.fang", "王芳", actor=SYSTEM)
    customer = crm.records().create("customer", {"name": "华东精密", "level": "key", "owner": rep["id"]})
    draft = RuleSpec.from_json(
        {
            "name": "key_customer_care",
            "object": "customer",
            "trigger": {"type": "on_update"},
            "condition": "level == 'key'",
            "actions": [
                {"type": "set_field", "field": "lifecycle", "value": "'loyal'"},
                {"type": "notify", "to": "owner", "title": "'重点客户：' + name"},
                {
                    "type": "create_record",
                    "object": "task",
                    "values": {"subject": "'回访 ' + name", "owner": "owner"},
                },
            ],
        }
    )
    before = counts(crm)

    trial = try_rule(crm, draft, customer["id"])

    assert trial.would_fire, trial.error
    assert [a["type"] for a in trial.actions] == ["set_field", "notify", "create_record"]
    updated = [c for c in trial.changes if c["object"] == "customer" and c["record_id"] == customer["id"]]
    assert updated and updated[0]["changes"]["lifecycle"][1] == "loyal"
    assert [(n["user_id"], n["title"]) for n in trial.notifications] == [(rep["id"], "重点客户：华东精密")]
    assert any(c["object"] == "task" and c["action"] == "create" for c in trial.changes)
    assert counts(crm) == before
    assert crm.records().get("customer", customer["id"])["lifecycle"] == customer["lifecycle"]


def test_a_failing_action_is_reported_not_raised_and_nothing_is_kept(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "无负责人客户"})
    draft = RuleSpec.from_json(
        {
            "name": "bad_value",
            "object": "customer",
            "trigger": {"type": "on_update"},
            "actions": [{"type": "set_field", "field": "level", "value": "'no_such_level'"}],
        }
    )
    before = counts(crm)

    trial = try_rule(crm, draft, customer["id"])

    assert not trial.would_fire and "level" in trial.error
    assert counts(crm) == before


def test_a_record_is_needed_unless_the_rule_is_inbound(crm: Loom) -> None:
    with pytest.raises(ValueError, match="needs a record of customer"):
        try_rule(crm, crm.registry.rules[VIP_RULE])
