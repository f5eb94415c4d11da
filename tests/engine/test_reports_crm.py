"""The CRM's reports over the demo company: every figure equals a hand-written SQL computation.

Each report is run by the engine and recomputed here by plain SQL over the record tables, written
for each database by hand (business dates at UTC+8, Beijing time, which has no daylight saving).
Managers see exactly their team's figures; a sales rep only their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from engine.base.actors import SYSTEM, Actor
from engine.identity import actor_for, user_by_username
from engine.loom import Loom
from engine.records.dashboards import run_dashboard
from engine.records.reports import ReportResult, run_report

EVERYTHING = "2000-01-01..2099-12-31"
Figures = dict[tuple[Any, ...], tuple[Any, ...]]


@pytest.fixture
def demo(demo_company: Loom) -> Loom:
    return demo_company


class Sql:
    """Hand-written SQL fragments for the database under test."""

    def __init__(self, loom: Loom) -> None:
        self.loom = loom
        self.pg = loom.db.dialect.name == "postgresql"

    def rows(self, text: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.loom.read() as conn:
            return [tuple(row) for row in conn.execute(sa.text(text), params)]

    def business_date(self, column: str) -> str:
        if self.pg:
            return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai' AS date)"
        return f"date({column}, '+8 hours')"

    def month(self, day: str) -> str:
        return f"to_char({day}, 'YYYY-MM')" if self.pg else f"strftime('%Y-%m', {day})"

    def quarter(self, day: str) -> str:
        if self.pg:
            return f"to_char({day}, 'YYYY-\"Q\"Q')"
        return f"strftime('%Y', {day}) || '-Q' || ((CAST(strftime('%m', {day}) AS INTEGER) + 2) / 3)"

    def days_between(self, start: str, end: str) -> str:
        return f"({end} - {start})" if self.pg else f"(julianday({end}) - julianday({start}))"


def money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rate(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def as_month(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def as_quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def figures(result: ReportResult, *keys: Callable[[Any], Any]) -> Figures:
    """The report's rows keyed by their groups (each passed through its key function)."""
    groups = [c.name for c in result.columns if c.role == "group"]
    measures = [c.name for c in result.columns if c.role == "measure"]
    found: Figures = {}
    for row in result.rows:
        key = tuple(convert(row[name]) for convert, name in zip(keys, groups, strict=True))
        found[key] = tuple(row[name] for name in measures)
    return found


def same(value: Any) -> Any:
    return value


def by_groups(rows: list[tuple[Any, ...]], groups: int, *converts: Callable[[Any], Any]) -> Figures:
    return {row[:groups]: tuple(c(v) for c, v in zip(converts, row[groups:], strict=True)) for row in rows}


def actor(loom: Loom, username: str) -> Actor:
    return actor_for(loom, user_by_username(loom, username)["id"])


def test_every_crm_report_has_figures_and_each_equals_hand_written_sql(demo: Loom) -> None:
    records = demo.records(SYSTEM)
    # The demo company's quiet customers: two more gone dormant, so every report has figures.
    for customer in demo.queries().find("customer", filter="lifecycle == 'customer'", limit=2).records:
        records.update("customer", customer["id"], {"lifecycle": "dormant"})
    for name in sorted(demo.registry.reports()):
        spec = demo.registry.report(name)
        given = {"period": EVERYTHING} if spec.parameter("period") else {}
        assert run_report(demo, name, SYSTEM, parameters=given).rows, name
    sql = Sql(demo)
    for check in CHECKS:
        check(demo, sql)


def check_win_rate_and_cycle_per_rep(demo: Loom, sql: Sql) -> None:
    days = sql.days_between(sql.business_date("created_at"), "closed_on")
    expected = by_groups(
        sql.rows(
            f"""SELECT owner_id, count(*), sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END),
                       sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END) * 1.0 / count(*),
                       avg(CASE WHEN stage = 'won' THEN {days} END)
                FROM obj_opportunity WHERE deleted_at IS NULL AND stage IN ('won', 'lost')
                GROUP BY owner_id"""
        ),
        1, int, int, rate, money,
    )  # fmt: skip

    result = run_report(demo, "win_rate_by_rep", SYSTEM)

    assert figures(result, same) == expected
    assert [row["win_rate"] for row in result.rows] == sorted(
        (row["win_rate"] for row in result.rows), reverse=True
    )


