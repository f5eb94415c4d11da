"""Flows: an approver's inbox among 100,000 open tasks — the engine's call against the bare query."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from bench.setup import databases, fresh_loom, scaled
from engine.flows.inbox import inbox_query
from engine.store.system_tables import flow_instances, flow_tasks, users

APPROVERS = 1_000
BATCH = 20_000
SAMPLES = 200


def _fill(loom, tasks: int) -> None:  # type: ignore[no-untyped-def]
    """`tasks` pending tasks over as many instances, spread evenly over the approvers."""
    start = datetime(2026, 1, 1)
    with loom.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {
                    "id": u,
                    "username": f"u{u}",
                    "display_name": f"User {u}",
                    "active": True,
                    "created_at": start,
                }
                for u in range(1, APPROVERS + 1)
            ],
        )
        for first in range(1, tasks + 1, BATCH):
            ids = range(first, min(first + BATCH, tasks + 1))
            conn.execute(
                flow_instances.insert(),
                [
                    {
                        "id": i,
                        "flow": "deal_approval",
                        "flow_revision": 1,
                        "definition": {},
                        "object": "deal",
                        "record_id": i,
                        "status": "running",
                        "submitter_id": i % APPROVERS + 1,
                        "started_at": start + timedelta(seconds=i),
                        "snapshot": {"name": f"Deal {i}", "amount": "1000.00"},
                        "active_nodes": ["review"],
                        "state": {},
                    }
                    for i in ids
                ],
            )
            conn.execute(
                flow_tasks.insert(),
                [
                    {
                        "id": i,
                        "instance_id": i,
                        "node": "review",
                        "assignee_id": (i * 7919) % APPROVERS + 1,
                        "status": "pending",
                        "position": 0,
                        "created_at": start + timedelta(seconds=i),
                    }
                    for i in ids
                ],
            )


def _median_ms(call, rounds: int = SAMPLES) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for n in range(rounds):
        user_id = (n * 37) % APPROVERS + 1
        started = time.perf_counter()
        call(user_id)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _inbox(kind: str, tasks: int) -> dict:
    with fresh_loom(kind) as loom:
        _fill(loom, tasks)
        per_user = len(loom.flows.pending_for(1, limit=None))

        def raw(user_id: int) -> None:
            with loom.read() as conn:
                conn.execute(inbox_query(user_id, 200)).all()

        raw(1), loom.flows.pending_for(1)  # warm both paths
        baseline = _median_ms(raw)
        value = _median_ms(loom.flows.pending_for)
    return {
        "name": f"an approver's inbox among {tasks:,} open tasks, {per_user} theirs ({kind}, median)",
        "value": value,
        "unit": "ms",
        "baseline_name": "the same query run bare (Core)",
        "baseline": baseline,
        "ratio": value / baseline,
        "target": "≤ 20 ms",
    }


def run() -> list[dict]:
    tasks = scaled(100_000)
    return [_inbox(kind, tasks) for kind in databases()]
