"""`make bench`: every benchmark, each figure printed with its same-run baseline and the ratio."""

from __future__ import annotations

import importlib
import os
import sys
import time

SUITES = [
    "bench.expressions",
    "bench.hostile",
    "bench.records",
    "bench.queries",
    "bench.reports",
    "bench.schema",
    "bench.rules",
    "bench.permissions",
    "bench.flows",
    "bench.web",
    "bench.lookups",
    "bench.imports",
    "bench.api_cpu",
    "bench.load",
    "bench.builder",
]


def main() -> int:
    chosen = sys.argv[1:] or SUITES
    scale = float(os.environ.get("LOOM_BENCH_SCALE", "1"))
    print(f"Loom benchmarks (scale {scale:g}; set LOOM_BENCH_SCALE to shrink, e.g. 0.1)\n")
    for name in chosen:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        started = time.perf_counter()
        results = module.run()
        print(f"== {name} ({time.perf_counter() - started:.1f} s)")
        for result in results:
            print("  " + format_result(result))
        print()
    return 0


def format_result(result: dict) -> str:
    """One line: what, the figure, the baseline and the ratio, and the target when there is one."""
    parts = [f"{result['name']}: {result['value']:,.1f} {result['unit']}"]
    if "baseline" in result:
        parts.append(f"baseline {result['baseline_name']} {result['baseline']:,.1f} {result['unit']}")
        parts.append(f"ratio {result['ratio']:.2f}×")
    if "target" in result:
        parts.append(f"target {result['target']}")
    if "note" in result:
        parts.append(result["note"])
    return " | ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