def check_sales_and_payments_per_rep_per_month(demo: Loom, sql: Sql) -> None:
    sales = by_groups(
        sql.rows(
            f"""SELECT owner_id, {sql.month("order_date")}, sum(amount), count(*) FROM obj_sales_order
                WHERE deleted_at IS NULL AND status != 'cancelled' AND order_date IS NOT NULL
                GROUP BY owner_id, {sql.month("order_date")}"""
        ),
        2, money, int,
    )  # fmt: skip
    payments = by_groups(
        sql.rows(
            f"""SELECT owner_id, {sql.month("received_at")}, sum(amount), count(*) FROM obj_payment
                WHERE deleted_at IS NULL AND status = 'received' AND received_at IS NOT NULL
                GROUP BY owner_id, {sql.month("received_at")}"""
        ),
        2, money, int,
    )  # fmt: skip

    everything = {"period": EVERYTHING}
    assert (
        figures(run_report(demo, "sales_by_rep_month", SYSTEM, parameters=everything), same, as_month)
        == sales
    )
    paid = run_report(demo, "payments_by_rep_month", SYSTEM, parameters=everything)
    assert figures(paid, same, as_month) == payments
    # By default: this year (2026) only.
    this_year = figures(run_report(demo, "payments_by_rep_month", SYSTEM), same, as_month)
    assert this_year == {key: value for key, value in payments.items() if key[1].startswith("2026-")}


def check_sales_targets_per_rep_per_month(demo: Loom, sql: Sql) -> None:
    targets = by_groups(
        sql.rows(
            f"""SELECT owner_id, {sql.month("month")}, sum(sales_target), sum(payment_target)
                FROM obj_sales_target WHERE deleted_at IS NULL AND month IS NOT NULL
                GROUP BY owner_id, {sql.month("month")}"""
        ),
        2, money, money,
    )  # fmt: skip
    everything = {"period": EVERYTHING}
    result = run_report(demo, "sales_targets_by_rep_month", SYSTEM, parameters=everything)
    assert figures(result, same, as_month) == targets
    reps = {row[0] for row in sql.rows("SELECT owner_id FROM obj_sales_target")}
    assert len(reps) == 6 and len(targets) == 6 * 13  # every rep, every month of the story
    # Some reps beat their targets over the year and some fall short: the demo tells both stories.
    sold = {key[0]: Decimal(0) for key in targets}
    for (owner, _), (amount, _) in figures(
        run_report(demo, "sales_by_rep_month", SYSTEM, parameters=everything), same, as_month
    ).items():
        sold[owner] = sold.get(owner, Decimal(0)) + amount
    aimed = {owner: sum(v[0] for k, v in targets.items() if k[0] == owner) for owner in sold if owner in reps}
    assert {sold[owner] >= aimed[owner] for owner in aimed} == {True, False}


def check_renewal_rate_by_quarter(demo: Loom, sql: Sql) -> None:
    expected = by_groups(
        sql.rows(
            f"""SELECT {sql.quarter("closed_on")}, count(*), sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END),
                       sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END) * 1.0 / count(*)
                FROM obj_opportunity
                WHERE deleted_at IS NULL AND source = 'renewal' AND stage IN ('won', 'lost')
                GROUP BY {sql.quarter("closed_on")}"""
        ),
        1, int, int, rate,
    )  # fmt: skip

    result = run_report(demo, "renewal_rate", SYSTEM)

    assert figures(result, lambda day: None if day is None else as_quarter(day)) == expected


def check_dormant_customers_and_follow_ups_per_rep(demo: Loom, sql: Sql) -> None:
    today = demo.clock.today().isoformat()
    today_sql = "CAST(:today AS date)" if sql.pg else ":today"
    silent = sql.days_between(sql.business_date("last_followup_at"), today_sql)
    dormant = by_groups(
        sql.rows(
            f"SELECT owner_id, count(*), avg({silent}) FROM obj_customer"
            " WHERE deleted_at IS NULL AND lifecycle = 'dormant' GROUP BY owner_id",
            today=today,
        ),
        1, int, money,
    )  # fmt: skip
    month = sql.month(sql.business_date("followup_at"))
    followups = by_groups(
        sql.rows(
            f"""SELECT owner_id, {month}, count(*), count(DISTINCT customer) FROM obj_followup
                WHERE deleted_at IS NULL AND followup_at IS NOT NULL GROUP BY owner_id, {month}"""
        ),
        2, int, int,
    )  # fmt: skip

    assert figures(run_report(demo, "dormant_customers_by_owner", SYSTEM), same) == dormant
    result = run_report(demo, "followups_by_rep_month", SYSTEM, parameters={"period": EVERYTHING})
    assert figures(result, same, as_month) == followups


