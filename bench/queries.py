"""A filtered, sorted page of 50 from a large object on an indexed field: p95, and page 10,000 vs page 1."""

from __future__ import annotations

import statistics
import time
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bench.setup import fresh_loom, insert_in_batches, scaled

FILTER = "amount > 500000 and stage in ['new', 'won']"
SORT = ["-amount"]


def _fill(loom, n: int) -> None:  # type: ignore[no-untyped-def]
    """Rows straight through Core: the query is measured here, not the insert."""
    table = loom.registry.object("deal").table
    now = loom.clock.now()
    stages = ["new", "qualified", "proposal", "won", "lost"]
    rows = (
        {
            "name": f"Deal {i}",
            "stage": stages[i % 5],
            "amount": Decimal((i * 7919) % 1_000_003),
            "probability": Decimal(10),
            "region": "east",
            "close_date": date(2026, 12, 1),
            "hot": False,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for i in range(n)
    )
    insert_in_batches(loom, table, rows)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def run() -> list[dict]:
    n = scaled(1_000_000)
    with fresh_loom("sqlite") as loom:
        _fill(loom, n)
        queries = loom.queries()
        table = loom.registry.object("deal").table

        def raw_page() -> None:
            with loom.read() as conn:
                conn.execute(
                    select(table)
                    .where(
                        table.c.amount > 500000,
                        table.c.stage.in_(["new", "won"]),
                        table.c.deleted_at.is_(None),
                    )
                    .order_by(table.c.amount.desc(), table.c.id.desc())
                    .limit(51)
                ).all()

        engine_samples, raw_samples = [], []
        for _ in range(200):
            started = time.perf_counter()
            queries.find("deal", filter=FILTER, sort=SORT, limit=50)
            engine_samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            raw_page()
            raw_samples.append(time.perf_counter() - started)

        cursor, first_page, deep_page = None, [], []
        pages = min(10_000, n // 50 - 1)
        for page_number in range(1, pages + 1):
            started = time.perf_counter()
            page = queries.find("deal", sort=SORT, limit=50, cursor=cursor)
            elapsed = time.perf_counter() - started
            if page_number <= 20:
                first_page.append(elapsed)
            elif page_number > pages - 20:
                deep_page.append(elapsed)
            cursor = page.next_cursor
        deep = statistics.median(deep_page) * 1000
        first = statistics.median(first_page) * 1000
    return [
        {
            "name": f"filtered sorted page of 50 from {n:,} rows, p95 (SQLite)",
            "value": _p95(engine_samples),
            "unit": "ms",
            "baseline_name": "raw Core query p95",
            "baseline": _p95(raw_samples),
            "ratio": _p95(engine_samples) / _p95(raw_samples),
            "target": "p95 ≤ 20 ms",
        },
        {
            "name": f"keyset page {pages:,} (SQLite)",
            "value": deep,
            "unit": "ms",
            "baseline_name": "page 1",
            "baseline": first,
            "ratio": deep / first,
            "target": "ratio ≈ 1",
        },
    ]
