"""Flows: an approver's inbox among 100,000 open tasks — the engine's call against the bare query —
and simulating a 20-node flow on a contract (the designer's dry run) against one real submission."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from bench.setup import databases, fresh_loom, scaled
from engine.base.actors import SYSTEM
from engine.flows.inbox import inbox_query
from engine.flows.simulation import simulate_flow
from engine.identity import actor_for, create_user
from engine.packages.install import CRM_PACKAGE, install_package
from engine.schema.changes import apply_objects
from engine.store.system_tables import flow_instances, flow_tasks, users
from metadata.flows import FlowSpec

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


def _twenty_nodes(approvers: list[int]) -> FlowSpec:
    """19 approval steps, each a different person, then the end: 20 nodes walked one by one."""
    nodes: dict = {
        f"step_{n}": {"type": "approval", "approvers": [{"user": user_id}], "next": f"step_{n + 1}"}
        for n, user_id in enumerate(approvers)
    }
    nodes[f"step_{len(approvers) - 1}"]["next"] = "done"
    nodes["done"] = {"type": "end"}
    return FlowSpec.from_json(
        {"name": "long_review", "object": "contract", "start": "step_0", "nodes": nodes}
    )


def _simulation() -> dict:
    with fresh_loom("sqlite") as loom:
        install_package(loom, CRM_PACKAGE)
        people = [create_user(loom, f"approver.{n}", f"审批人{n}", actor=SYSTEM)["id"] for n in range(19)]
        flow = _twenty_nodes(people)
        apply_objects(loom, [], flows=[flow])
        rep = actor_for(loom, people[0])
        customer = loom.records().create("customer", {"name": "苏州精工"})["id"]
        contracts = [
            loom.records().create("contract", {"name": f"合同{n}", "customer": customer, "amount": "600000"})[
                "id"
            ]
            for n in range(60)
        ]
        samples, submits = [], []
        for contract in contracts[:30]:
            started = time.perf_counter()
            simulation = simulate_flow(loom, flow, contract, rep)
            samples.append(time.perf_counter() - started)
            if simulation.outcome != "approved" or len(simulation.path) != 20:
                raise RuntimeError(f"the simulation did not walk the 20 nodes: {simulation}")
        for contract in contracts[30:]:
            started = time.perf_counter()
            loom.flows.submit("contract", contract, "long_review", actor=SYSTEM)
            submits.append(time.perf_counter() - started)
    simulated, submitted = statistics.median(samples) * 1000, statistics.median(submits) * 1000
    return {
        "name": "simulate a 20-node flow on a contract (SQLite, median)",
        "value": simulated,
        "unit": "ms",
        "baseline_name": "one real submission (first node only)",
        "baseline": submitted,
        "ratio": simulated / submitted,
        "target": "≤ 50 ms",
    }


def run() -> list[dict]:
    tasks = scaled(100_000)
    return [*(_inbox(kind, tasks) for kind in databases()), _simulation()]