def check_ticket_resolution_and_satisfaction_by_category(demo: Loom, sql: Sql) -> None:
    days = sql.days_between(sql.business_date("created_at"), sql.business_date("resolved_at"))
    expected = by_groups(
        sql.rows(
            f"""SELECT category, count(*), count(resolved_at), avg({days}), avg(satisfaction)
                FROM obj_service_ticket WHERE deleted_at IS NULL GROUP BY category"""
        ),
        1, int, int, money, money,
    )  # fmt: skip

    assert figures(run_report(demo, "ticket_resolution_by_category", SYSTEM), same) == expected


def check_lead_conversion_by_source(demo: Loom, sql: Sql) -> None:
    expected = by_groups(
        sql.rows(
            """SELECT source, count(*), sum(CASE WHEN status = 'converted' THEN 1 ELSE 0 END),
                      sum(CASE WHEN status = 'converted' THEN 1 ELSE 0 END) * 1.0 / count(*)
               FROM obj_lead WHERE deleted_at IS NULL GROUP BY source"""
        ),
        1, int, int, rate,
    )  # fmt: skip

    assert figures(run_report(demo, "lead_source_conversion", SYSTEM), same) == expected


def check_repurchase_cohorts(demo: Loom, sql: Sql) -> None:
    month = sql.month("order_date")
    index = "(CAST(substr({0}, 1, 4) AS INTEGER) * 12 + CAST(substr({0}, 6, 2) AS INTEGER))"
    rows = sql.rows(
        f"""WITH orders AS (
                SELECT customer, {month} AS m FROM obj_sales_order
                WHERE deleted_at IS NULL AND status != 'cancelled'
                  AND customer IS NOT NULL AND order_date IS NOT NULL),
            firsts AS (SELECT customer, min(m) AS c FROM orders GROUP BY customer)
            SELECT f.c, {index.format("o.m")} - {index.format("f.c")}, count(DISTINCT o.customer)
            FROM orders o JOIN firsts f ON f.customer = o.customer
            GROUP BY f.c, {index.format("o.m")} - {index.format("f.c")}"""
    )
    sizes = {first: count for first, period, count in rows if period == 0}
    expected = {
        (first, period): (count, rate(Decimal(count) / sizes[first]))
        for first, period, count in rows
        if period <= 12
    }

    result = run_report(demo, "repurchase_cohorts", SYSTEM)

    assert figures(result, as_month, same) == expected
    assert any(period > 0 for _, period in expected)  # some customers did order again


def check_the_first_five_reports(demo: Loom, sql: Sql) -> None:
    funnel = sql.rows(
        "SELECT stage, count(*), sum(amount) FROM obj_opportunity"
        " WHERE deleted_at IS NULL AND stage != 'lost' GROUP BY stage"
    )
    order = ["initial_contact", "needs_confirmed", "proposal", "negotiation", "won"]
    funnel.sort(key=lambda row: order.index(row[0]))
    reached = [sum(row[1] for row in funnel[i:]) for i in range(len(funnel))]
    expected_funnel = {
        (stage,): (count, money(amount), reached[i], rate(reached[i] / reached[i - 1]) if i else None)
        for i, (stage, count, amount) in enumerate(funnel)
    }
    payments = by_groups(
        sql.rows(
            f"""SELECT {sql.month("received_at")}, sum(amount), count(*) FROM obj_payment
                WHERE deleted_at IS NULL AND status = 'received' GROUP BY {sql.month("received_at")}"""
        ),
        1, money, int,
    )  # fmt: skip
    tickets = by_groups(
        sql.rows(
            "SELECT category, count(*) FROM obj_service_ticket WHERE deleted_at IS NULL GROUP BY category"
        ),
        1, int,
    )  # fmt: skip
    leads = by_groups(
        sql.rows("SELECT source, count(*) FROM obj_lead WHERE deleted_at IS NULL GROUP BY source"), 1, int
    )
    contracts = by_groups(
        sql.rows(
            "SELECT status, count(*), sum(amount) FROM obj_contract WHERE deleted_at IS NULL GROUP BY status"
        ),
        1, int, money,
    )  # fmt: skip

    assert figures(run_report(demo, "opportunity_funnel", SYSTEM), same) == expected_funnel
    assert figures(run_report(demo, "payments_by_month", SYSTEM), lambda d: d and as_month(d)) == payments
    assert figures(run_report(demo, "tickets_by_category", SYSTEM), same) == tickets
    assert figures(run_report(demo, "leads_by_source", SYSTEM), same) == leads
    assert figures(run_report(demo, "contracts_by_status", SYSTEM), same) == contracts


