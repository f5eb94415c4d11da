"""The demo's sales targets: each rep's monthly sales and payment targets for every month of the story.

Targets are set ahead from the rep's usual month, not from what they went on to sell: some reps are
given stretch targets they mostly miss, others targets they mostly beat, as in any sales team.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from engine.base.actors import SYSTEM
from engine.records.reports import run_report
from runtime.demo.world import World

# How far above (or below) a rep's usual month their target is set, by rep in the order of the staff list.
STRETCH = tuple(Decimal(text) for text in ("0.85", "1.15", "1.30", "0.90", "1.05", "1.20"))
MONTHS = 13  # the story's year and the month it ends in
ROUND_TO = Decimal(10000)


def write_targets(world: World, seed: int) -> None:
    """One sales_target per rep and month, from a year ago to this month, recorded by the admin."""
    rng = random.Random(seed)  # its own randomness: the rest of the story does not move
    sales = _monthly(world, "sales_by_rep_month", "sum_amount")
    payments = _monthly(world, "payments_by_rep_month", "sum_amount")
    first = world.today.replace(day=1)
    months = [_months_before(first, back) for back in range(MONTHS - 1, -1, -1)]
    reps = world.with_role("sales_rep")
    for index, rep in enumerate(reps):
        stretch = STRETCH[index % len(STRETCH)]
        usual_sales = _usual(sales.get(rep.id, {}))
        usual_payments = _usual(payments.get(rep.id, {})) or usual_sales * Decimal("0.8")
        rows = []
        for month in months:
            swing = Decimal(rng.randint(92, 108)) / 100
            sales_target = _rounded(usual_sales * stretch * swing)
            payment_target = _rounded(usual_payments * stretch * swing)
            rows.append({"owner": rep.id, "month": month, "sales_target": sales_target})
            rows[-1]["payment_target"] = payment_target
        days_ago = max((world.today - months[0]).days, 0)
        world.create("sales_target", world.people["admin"].actor, world.moment(days_ago), rows)


def _monthly(world: World, report: str, measure: str) -> dict[int, dict[dt.date, Decimal]]:
    """Each rep's figure per month over the whole story, as the report computes it."""
    result = run_report(world.loom, report, SYSTEM, parameters={"period": ""})
    found: dict[int, dict[dt.date, Decimal]] = {}
    month_column = next(column.name for column in result.columns if column.bucket == "month")
    for row in result.rows:
        if row.get("owner") is not None and row.get(month_column) is not None:
            found.setdefault(row["owner"], {})[row[month_column]] = Decimal(str(row.get(measure) or 0))
    return found


def _usual(by_month: dict[dt.date, Decimal]) -> Decimal:
    """A rep's usual month: their year's figure spread over the story's months."""
    return sum(by_month.values(), Decimal(0)) / MONTHS


def _rounded(value: Decimal) -> Decimal:
    """Targets are round figures, and never zero: a rep with no sales yet still has one."""
    return max((value / ROUND_TO).quantize(Decimal(1)) * ROUND_TO, ROUND_TO * 5)


def _months_before(first: dt.date, back: int) -> dt.date:
    year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
    return dt.date(year, month + 1, 1)
