"""A sales rep's list over a large object reads only the rows in the rep's scope, through an index."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from bench.setup import fresh_loom, scaled
from engine.base.actors import Actor
from engine.identity.permissions import access_for, scope_condition
from engine.schema.changes import apply_objects
from engine.store.system_tables import departments, users
from metadata.roles import RoleSpec

DEPARTMENTS, PER_DEPARTMENT = 10, 10
REP = RoleSpec.from_json(
    {"name": "rep", "label": {"en": "Rep"}, "objects": {"deal": {"read": "department", "update": "own"}}}
)
OWN = RoleSpec.from_json(
    {
        "name": "own_rep",
        "label": {"en": "Rep, own records"},
        "objects": {"deal": {"read": "own", "update": "own"}},
    }
)


def _fill(loom, n: int) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2025, 1, 1)
    owners = DEPARTMENTS * PER_DEPARTMENT
    with loom.begin() as conn:
        for d in range(1, DEPARTMENTS + 1):
            conn.execute(departments.insert().values(id=d, name=f"d{d}", path=f"/{d}/", created_at=start))
        for u in range(1, owners + 1):
            conn.execute(
                users.insert().values(
                    id=u,
                    username=f"u{u}",
                    display_name=f"u{u}",
                    active=True,
                    created_at=start,
                    department_id=(u - 1) // PER_DEPARTMENT + 1,
                )
            )
        table = loom.registry_for(conn).object("deal").table
        batch = []
        for i in range(n):
            moment = start + timedelta(seconds=i * 30)
            batch.append(
                {
                    "name": f"Deal {i}",
                    "stage": "new",
                    "amount": Decimal(i % 1000),
                    "hot": False,
                    "probability": Decimal(10),
                    "owner_id": i % owners + 1,
                    "created_at": moment,
                    "updated_at": moment,
                    "version": 1,
                }
            )
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(table.insert(), batch)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def _plan(loom, actor: Actor) -> str:  # type: ignore[no-untyped-def]
    """SQLite's plan for the actor's first page, as the query service builds it (no shares here)."""
    registry = loom.registry
    model = registry.object("deal")
    scope = scope_condition(model, access_for(registry, actor, "deal"), "read", actor, shares=False)
    query = (
        model.table.select()
        .where(model.table.c.deleted_at.is_(None), scope)
        .order_by(model.table.c.created_at.desc(), model.table.c.id.desc())
        .limit(51)
    )
    compiled = query.compile(loom.db, compile_kwargs={"literal_binds": True})
    with loom.read() as conn:
        return "; ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def run() -> list[dict]:
    n = scaled(1_000_000)
    results = []
    with fresh_loom("sqlite") as loom:
        _fill(loom, n)
        apply_objects(loom, [], roles=[REP, OWN])
        actors = {
            "own": Actor.user(31, "u31", {"own_rep"}, department_id=4, department_path="/4/"),
            "department": Actor.user(31, "u31", {"rep"}, department_id=4, department_path="/4/"),
        }
        baseline = []
        for _ in range(100):
            started = time.perf_counter()
            loom.queries().find("deal", limit=50)
            baseline.append(time.perf_counter() - started)
        for scope, actor in actors.items():
            in_scope = loom.queries(actor).count("deal")
            samples = []
            for _ in range(100):
                started = time.perf_counter()
                loom.queries(actor).find("deal", limit=50)
                samples.append(time.perf_counter() - started)
            results.append(
                {
                    "name": f"rep's first page, {n:,} deals, {scope} scope: {in_scope:,} rows (p95)",
                    "value": _p95(samples),
                    "unit": "ms",
                    "baseline_name": "the same page unscoped (system)",
                    "baseline": _p95(baseline),
                    "ratio": _p95(samples) / _p95(baseline),
                    "note": "plan: " + _plan(loom, actor),
                }
            )
    return results