def colleagues(sql: Sql, who: Actor, *, below: bool) -> str:
    """The ids of the users in `who`'s department (and, `below`, its sub-departments), as SQL."""
    if below:
        found = sql.rows(
            "SELECT u.id FROM loom_users u JOIN loom_departments d ON d.id = u.department_id"
            " WHERE d.path LIKE :path",
            path=f"{who.department_path}%",
        )
    else:
        found = sql.rows("SELECT id FROM loom_users WHERE department_id = :d", d=who.department_id)
    return ", ".join(str(row[0]) for row in found) or "NULL"


def check_churn_and_repurchase_per_owner(demo: Loom, sql: Sql) -> None:
    # Churned: no order in the last 365 days; days_since(last_order_date) > 365.
    cutoff = demo.clock.today() - timedelta(days=365)

    def expected(customers: str) -> Figures:
        return by_groups(
            sql.rows(
                f"""WITH orders AS (
                        SELECT customer, count(*) AS n, max(order_date) AS last FROM obj_sales_order
                        WHERE deleted_at IS NULL AND status != 'cancelled' GROUP BY customer)
                    SELECT c.owner_id, sum(CASE WHEN o.last < :cutoff THEN 1 ELSE 0 END), count(*),
                           sum(CASE WHEN o.last < :cutoff THEN 1 ELSE 0 END) * 1.0 / count(*),
                           sum(CASE WHEN o.n >= 2 THEN 1 ELSE 0 END),
                           sum(CASE WHEN o.n >= 2 THEN 1 ELSE 0 END) * 1.0 / count(*)
                    FROM obj_customer c JOIN orders o ON o.customer = c.id
                    WHERE c.deleted_at IS NULL AND {customers} GROUP BY c.owner_id""",
                cutoff=cutoff,
            ),
            1, int, int, rate, int, rate,
        )  # fmt: skip

    manager, rep = actor(demo, "manager1"), actor(demo, "sales1")
    everyone = expected("1 = 1")
    team = expected(f"c.owner_id IN ({colleagues(sql, manager, below=True)})")
    department = expected(f"c.owner_id IN ({colleagues(sql, rep, below=False)})")

    assert figures(run_report(demo, "customer_churn_by_owner", SYSTEM), same) == everyone
    as_manager = run_report(demo, "customer_churn_by_owner", manager)
    assert figures(as_manager, same) == team
    for row, filter in zip(as_manager.rows, as_manager.filters, strict=True):  # each row lists its customers
        assert demo.queries(manager).count("customer", filter=filter) == row["ordered"]
    # A rep reads the customers of their department, and may narrow the report to their own.
    assert figures(run_report(demo, "customer_churn_by_owner", rep), same) == department
    mine = figures(run_report(demo, "customer_churn_by_owner", rep, parameters={"rep": "me"}), same)
    assert mine == {key: value for key, value in department.items() if key == (rep.user_id,)}
    assert 0 < sum(row[0] for row in everyone.values()) < sum(row[1] for row in everyone.values())
    assert any(row[3] for row in everyone.values())  # some customers did buy again
    assert team and set(team) < set(everyone)


def check_lifetime_value_by_industry_and_level(demo: Loom, sql: Sql) -> None:
    def expected(customers: str, orders: str) -> Figures:
        return by_groups(
            sql.rows(
                f"""WITH value AS (
                        SELECT customer, sum(amount) AS v FROM obj_sales_order
                        WHERE deleted_at IS NULL AND status != 'cancelled' AND {orders} GROUP BY customer)
                    SELECT c.industry, c.level, avg(o.v), count(*), sum(o.v)
                    FROM obj_customer c JOIN value o ON o.customer = c.id
                    WHERE c.deleted_at IS NULL AND o.v > 0 AND {customers}
                    GROUP BY c.industry, c.level"""
            ),
            2, money, int, money,
        )  # fmt: skip

    manager, rep = actor(demo, "manager1"), actor(demo, "sales1")
    team = colleagues(sql, manager, below=True)
    department = colleagues(sql, rep, below=False)

    result = run_report(demo, "customer_value_by_segment", SYSTEM)
    assert figures(result, same, same) == expected("1 = 1", "1 = 1")
    assert result.pivot() is not None  # industry down, level across
    # The value is reader-scoped: a manager adds up the team's orders, a rep only their own.
    as_manager = run_report(demo, "customer_value_by_segment", manager)
    assert figures(as_manager, same, same) == expected(f"c.owner_id IN ({team})", f"owner_id IN ({team})")
    as_rep = run_report(demo, "customer_value_by_segment", rep)
    own = f"owner_id = {rep.user_id}"
    assert figures(as_rep, same, same) == expected(f"c.owner_id IN ({department})", own)
    for row, filter in zip(as_rep.rows, as_rep.filters, strict=True):
        assert demo.queries(rep).count("customer", filter=filter) == row["count"]
    assert as_rep.rows and len(as_rep.rows) < len(result.rows)


