"""Why each rule did or did not fire for a record: its last runs, and its condition evaluated now."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.base.actors import SYSTEM
from engine.base.errors import ExpressionError
from engine.expressions import evaluate, parse
from engine.rules.runlog import json_safe, runs_for_record
from engine.store.system_tables import due_work, rule_episodes

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass
class Explanation:
    rule: str
    trigger: str
    verdict: str  # one line a person reads first
    condition: str | None = None
    condition_value: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    # Each function call over a field in the condition, with its value now: "days_since(x)" → 16.
    computed: dict[str, Any] = field(default_factory=dict)
    next_due: datetime | None = None  # naive UTC, as stored; show it with business_time
    runs: list[dict[str, Any]] = field(default_factory=list)
    timezone: str = "UTC"  # the business time zone the times are shown in


def business_time(moment: datetime | None, timezone: str) -> str:
    """A stored (naive UTC) moment as the business sees it, with the zone named."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {timezone}"


def created_records(run: dict[str, Any]) -> list[tuple[str, int]]:
    """The records a run's create_record actions made, as (object, id)."""
    return [
        (action["object"], action["id"])
        for action in run.get("actions") or ()
        if action.get("type") == "create_record" and action.get("id") is not None
    ]


def _field_calls(condition: str) -> list[str]:
    """The function calls in a condition that read a field, outermost first, each once."""
    expression = parse(condition)
    found: list[str] = []
    for node in ast.walk(expression.tree):
        if not isinstance(node, ast.Call):
            continue
        reads = {
            n.id
            for arg in (*node.args, *(k.value for k in node.keywords))
            for n in ast.walk(arg)
            if isinstance(n, ast.Name)
        }
        text = ast.unparse(node)
        if reads & expression.names and text not in found:
            found.append(text)
    return found


def explain(loom: Loom, object_name: str, record_id: int) -> list[Explanation]:
    """One explanation per rule of the object, in run order."""
    record = loom.records().get(object_name, record_id, include_deleted=True)
    ectx, _ = loom.contexts(SYSTEM)
    timezone = str(loom.clock.timezone)
    with loom.read() as conn:
        registry = loom.registry_for(conn)
        rules = sorted(
            (r for r in registry.rules.values() if r.object == object_name), key=lambda r: (r.order, r.name)
        )
        runs = runs_for_record(conn, object_name, record_id)
        episodes = set(
            conn.execute(select(rule_episodes.c.rule).where(rule_episodes.c.record_id == record_id)).scalars()
        )
        due = {
            row.key: row.due_at
            for row in conn.execute(
                select(due_work.c.key, due_work.c.due_at).where(due_work.c.status == "pending")
            )
        }
    explanations = []
    for rule in rules:
        item = Explanation(
            rule.name,
            rule.trigger.type,
            "",
            rule.condition,
            runs=[r for r in runs if r["rule"] == rule.name][:5],
            timezone=timezone,
        )
        item.next_due = due.get(f"rule:{rule.name}:record:{record_id}") or due.get(f"rule:{rule.name}")
        item.verdict = _verdict(rule, record, ectx, item, rule.name in episodes)
        explanations.append(item)
    return explanations


def _verdict(rule, record, ectx, item: Explanation, in_episode: bool) -> str:  # type: ignore[no-untyped-def]
    if not rule.active:
        return "inactive: the rule is switched off"
    if rule.condition:
        names = sorted(parse(rule.condition).names)
        item.inputs = {name: _shown(record.get(name), item.timezone) for name in names}
        for text in _field_calls(rule.condition):
            try:
                item.computed[text] = _shown(evaluate(text, record, ectx), item.timezone)
            except ExpressionError as error:
                item.computed[text] = f"cannot be evaluated: {error}"
        try:
            item.condition_value = json_safe(evaluate(rule.condition, record, ectx))
        except ExpressionError as error:
            return f"condition cannot be evaluated on this record: {error}"
    else:
        item.condition_value = True
    fired = [run for run in item.runs if run["status"] == "fired"]
    if not item.condition_value:
        return "condition is false now, so the rule does not fire" + _last(fired, item.timezone)
    if rule.fire == "once_per_episode" and in_episode:
        return (
            "condition is true but the rule already fired in this episode; it fires again only after "
            "the condition has been false" + _last(fired, item.timezone)
        )
    when = {"schedule": "at its next scheduled run", "date_offset": "on its due date"}.get(
        rule.trigger.type, f"on the next {rule.trigger.type.replace('_', ' ')}"
    )
    return f"condition is true now: the rule fires {when}" + _last(fired, item.timezone)


def _shown(value: Any, timezone: str) -> Any:
    """A value as explain shows it: moments in business time, the rest as the run log stores them."""
    return business_time(value, timezone) if isinstance(value, datetime) else json_safe(value)


def _last(fired: list[dict[str, Any]], timezone: str) -> str:
    if not fired:
        return " (it has not fired for this record)"
    return f" (last fired {business_time(fired[0]['at'], timezone)})"
