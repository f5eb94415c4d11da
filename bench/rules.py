"""Rules: what 200 rules cost a save when 3 apply, a scheduled rule over a large object, and trying a
rule of five actions on a record (the builder's dry run)."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import timedelta

from bench.queries import _fill
from bench.setup import fresh_loom, scaled
from engine.rules.schedules import sync_rule_schedules
from engine.rules.trial import try_rule
from engine.schema.changes import apply_objects
from engine.store.system_tables import rule_episodes
from engine.work.due_work import run_due
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec

SCHEDULED = RuleSpec.from_json(
    {
        "name": "big_deal_todo",
        "object": "deal",
        "trigger": {"type": "schedule", "cron": "0 9 * * *"},
        # The bench amounts are spread evenly over 0 … 1,000,002, so this picks about 1% of the rows.
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
TASK = {
    "name": "todo",
    "label": {"en": "To-do"},
    "fields": [{"name": "subject", "type": "text", "required": True}, {"name": "deal_id", "type": "integer"}],
}


def _rules(count: int, relevant: int) -> list[RuleSpec]:
    """`relevant` rules react to the measured change; the rest watch other fields or other events.

    The relevant ones are before-save rules whose condition holds and whose action sets a field
    of the record being saved, so the figure is the rules machinery — choosing the rules,
    evaluating their conditions, running their actions and logging each firing — not the cost of
    further saves an action might cause.
    """
    rules = []
    for i in range(count):
        if i < relevant:
            trigger = {"type": "on_update", "fields": ["amount"], "phase": "before_save"}
            condition, field, value = "amount > 100 and stage in ['new', 'won']", "probability", "50"
        else:
            trigger = {"type": ("on_update", "on_create", "on_delete")[i % 3]}
            if i % 3 == 0:
                trigger["fields"] = ["email"]
            condition, field, value = "hot", "region", "'east'"
        rules.append(
            RuleSpec.from_json(
                {
                    "name": f"rule_{i:03d}",
                    "object": "deal",
                    "trigger": trigger,
                    "condition": condition,
                    "actions": [{"type": "set_field", "field": field, "value": value}],
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


def _run_rule_once(loom, *, traced: bool) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """One worker pass that runs the scheduled rule; returns seconds and peak traced bytes."""
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        sync_rule_schedules(loom, conn, {}, registry.rule_specs(), registry)
    loom.clock.set(loom.clock.now() + timedelta(days=1))
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    run_due(loom, loom.due_handlers)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    return elapsed, peak


def _forget_firings(loom) -> None:  # type: ignore[no-untyped-def]
    with loom.begin() as conn:
        conn.execute(loom.registry_for(conn).object("todo").table.delete())
        conn.execute(rule_episodes.delete())


def _scheduled_rule(n: int, *, timed: bool) -> dict[str, float]:
    with fresh_loom("sqlite") as loom:
        apply_objects(loom, [ObjectSpec.from_json(TASK)])
        _fill(loom, n)
        apply_objects(loom, [], rules=[SCHEDULED])
        figures: dict[str, float] = {"matching": loom.queries().count("deal", filter=SCHEDULED.condition)}
        if timed:
            figures["seconds"], _ = _run_rule_once(loom, traced=False)
            figures["created"] = loom.queries().count("todo")
            started = time.perf_counter()
            loom.queries().count("deal", filter=SCHEDULED.condition)
            figures["select"] = time.perf_counter() - started
            _forget_firings(loom)
        _, figures["peak"] = _run_rule_once(loom, traced=True)
        return figures


def _scheduled_rule_figures() -> list[dict]:
    n = scaled(1_000_000)
    big = _scheduled_rule(n, timed=True)
    small = _scheduled_rule(n // 10, timed=False)
    return [
        {
            "name": f"scheduled rule over {n:,} rows, {big['matching']:,.0f} matching → "
            f"{big['created']:,.0f} to-dos (SQLite)",
            "value": big["seconds"],
            "unit": "s",
            "baseline_name": "the SQL selection alone",
            "baseline": big["select"],
            "ratio": big["seconds"] / big["select"],
            "target": "≤ 2 s",
        },
        {
            "name": f"peak memory of that run ({n:,} rows)",
            "value": big["peak"] / 1e6,
            "unit": "MB",
            "baseline_name": f"same rule over {n // 10:,} rows",
            "baseline": small["peak"] / 1e6,
            "ratio": big["peak"] / small["peak"],
            "target": "flat (ratio ≈ 1 for 10× the rows)",
        },
    ]


FIVE_ACTIONS = RuleSpec.from_json(
    {
        "name": "five_actions",
        "object": "deal",
        "trigger": {"type": "on_update"},
        "condition": "amount > 100 and stage in ['new', 'won']",
        "actions": [
            {"type": "set_field", "field": "probability", "value": "50"},
            {"type": "set_field", "field": "region", "value": "'east'"},
            {"type": "set_field", "field": "hot", "value": "True"},
            {
                "type": "create_record",
                "object": "todo",
                "values": {"subject": "'Call about ' + name", "deal_id": "id"},
            },
            {
                "type": "create_record",
                "object": "todo",
                "values": {"subject": "'Quote for ' + name", "deal_id": "id"},
            },
        ],
    }
)


def _dry_run() -> dict:
    with fresh_loom("sqlite") as loom:
        apply_objects(loom, [ObjectSpec.from_json(TASK)])
        ids = loom.records().bulk_create("deal", [{"name": f"d{i}", "amount": "500"} for i in range(200)])
        saves = _save_ms(loom, ids[:100])
        samples = []
        for record_id in ids[100:]:
            started = time.perf_counter()
            trial = try_rule(loom, FIVE_ACTIONS, record_id)
            samples.append(time.perf_counter() - started)
            if not trial.would_fire or len(trial.actions) != 5:
                raise RuntimeError(f"the dry run did not fire all five actions: {trial.error}")
    tried = statistics.median(samples) * 1000
    return {
        "name": "dry run of a rule with 5 actions on a record (SQLite, median)",
        "value": tried,
        "unit": "ms",
        "baseline_name": "one save of the record, no rules",
        "baseline": saves,
        "ratio": tried / saves,
        "target": "≤ 50 ms",
    }


def run() -> list[dict]:
    return [_rules_on_save(), *_scheduled_rule_figures(), _dry_run()]