def check_first_response_per_rep_and_month(demo: Loom, sql: Sql) -> None:
    """Worked out in Python from each lead's two moments: whole hours, month in Beijing time."""
    beijing = timedelta(hours=8)

    def moment(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    def expected(owners: str) -> Figures:
        hours: dict[tuple[Any, ...], list[int]] = {}
        for owner, created, first in sql.rows(
            "SELECT owner_id, created_at, first_followup_at FROM obj_lead"
            f" WHERE deleted_at IS NULL AND first_followup_at IS NOT NULL AND {owners}"
        ):
            start, end = moment(created).replace(microsecond=0), moment(first).replace(microsecond=0)
            seconds = int((end - start).total_seconds())
            whole = abs(seconds) // 3600 * (1 if seconds >= 0 else -1)
            hours.setdefault((owner, as_month((start + beijing).date())), []).append(whole)
        return {
            key: (
                money(Decimal(sum(found)) / len(found)),
                len(found),
                sum(1 for h in found if h < 24),
                rate(Decimal(sum(1 for h in found if h < 24)) / len(found)),
            )
            for key, found in hours.items()
        }

    everything = {"period": EVERYTHING}
    manager, rep = actor(demo, "manager1"), actor(demo, "sales1")
    everyone = expected("1 = 1")

    def run(who: Actor, **given: str) -> Figures:
        return figures(run_report(demo, "lead_first_response_by_rep", who, parameters=given), same, as_month)

    assert run(SYSTEM, **everything) == everyone
    assert run(manager, **everything) == expected(f"owner_id IN ({colleagues(sql, manager, below=True)})")
    assert run(rep, **everything, rep="me") == expected(f"owner_id = {rep.user_id}")
    # By default: this year (2026) only.
    assert run(SYSTEM) == {key: value for key, value in everyone.items() if key[1].startswith("2026-")}
    # The slow reps answer most new leads after a day; the others within one.
    slow = {actor(demo, name).user_id for name in ("sales3", "sales5")}
    late = {owner: sum(row[1] - row[2] for key, row in everyone.items() if key[0] == owner) for owner in slow}
    on_time = sum(row[2] for key, row in everyone.items() if key[0] not in slow)
    assert all(count > 0 for count in late.values()) and on_time > sum(late.values())


def check_satisfaction_by_category(demo: Loom, sql: Sql) -> None:
    def expected(tickets: str) -> Figures:
        return by_groups(
            sql.rows(
                f"""SELECT category, avg(satisfaction), count(*),
                           sum(CASE WHEN satisfaction >= 4 THEN 1 ELSE 0 END),
                           sum(CASE WHEN satisfaction >= 4 THEN 1 ELSE 0 END) * 1.0 / count(*)
                    FROM obj_service_ticket
                    WHERE deleted_at IS NULL AND satisfaction IS NOT NULL AND {tickets}
                    GROUP BY category"""
            ),
            1, money, int, int, rate,
        )  # fmt: skip

    agent = actor(demo, "service2")
    everyone = expected("1 = 1")
    result = run_report(demo, "ticket_satisfaction_by_category", SYSTEM)

    assert figures(result, same) == everyone
    assert [row["csat"] for row in result.rows] == sorted(row["csat"] for row in result.rows)
    mine = run_report(demo, "ticket_satisfaction_by_category", agent, parameters={"engineer": "me"})
    assert figures(mine, same) == expected(f"engineer = {agent.user_id}")
    assert figures(run_report(demo, "ticket_satisfaction_by_category", actor(demo, "sales1")), same) == {}


CHECKS = (
    check_the_first_five_reports,
    check_repurchase_cohorts,
    check_win_rate_and_cycle_per_rep,
    check_sales_and_payments_per_rep_per_month,
    check_sales_targets_per_rep_per_month,
    check_renewal_rate_by_quarter,
    check_dormant_customers_and_follow_ups_per_rep,
    check_ticket_resolution_and_satisfaction_by_category,
    check_lead_conversion_by_source,
    check_churn_and_repurchase_per_owner,
    check_lifetime_value_by_industry_and_level,
    check_first_response_per_rep_and_month,
    check_satisfaction_by_category,
)


def test_the_funnel_equals_hand_written_sql_and_each_bar_lists_its_records(demo: Loom) -> None:
    sql = Sql(demo)
    counts = dict(
        sql.rows(
            "SELECT stage, count(*) FROM obj_opportunity"
            " WHERE deleted_at IS NULL AND stage != 'lost' GROUP BY stage"
        )
    )
    manager = actor(demo, "manager1")

    result = run_report(demo, "opportunity_funnel", SYSTEM)

    assert {row["stage"]: row["count"] for row in result.rows} == counts
    team = run_report(demo, "opportunity_funnel", manager)
    for row, filter in zip(team.rows, team.filters, strict=True):
        listed = demo.queries(manager).find("opportunity", filter=filter, limit=500).records
        assert len(listed) == row["count"]
        assert {record["stage"] for record in listed} == {row["stage"]}


def test_a_managers_team_view_sums_exactly_the_teams_records_and_a_rep_only_their_own(demo: Loom) -> None:
    sql = Sql(demo)
    manager, rep = actor(demo, "manager1"), actor(demo, "sales1")
    team_sql = """SELECT sum(amount), count(*) FROM obj_sales_order o
                  WHERE o.deleted_at IS NULL AND o.status != 'cancelled' AND o.owner_id IN (
                      SELECT u.id FROM loom_users u JOIN loom_departments d ON d.id = u.department_id
                      WHERE d.path LIKE :path)"""
    [(team_sum, team_count)] = sql.rows(team_sql, path=f"{manager.department_path}%")
    [(own_sum, own_count)] = sql.rows(
        "SELECT sum(amount), count(*) FROM obj_sales_order"
        " WHERE deleted_at IS NULL AND status != 'cancelled' AND owner_id = :rep",
        rep=rep.user_id,
    )

    def total(who: Actor, **given: str) -> tuple[Decimal, int]:
        rows = run_report(demo, "sales_by_rep_month", who, parameters={"period": EVERYTHING, **given}).rows
        return sum((r["sum_amount"] for r in rows), Decimal(0)), sum(r["count"] for r in rows)

    assert team_count > own_count > 0
    assert total(manager) == (money(team_sum), team_count)
    assert total(manager, rep="my_team") == (money(team_sum), team_count)
    assert total(rep) == (money(own_sum), own_count)
    # Asking for the team does not widen a rep's scope.
    assert total(rep, rep="my_team") == (money(own_sum), own_count)


def test_the_sales_dashboards_kpis_and_targets_are_each_readers_own_or_their_teams(demo: Loom) -> None:
    sql = Sql(demo)
    board = demo.registry.dashboards["sales"]
    everything = {"period": EVERYTHING, "user": "", "department": ""}
    team = """SELECT u.id FROM loom_users u JOIN loom_departments d ON d.id = u.department_id
              WHERE d.path LIKE :path"""
    for username in ("sales1", "sales5", "manager1"):
        who = actor(demo, username)
        owners = f"({team})" if username == "manager1" else "(:rep)"
        given = {"path": f"{who.department_path}%"} if username == "manager1" else {"rep": who.user_id}
        [(sold,)] = sql.rows(
            "SELECT sum(amount) FROM obj_sales_order WHERE deleted_at IS NULL AND status != 'cancelled'"
            f" AND owner_id IN {owners}",
            **given,
        )
        [(aimed, to_collect)] = sql.rows(
            "SELECT sum(sales_target), sum(payment_target) FROM obj_sales_target WHERE deleted_at IS NULL"
            f" AND owner_id IN {owners}",
            **given,
        )
        [(paid,)] = sql.rows(
            "SELECT sum(amount) FROM obj_payment WHERE deleted_at IS NULL AND status = 'received'"
            f" AND owner_id IN {owners}",
            **given,
        )
        found = run_dashboard(demo, who, board, everything)
        kpis = {widget.widget.name: widget.kpi for widget in found if widget.kpi}
        assert money(kpis["sales"].total) == money(sold), username
        assert money(kpis["sales"].target) == money(aimed), username
        assert money(kpis["payments"].total) == money(paid), username
        assert money(kpis["payments"].target) == money(to_collect), username
