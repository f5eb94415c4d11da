"""bulk_create with validation, defaults and audit, against Core executemany of the same rows."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

from bench.setup import databases, deal_rows, fresh_loom, scaled


def _raw_rows(rows: list[dict], now: datetime) -> list[dict]:
    """The same rows already in database form, as a hand-written import would insert them."""
    return [
        {
            **row,
            "amount": Decimal(row["amount"]),
            "probability": Decimal(10),
            "close_date": date(2026, 12, 26),
            "hot": False,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for row in rows
    ]


def run() -> list[dict]:
    n = scaled(100_000)
    results = []
    for kind in databases():
        rows = deal_rows(n)
        with fresh_loom(kind) as loom:
            table = loom.registry.object("deal").table
            raw = _raw_rows(rows, loom.clock.now())
            started = time.perf_counter()
            with loom.begin() as conn:
                conn.execute(table.insert(), raw)
            baseline = time.perf_counter() - started
            with loom.begin() as conn:
                conn.execute(table.delete())
            started = time.perf_counter()
            loom.records().bulk_create("deal", rows)
            engine = time.perf_counter() - started
        results.append(
            {
                "name": f"bulk_create {n:,} rows ({kind})",
                "value": n / engine,
                "unit": "rows/s",
                "baseline_name": "Core executemany",
                "baseline": n / baseline,
                "ratio": engine / baseline,
                "target": "ratio ≤ 2×",
            }
        )
    return results
