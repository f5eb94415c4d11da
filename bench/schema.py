"""Adding a field to a large object: time through the engine (validate, plan, DDL, revision) vs row count."""

from __future__ import annotations

import time
from dataclasses import replace

from bench.queries import _fill
from bench.setup import DEAL, databases, fresh_loom, scaled
from engine.schema.changes import apply_objects
from metadata.specs import FieldSpec


def _add_field_seconds(kind: str, rows: int) -> float:
    with fresh_loom(kind) as loom:
        _fill(loom, rows)
        wider = replace(DEAL, fields=(*DEAL.fields, FieldSpec(name="note", type="text")))
        started = time.perf_counter()
        apply_objects(loom, [wider])
        return time.perf_counter() - started


def run() -> list[dict]:
    big = scaled(1_000_000)
    results = []
    for kind in databases():
        small_ms = _add_field_seconds(kind, 1_000) * 1000
        big_ms = _add_field_seconds(kind, big) * 1000
        results.append(
            {
                "name": f"add a field to {big:,} rows ({kind})",
                "value": big_ms,
                "unit": "ms",
                "baseline_name": "same on 1,000 rows",
                "baseline": small_ms,
                "ratio": big_ms / small_ms,
                "target": "≤ 100 ms, ratio ≈ 1 (independent of row count)",
            }
        )
    return results
