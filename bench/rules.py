"""Rules: what 200 rules cost a save when 3 apply, and a scheduled rule over a large object."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import timedelta

from bench.queries import _fill
from bench.setup import DEAL, fresh_loom, scaled
from engine.due_work import run_due
from engine.metadata_changes import apply_objects
from engine.rules.schedules import sync_rule_schedules
from metadata.rules import RuleSpec

TASK = {
    "name": "todo",
    "label": {"en": "To-do"},
    "fields": [{"name": "subject", "type": "text", "required": True}, {"name": "deal_id", "type": "integer"}],
}


def _rules(count: int, relevant: int) -> list[RuleSpec]:
    """`relevant` rules watch `amount`; the rest watch other fields, as a busy object's rules would."""
    rules = []
    for i in range(count):
        watched = "amount" if i < relevant else f"region{i % 7}"
        rules.append(
            RuleSpec.from_json(
                {
                    "name": f"rule_{i:03d}",
                    "object": "deal",
                    "trigger": {
                        "type": "on_update",
                        "fields": ["amount" if watched == "amount" else "region"],
                    }
                    if i < relevant
                    else {"type": "on_update", "fields": ["email"]},
                    "condition": "amount > 100 and stage in ['new', 'won']" if i < relevant else "hot",
                    "actions": [{"type": "set_field", "field": "probability", "value": "50"}]
                    if i < relevant
                    else [{"type": "set_field", "field": "hot", "value": "False"}],
                }
            )
        )
    return rules


def _save_ms(loom, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for n, record_id in enumerate(ids):
        started = time.perf_counter()
        loom.records().update("deal", record_id, {"amount": str(1000 + n)})
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _rules_on_save() -> dict:
    with fresh_loom("sqlite") as loom:
        ids = loom.records().bulk_create("deal", [{"name": f"d{i}", "amount": "10"} for i in range(400)])
        without = _save_ms(loom, ids[:200])
        apply_objects(loom, [], rules=_rules(200, 3))
        with_rules = _save_ms(loom, ids[200:])
    return {
        "name": "save with 200 rules, 3 relevant (SQLite, median)",
        "value": with_rules,
        "unit": "ms",
        "baseline_name": "same save with no rules",
        "baseline": without,
        "ratio": with_rules / without,
        "note": f"adds {with_rules - without:.2f} ms",
        "target": "adds ≤ 1 ms",
    }


def _scheduled_rule() -> dict:
    n = scaled(1_000_000)
    with fresh_loom("sqlite") as loom:
        from metadata.specs import ObjectSpec

        apply_objects(loom, [ObjectSpec.from_json(TASK)])
        _fill(loom, n)
        # The bench amounts are spread evenly over 0 … 1,000,002, so this picks about 1% of the rows.
        rule = RuleSpec.from_json(
            {
                "name": "big_deal_todo",
                "object": "deal",
                "trigger": {"type": "schedule", "cron": "0 9 * * *"},
                "condition": "amount >= 990000",
                "fire": "once_per_episode",
                "actions": [
                    {
                        "type": "create_record",
                        "object": "todo",
                        "values": {"subject": "'Call about ' + name", "deal_id": "id"},
                    }
                ],
            }
        )
        apply_objects(loom, [], rules=[rule])
        matching = loom.queries().count("deal", filter=rule.condition)
        with loom.begin() as conn:
            registry = loom.registry_for(conn)
            sync_rule_schedules(loom, conn, {}, registry.rule_specs(), registry)
        loom.clock.set(loom.clock.now() + timedelta(days=1))
        tracemalloc.start()
        started = time.perf_counter()
        run_due(loom, loom.due_handlers)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        created = loom.queries().count("todo")
        started = time.perf_counter()
        loom.queries().count("deal", filter=rule.condition)
        select_only = time.perf_counter() - started
    return {
        "name": f"scheduled rule over {n:,} rows, {matching:,} matching → {created:,} to-dos (SQLite)",
        "value": elapsed,
        "unit": "s",
        "baseline_name": "the SQL selection alone",
        "baseline": select_only,
        "ratio": elapsed / select_only,
        "note": f"peak traced memory {peak / 1e6:.1f} MB",
        "target": "≤ 2 s, memory flat",
    }


def run() -> list[dict]:
    assert DEAL.name == "deal"
    return [_rules_on_save(), _scheduled_rule()]
