"""Reports: the funnel over 1,000,000 opportunities against the bare GROUP BY in the same run, on
SQLite and PostgreSQL; and a dashboard of 8 reports answered from the report cache."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.setup import DEAL, databases, fresh_loom, insert_in_batches, scaled
from engine.base.actors import SYSTEM, Actor
from engine.records.reports import run_report
from engine.schema.changes import apply_objects
from engine.store.system_tables import departments, users
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec

STAGES = ["new", "qualified", "proposal", "won", "lost"]
FUNNEL = ReportSpec.from_json(
    {
        "name": "deal_funnel",
        "object": "deal",
        "filter": "stage != 'lost'",
        "group_by": ["stage"],
        "measures": [{"function": "count"}, {"function": "sum", "field": "amount"}],
        "chart": "funnel",
    }
)
# Eight widgets of a sales dashboard over the same object, each a different aggregation.
DASHBOARD = [
    FUNNEL,
    *(
        ReportSpec.from_json({"name": f"widget_{i}", "object": "deal", "chart": "table", **shape})
        for i, shape in enumerate(
            [
                {"group_by": ["region"], "measures": [{"function": "sum", "field": "amount"}]},
                {
                    "group_by": [{"field": "close_date", "bucket": "month"}],
                    "measures": [{"function": "count"}],
                },
                {"group_by": ["hot"], "measures": [{"function": "avg", "field": "amount"}]},
                {"measures": [{"function": "count"}, {"function": "max", "field": "amount"}]},
                {
                    "group_by": ["region", "stage"],
                    "measures": [
                        {"function": "count"},
                        {"function": "count", "filter": "hot", "name": "hot"},
                    ],
                },
                {"group_by": ["owner"], "measures": [{"function": "count_distinct", "field": "region"}]},
                {
                    "filter": "stage in ['won', 'lost']",
                    "group_by": ["region"],
                    "measures": [
                        {"function": "count", "name": "closed"},
                        {"function": "count", "filter": "stage == 'won'", "name": "won"},
                        {"function": "ratio", "of": "won", "to": "closed", "name": "win_rate"},
                    ],
                },
            ]
        )
    ),
]
MANAGERS = 50
MANAGER_ROLE = RoleSpec.from_json(
    {
        "name": "sales_manager",
        "label": {"en": "Sales manager"},
        "objects": {"deal": {"read": "department_and_below"}},
    }
)


def _fill(loom, n: int) -> None:  # type: ignore[no-untyped-def]
    """Rows straight through Core: the report is measured here, not the insert."""
    table = loom.registry.object("deal").table
    now = loom.clock.now()
    regions = ["east", "south", "north", "central", "west"]
    rows = (
        {
            "name": f"Deal {i}",
            "stage": STAGES[i % 5],
            "amount": Decimal((i * 7919) % 1_000_003),
            "probability": Decimal(10),
            "region": regions[i % 5],
            "close_date": date(2026, 1, 1) + timedelta(days=i % 365),
            "hot": i % 7 == 0,
            "owner_id": 1 + i % 40,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for i in range(n)
    )
    insert_in_batches(loom, table, rows)


def _median_ms(call, rounds: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _funnel(kind: str, n: int) -> dict:
    with fresh_loom(kind) as loom:
        _fill(loom, n)
        table = loom.registry.object("deal").table

        def bare() -> None:
            with loom.read() as conn:
                conn.execute(
                    select(table.c.stage, func.count(table.c.id), func.sum(table.c.amount))
                    .where(table.c.deleted_at.is_(None), table.c.stage != "lost")
                    .group_by(table.c.stage)
                ).all()

        def funnel() -> None:
            run_report(loom, FUNNEL, SYSTEM)

        funnel(), bare()  # warm the page cache for both
        engine_ms, bare_ms = _median_ms(funnel, 7), _median_ms(bare, 7)
    target = "≤ 500 ms" if kind == "sqlite" else "≤ 300 ms"
    return {
        "name": f"funnel over {n:,} opportunities, median ({kind})",
        "value": engine_ms,
        "unit": "ms",
        "baseline_name": "bare GROUP BY",
        "baseline": bare_ms,
        "ratio": engine_ms / bare_ms,
        "target": target,
    }


def _team(loom) -> None:  # type: ignore[no-untyped-def]
    """One sales department whose 40 reps own the deals; its managers read department_and_below."""
    now = loom.clock.now()
    with loom.begin() as conn:
        conn.execute(departments.insert().values(id=1, name="Sales", path="/1/", created_at=now))
        conn.execute(
            users.insert(),
            [
                {"id": i, "username": f"rep{i}", "display_name": f"Rep {i}", "active": True,
                 "created_at": now, "department_id": 1}
                for i in range(1, 41)
            ],
        )  # fmt: skip


def _dashboard(n: int) -> list[dict]:
    with fresh_loom("sqlite") as loom:
        apply_objects(loom, [DEAL], roles=[MANAGER_ROLE], reports=DASHBOARD)
        _team(loom)
        _fill(loom, n)
        managers = [
            Actor.user(100 + i, f"manager{i}", {"sales_manager"}, department_id=1, department_path="/1/")
            for i in range(MANAGERS)
        ]
        started = time.perf_counter()
        for spec in DASHBOARD:
            loom.reports.run(spec.name, managers[0])
        cold_ms = (time.perf_counter() - started) * 1000
        samples = []
        for manager in managers:
            started = time.perf_counter()
            for spec in DASHBOARD:
                loom.reports.run(spec.name, manager)
            samples.append(time.perf_counter() - started)
        warm_ms = statistics.median(samples) * 1000
        runs = loom.reports.misses
    return [
        {
            "name": f"dashboard of {len(DASHBOARD)} reports from the cache, {MANAGERS} managers, median",
            "value": warm_ms,
            "unit": "ms",
            "baseline_name": "first opening (8 aggregations)",
            "baseline": cold_ms,
            "ratio": warm_ms / cold_ms,
            "target": "≤ 30 ms",
            "note": f"{runs} aggregations run for {MANAGERS * len(DASHBOARD) + len(DASHBOARD)} widget views",
        }
    ]


def run() -> list[dict]:
    n = scaled(1_000_000)
    results = [_funnel(kind, n) for kind in databases()]
    return results + _dashboard(scaled(100_000))
