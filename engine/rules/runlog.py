"""The run log: one row per rule evaluation — the condition, the inputs it read, what each action did."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.store.system_tables import rule_runs


def json_safe(value: Any) -> Any:
    """Values as the run log stores them: dates as ISO text, decimals as exact strings."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.loads(json.dumps(value, default=str))


@dataclass
class RunEntry:
    rule: str
    object: str
    record_id: int | None
    trigger: str
    status: str  # fired, skipped, failed, stopped
    at: datetime
    actor_name: str
    depth: int
    condition: str | None = None
    condition_value: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "rule": self.rule,
            "object": self.object,
            "record_id": self.record_id,
            "trigger": self.trigger,
            "status": self.status,
            "condition": self.condition,
            "condition_value": json_safe(self.condition_value),
            "inputs": json_safe(self.inputs),
            "actions": json_safe(self.actions),
            "error": self.error,
            "actor_name": self.actor_name,
            "depth": self.depth,
        }


_watchers: ContextVar[tuple[list[RunEntry], ...]] = ContextVar("rule_run_watchers", default=())


@contextmanager
def watch_failures() -> Iterator[list[RunEntry]]:
    """Collect the failed and stopped runs written while the block runs (in this thread)."""
    found: list[RunEntry] = []
    token = _watchers.set((*_watchers.get(), found))
    try:
        yield found
    finally:
        _watchers.reset(token)


def write_runs(conn: Connection, entries: list[RunEntry]) -> None:
    if entries:
        conn.execute(insert(rule_runs), [entry.row() for entry in entries])
        failures = [entry for entry in entries if entry.status in ("failed", "stopped")]
        for watcher in _watchers.get() if failures else ():
            watcher.extend(failures)


def runs_for_record(
    conn: Connection, object_name: str, record_id: int, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest runs of every rule on one record."""
    query = (
        select(rule_runs)
        .where(rule_runs.c.object == object_name, rule_runs.c.record_id == record_id)
        .order_by(rule_runs.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def runs_for_rule(conn: Connection, rule: str, limit: int = 200) -> list[dict[str, Any]]:
    query = select(rule_runs).where(rule_runs.c.rule == rule).order_by(rule_runs.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]
