"""A sales rep's list over a large object reads only the rows in the rep's scope, through an index."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from bench.setup import fresh_loom, scaled
from engine.actors import Actor
from engine.metadata_changes import apply_objects
from engine.permissions import access_for, scope_condition
from engine.system_tables import departments, users
from metadata.roles import RoleSpec

DEPARTMENTS, PER_DEPARTMENT = 10, 10
REP = RoleSpec.from_json(
    {"name": "rep", "label": {"en": "Rep"}, "objects": {"deal": {"read": "department", "update": "own"}}}
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


def run() -> list[dict]:
    n = scaled(1_000_000)
    with fresh_loom("sqlite") as loom:
        _fill(loom, n)
        apply_objects(loom, [], roles=[REP])
        rep = Actor.user(31, "u31", {"rep"}, department_id=4, department_path="/4/")
        in_scope = loom.queries(rep).count("deal")
        samples = {"rep": [], "system": []}
        for _ in range(100):
            for who, actor in (("rep", rep), ("system", None)):
                started = time.perf_counter()
                (loom.queries(actor) if actor else loom.queries()).find("deal", limit=50)
                samples[who].append(time.perf_counter() - started)
        registry = loom.registry
        model = registry.object("deal")
        scope = scope_condition(model, access_for(registry, rep, "deal"), "read", rep)
        query = (
            model.table.select()
            .where(model.table.c.deleted_at.is_(None), scope)
            .order_by(model.table.c.created_at.desc(), model.table.c.id.desc())
            .limit(51)
        )
        compiled = query.compile(loom.db, compile_kwargs={"literal_binds": True})
        with loom.read() as conn:
            plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    return [
        {
            "name": f"rep's first page of 50 over {n:,} deals, {in_scope:,} in scope (p95, SQLite)",
            "value": _p95(samples["rep"]),
            "unit": "ms",
            "baseline_name": "the same page unscoped (system)",
            "baseline": _p95(samples["system"]),
            "ratio": _p95(samples["rep"]) / _p95(samples["system"]),
            "note": "plan: " + "; ".join(plan),
        },
    ]
