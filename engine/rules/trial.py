"""Trying a rule on one record: what it would read, decide and do, with nothing kept.

The rule runs for real — its condition, its actions and every rule they trigger in turn — in a
transaction that is always rolled back, so what is shown is what saving would do, not a second
reading of the rule that could disagree with the engine. What it did is read back before the
rollback: the changes it made to records, the notifications and messages it queued, and the
approvals it started.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select

from engine.base.actors import SYSTEM
from engine.base.errors import LoomError
from engine.rules.firing import Firing, fire_rule
from engine.rules.runlog import json_safe
from engine.store.system_tables import audit_log, flow_tasks, notifications, outbox, rule_runs
from metadata.rules import RuleSpec

if TYPE_CHECKING:
    from engine.loom import Loom

# The phase each trigger fires in (save triggers carry their own, before or after the save).
_PHASES = {
    "on_delete": "after_save",
    "schedule": "schedule",
    "date_offset": "date_offset",
    "on_submit": "flow",
    "on_approved": "flow",
    "on_rejected": "flow",
    "inbound": "inbound",
}
# What a trial reads back, each table with the columns a person reads.
_EFFECTS: dict[str, tuple[Table, tuple[str, ...]]] = {
    "changes": (audit_log, ("object", "record_id", "action", "changes", "actor_name")),
    "notifications": (notifications, ("user_id", "title", "body", "object", "record_id")),
    "messages": (outbox, ("channel", "message", "source")),
    "tasks": (flow_tasks, ("instance_id", "node", "assignee_id", "status")),
    "runs": (rule_runs, ("rule", "object", "record_id", "status", "condition_value", "error")),
}


@dataclass
class Trial:
    """What the rule would do to the record now; `would_fire` False says the condition is false."""

    rule: str
    object: str
    record_id: int | None
    would_fire: bool = False
    condition: str | None = None
    condition_value: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    # The record as the rule left it, field by field, where a before-save rule changed it.
    record_changes: dict[str, list[Any]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # the rules its changes triggered


def try_rule(
    loom: Loom, rule: RuleSpec, record_id: int | None = None, *, payload: Mapping[str, Any] | None = None
) -> Trial:
    """Run `rule` (saved or a draft) on record `record_id` of its object and report; nothing is kept.

    An inbound rule takes the webhook's `payload` instead of a record.
    """
    trial = Trial(rule.name, rule.object, record_id, condition=rule.condition)
    with loom.rehearsal() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(rule.object)
        record: dict[str, Any] = {}
        if rule.trigger.type != "inbound":
            if record_id is None:
                raise ValueError(f"trying rule {rule.name!r} needs a record of {rule.object}")
            record = loom.records(SYSTEM, conn).get(rule.object, record_id)
        before = dict(record)
        marks = {name: _last_id(conn, table) for name, (table, _) in _EFFECTS.items()}
        phase = _PHASES.get(rule.trigger.type, rule.trigger.phase)
        firing = Firing(loom, conn, registry, model, record, phase, payload=payload, occasion="trial")
        try:
            entry = fire_rule(rule, firing)
        except LoomError as error:
            trial.error = error.message
            return trial
        trial.would_fire = entry.status == "fired"
        trial.condition_value, trial.inputs = entry.condition_value, json_safe(entry.inputs)
        trial.actions, trial.error = json_safe(entry.actions), entry.error
        trial.record_changes = {
            name: json_safe([before.get(name), value])
            for name, value in record.items()
            if name in before and before[name] != value
        }
        for name, (table, columns) in _EFFECTS.items():
            setattr(trial, name, _rows_after(conn, table, columns, marks[name]))
        trial.runs = [run for run in trial.runs if run["rule"] != rule.name or run["record_id"] != record_id]
    return trial


def _last_id(conn: Connection, table: Table) -> int:
    return conn.execute(select(func.max(table.c.id))).scalar() or 0


def _rows_after(conn: Connection, table: Table, columns: tuple[str, ...], mark: int) -> list[dict[str, Any]]:
    query = select(*(table.c[name] for name in columns)).where(table.c.id > mark).order_by(table.c.id)
    return [json_safe(dict(row._mapping)) for row in conn.execute(query)]
