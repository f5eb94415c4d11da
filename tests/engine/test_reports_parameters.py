"""Report parameters, comparison, distinct counts and drill-down filters, on both databases.

The clock reads 2026-11-26 17:00 in Beijing (a Thursday), so this month is November, last
quarter is July to September and this week runs from 23 to 29 November.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.records.report_parameters import (
    InvalidReportParameter,
    Period,
    period_expression,
    period_of,
)
from engine.records.reports import run_report
from engine.store.system_tables import departments, users
from metadata.reports import ReportSpec

T0 = datetime(2026, 11, 26, 1, 0)
TODAY = date(2026, 11, 26)
MANAGER, REP, OTHER_REP, SUB_REP, ELSEWHERE = 20, 21, 22, 23, 24
MANAGER_ACTOR = Actor.user(MANAGER, "boss", {"sales_manager"}, department_id=1, department_path="/1/")
REP_ACTOR = Actor.user(REP, "rep", {"sales_rep"}, department_id=1, department_path="/1/")


def adhoc(**keys: object) -> ReportSpec:
    return ReportSpec.from_json({"name": "adhoc", "chart": "table", **keys})


@pytest.fixture
def team(crm: Loom) -> Loom:
    """Sales (1) with a sub-team (3) and another department (2); opportunities owned across them."""
    with crm.begin() as conn:
        for dept_id, name, path in ((1, "销售部", "/1/"), (2, "华南区", "/2/"), (3, "大客户组", "/1/3/")):
            conn.execute(departments.insert().values(id=dept_id, name=name, path=path, created_at=T0))
        for user_id, name, dept in (
            (MANAGER, "王经理", 1),
            (REP, "张三", 1),
            (OTHER_REP, "李四", 1),
            (SUB_REP, "赵六", 3),
            (ELSEWHERE, "钱七", 2),
        ):
            conn.execute(
                users.insert().values(
                    id=user_id,
                    username=f"u{user_id}",
                    display_name=name,
                    active=True,
                    created_at=T0,
                    department_id=dept,
                )
            )
    records = crm.records(SYSTEM)
    customers = [records.create("customer", {"name": f"客户{i}", "owner": REP})["id"] for i in range(3)]
    for index, (owner, stage, amount) in enumerate(
        (
            (REP, "initial_contact", "100"),
            (REP, "needs_confirmed", "200"),
            (OTHER_REP, "initial_contact", "300"),
            (SUB_REP, "initial_contact", "400"),
            (ELSEWHERE, "initial_contact", "500"),
            (ELSEWHERE, "needs_confirmed", "600"),
        )
    ):
        records.create(
            "opportunity",
            {
                "name": f"商机{index}",
                "customer": customers[index % 2],
                "stage": stage,
                "amount": amount,
                "owner": owner,
            },
        )
    return crm


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("today", date(2026, 11, 26), date(2026, 11, 26)),
        ("yesterday", date(2026, 11, 25), date(2026, 11, 25)),
        ("this_week", date(2026, 11, 23), date(2026, 11, 29)),
        ("last_week", date(2026, 11, 16), date(2026, 11, 22)),
        ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("this_quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("this_year", date(2026, 1, 1), date(2026, 12, 31)),
        ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
        ("last_7_days", date(2026, 11, 20), date(2026, 11, 26)),
        ("last_30_days", date(2026, 10, 28), date(2026, 11, 26)),
        ("last_12_months", date(2025, 12, 1), date(2026, 11, 30)),
        ("2026-02-10..2026-03-31", date(2026, 2, 10), date(2026, 3, 31)),
    ],
)
def test_named_periods_are_read_from_the_business_date(value: str, first: date, last: date) -> None:
    assert period_of(value, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    ("period", "before"),
    [
        (Period(date(2026, 3, 1), date(2026, 3, 31)), Period(date(2026, 2, 1), date(2026, 2, 28))),
        (Period(date(2026, 1, 1), date(2026, 3, 31)), Period(date(2025, 10, 1), date(2025, 12, 31))),
        (Period(date(2026, 11, 20), date(2026, 11, 26)), Period(date(2026, 11, 13), date(2026, 11, 19))),
    ],
)
def test_the_previous_period_is_as_many_whole_months_or_days(period: Period, before: Period) -> None:
    assert period.previous() == before


def test_a_period_reads_as_year_month_and_day_conditions() -> None:
    assert period_expression("d", Period(date(2026, 1, 1), date(2026, 12, 31))) == "year(d) == 2026"
    assert period_expression("d", Period(date(2026, 7, 1), date(2026, 9, 30))) == (
        "year(d) == 2026 and month(d) >= 7 and month(d) <= 9"
    )
    assert period_expression("d", Period(date(2026, 9, 28), date(2026, 10, 4))) == (
        "(year(d) == 2026 and month(d) == 9 and day(d) >= 28 and day(d) <= 30)"
        " or (year(d) == 2026 and month(d) == 10 and day(d) >= 1 and day(d) <= 4)"
    )
    assert period_expression("d", Period(date(2025, 12, 1), date(2027, 1, 31))) == (
        "(year(d) == 2025 and month(d) == 12) or (year(d) == 2026) or (year(d) == 2027 and month(d) == 1)"
    )


def test_a_period_parameter_counts_datetimes_by_their_business_date(team: Loom) -> None:
    records = team.records(SYSTEM)
    # 16:30 UTC on 30 September is 00:30 on 1 October in Beijing: the fourth quarter.
    for moment in ("2026-09-30T16:30:00Z", "2026-09-30T15:00:00Z", "2026-11-26T01:00:00Z"):
        records.create("customer", {"name": moment, "last_followup_at": moment})
    spec = adhoc(
        object="customer",
        measures=[{"function": "count"}],
        parameters=[
            {"name": "period", "kind": "period", "field": "last_followup_at", "default": "this_month"}
        ],
    )

    def counted(**given: str) -> tuple[int, int]:
        result = run_report(team, spec, SYSTEM, parameters=given)
        [row] = result.rows
        listed = team.queries(SYSTEM).count("customer", filter=result.filters[0])
        return row["count"], listed

    assert counted() == (1, 1)
    assert counted(period="last_quarter") == (1, 1)
    assert counted(period="this_quarter") == (2, 2)
    assert counted(period="2026-10-01..2026-10-01") == (1, 1)
    assert counted(period="2026-09-30..2026-09-30") == (1, 1)
    assert run_report(team, spec, SYSTEM, parameters={"period": "this_year"}).period == Period(
        date(2026, 1, 1), date(2026, 12, 31)
    )


def test_user_and_department_parameters_pick_owners(team: Loom) -> None:
    spec = adhoc(
        object="opportunity",
        group_by=["owner"],
        measures=[{"function": "count"}, {"function": "sum", "field": "amount"}],
        parameters=[
            {"name": "rep", "kind": "user", "field": "owner"},
            {"name": "dept", "kind": "department", "field": "owner"},
        ],
    )

    def owners(actor: Actor, **given: str) -> dict[int, Decimal]:
        result = run_report(team, spec, actor, parameters=given)
        return {row["owner"]: row["sum_amount"] for row in result.rows}

    assert owners(SYSTEM) == {
        REP: Decimal("300.00"), OTHER_REP: Decimal("300.00"), SUB_REP: Decimal("400.00"),
        ELSEWHERE: Decimal("1100.00"),
    }  # fmt: skip
    assert owners(SYSTEM, rep=str(OTHER_REP)) == {OTHER_REP: Decimal("300.00")}
    assert owners(SYSTEM, dept="2") == {ELSEWHERE: Decimal("1100.00")}
    assert owners(SYSTEM, dept="1") == {
        REP: Decimal("300.00"), OTHER_REP: Decimal("300.00"), SUB_REP: Decimal("400.00")
    }  # fmt: skip
    assert owners(MANAGER_ACTOR, rep="me") == {}
    assert owners(REP_ACTOR, rep="me") == {REP: Decimal("300.00")}
    # My team: my department and those below it, within what the reader may read.
    assert owners(MANAGER_ACTOR, rep="my_team") == owners(SYSTEM, dept="1")
    assert owners(MANAGER_ACTOR, dept="mine") == owners(SYSTEM, dept="1")
    result = run_report(team, spec, MANAGER_ACTOR, parameters={"rep": "my_team"})
    assert result.label("owner", SUB_REP) == "赵六"


def test_the_managers_team_view_sums_exactly_the_teams_records(team: Loom) -> None:
    spec = adhoc(
        object="opportunity", measures=[{"function": "count"}, {"function": "sum", "field": "amount"}]
    )

    [team_view] = run_report(team, spec, MANAGER_ACTOR).rows
    [rep_view] = run_report(team, spec, REP_ACTOR).rows

    assert (team_view["count"], team_view["sum_amount"]) == (4, Decimal("1000.00"))
    # A rep reads the opportunities of their own department, not the sub-team's nor South China's.
    assert (rep_view["count"], rep_view["sum_amount"]) == (3, Decimal("600.00"))


def test_each_row_carries_the_filter_that_lists_its_records(team: Loom) -> None:
    for actor in (SYSTEM, MANAGER_ACTOR, REP_ACTOR):
        result = run_report(team, "opportunity_funnel", actor)
        queries = team.queries(actor)
        assert result.rows
        for row, filter in zip(result.rows, result.filters, strict=True):
            assert filter is not None
            assert queries.count("opportunity", filter=filter) == row["count"]
        assert result.filters[0] == "(stage != 'lost') and stage == 'initial_contact'"


def test_a_drill_filter_names_empty_groups_and_owners(team: Loom) -> None:
    records = team.records(SYSTEM)
    customer = records.create("customer", {"name": "无主客户"})["id"]
    records.create(
        "opportunity", {"name": "无主", "stage": "initial_contact", "owner": None, "customer": customer}
    )
    spec = adhoc(object="opportunity", group_by=["owner", "stage"], measures=[{"function": "count"}])

    result = run_report(team, spec, SYSTEM)

    assert any(row["owner"] is None for row in result.rows)
    for row, filter in zip(result.rows, result.filters, strict=True):
        assert team.queries(SYSTEM).count("opportunity", filter=filter) == row["count"]


def test_count_distinct_counts_each_value_once(team: Loom) -> None:
    spec = adhoc(
        object="opportunity",
        group_by=["stage"],
        measures=[{"function": "count"}, {"function": "count_distinct", "field": "customer"}],
    )

    rows = [dict(row) for row in run_report(team, spec, SYSTEM).rows]

    assert rows == [
        {"stage": "initial_contact", "count": 4, "count_distinct_customer": 2},
        {"stage": "needs_confirmed", "count": 2, "count_distinct_customer": 1},
    ]


def test_comparing_with_the_previous_period(team: Loom) -> None:
    records = team.records(SYSTEM)
    customer = records.create("customer", {"name": "回款客户"})["id"]
    for amount, received, method in (
        ("10", "2026-11-02", "cash"),
        ("20", "2026-11-20", "bank_transfer"),
        ("5", "2026-10-31", "cash"),
        ("7", "2026-09-30", "cash"),
    ):
        values = {"customer": customer, "amount": amount, "status": "received", "received_at": received}
        records.create("payment", values | {"method": method})
    spec = adhoc(
        object="payment",
        group_by=["method"],
        measures=[{"function": "sum", "field": "amount"}, {"function": "count"}],
        parameters=[{"name": "period", "kind": "period", "field": "received_at", "default": "this_month"}],
        compare="previous_period",
    )

    result = run_report(team, spec, SYSTEM)

    assert result.previous == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert {row["method"]: dict(row) for row in result.rows} == {
        "cash": {"method": "cash", "sum_amount": Decimal("10.00"), "count": 1,
                 "sum_amount_previous": Decimal("5.00"), "count_previous": 1},
        "bank_transfer": {"method": "bank_transfer", "sum_amount": Decimal("20.00"), "count": 1,
                          "sum_amount_previous": None, "count_previous": 0},
    }  # fmt: skip
    assert result.column("count_previous").label["zh_CN"] == "数量（上期）"
    october = run_report(team, spec, SYSTEM, parameters={"period": "last_month"})
    assert [(r["method"], r["sum_amount"], r["sum_amount_previous"]) for r in october.rows] == [
        ("cash", Decimal("5.00"), Decimal("7.00"))
    ]


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"perod": "this_month"}, "perod", "takes no parameter 'perod' (it takes: period, rep)"),
        ({"period": "next_month"}, "period", "a period is one of today"),
        ({"period": "2026-13-01..2026-13-02"}, "period", "not a date"),
        ({"rep": "someone"}, "rep", "a user parameter takes me or my_team, or a user's id"),
    ],
)
def test_a_parameter_the_report_does_not_take_or_a_bad_value_is_refused(
    team: Loom, given: dict[str, str], field: str, message: str
) -> None:
    spec = adhoc(
        object="opportunity",
        measures=[{"function": "count"}],
        parameters=[
            {"name": "period", "kind": "period", "field": "created_at"},
            {"name": "rep", "kind": "user", "field": "owner"},
        ],
    )

    with pytest.raises(InvalidReportParameter) as refused:
        run_report(team, spec, SYSTEM, parameters=given)

    assert list(refused.value.fields) == [field]
    assert message in refused.value.fields[field][0]


def test_filtered_counts_ratios_and_expressions_give_win_rate_and_cycle_per_rep(team: Loom) -> None:
    records = team.records(SYSTEM)
    customer = records.create("customer", {"name": "成交客户"})["id"]
    for owner, stage, closed in (
        (REP, "won", "2026-12-06"),
        (REP, "won", "2026-12-01"),
        (REP, "lost", "2026-11-30"),
        (OTHER_REP, "lost", "2026-11-27"),
    ):
        values = {"name": f"{owner}{stage}{closed}", "customer": customer, "stage": stage, "owner": owner}
        values |= {"closed_on": closed, "amount": "1000"}
        if stage == "lost":
            values["lost_reason"] = "price"
        else:
            contact = records.create("contact", {"name": "联系人", "customer": customer})["id"]
            values |= {"contact": contact, "expected_close_date": closed}
        records.create("opportunity", values)
    spec = adhoc(
        object="opportunity",
        filter="stage in ['won', 'lost']",
        group_by=["owner"],
        measures=[
            {"function": "count", "name": "closed"},
            {"function": "count", "filter": "stage == 'won'", "name": "won"},
            {"function": "ratio", "of": "won", "to": "closed", "name": "win_rate"},
            {"function": "avg", "expression": "days_since(created_at) - days_since(closed_on)",
             "filter": "stage == 'won'", "name": "cycle_days"},
        ],
        sort=["-win_rate"],
    )  # fmt: skip

    result = run_report(team, spec, SYSTEM)

    # Created on 26 November: won after 10 and 5 days.
    assert [dict(row) for row in result.rows] == [
        {"owner": REP, "closed": 3, "won": 2, "win_rate": Decimal("0.6667"), "cycle_days": Decimal("7.50")},
        {"owner": OTHER_REP, "closed": 1, "won": 0, "win_rate": Decimal("0.0000"), "cycle_days": None},
    ]
    assert result.column("win_rate").label["en"] == "Ratio"


def test_a_report_reading_a_hidden_field_in_its_own_expressions_is_refused(team: Loom) -> None:
    spec = adhoc(
        object="contract",
        measures=[{"function": "count", "filter": "cost_price > 0", "name": "costed"}],
    )

    with pytest.raises(PermissionDenied, match="may not see"):
        run_report(team, spec, REP_ACTOR)
    assert run_report(team, spec, SYSTEM).rows[0]["costed"] == 0


def test_two_groups_read_as_a_cross_table_in_option_order(team: Loom) -> None:
    spec = adhoc(object="opportunity", group_by=["owner", "stage"], measures=[{"function": "count"}])

    result = run_report(team, spec, SYSTEM)
    pivot = result.pivot()

    assert pivot is not None
    assert (pivot.down, pivot.across) == ("owner", "stage")
    assert pivot.rows == (REP, OTHER_REP, SUB_REP, ELSEWHERE)
    assert pivot.columns == ("initial_contact", "needs_confirmed")

    def count(owner: int, stage: str) -> int | None:
        index = pivot.cells.get((owner, stage))
        return None if index is None else result.rows[index]["count"]

    table = [[count(owner, stage) for stage in pivot.columns] for owner in pivot.rows]
    assert table == [[1, 1], [1, None], [1, None], [1, 1]]
    assert run_report(team, "opportunity_funnel", SYSTEM).pivot() is None


def test_dates_at_the_calendars_ends_group_compare_and_drill_down(team: Loom) -> None:
    records = team.records(SYSTEM)
    customer = records.create("customer", {"name": "永久客户"})["id"]
    for received in ("9999-12-31", "0001-01-01", "2026-11-02"):
        values = {"customer": customer, "amount": "1", "status": "received", "received_at": received}
        records.create("payment", values | {"method": "cash"})
    spec = adhoc(
        object="payment",
        group_by=[{"field": "received_at", "bucket": "year"}],
        measures=[{"function": "count"}],
        parameters=[{"name": "period", "kind": "period", "field": "received_at", "default": "this_month"}],
    )
    compared = adhoc(
        object="payment",
        group_by=["method"],
        measures=[{"function": "count"}],
        parameters=[{"name": "period", "kind": "period", "field": "received_at", "default": "this_month"}],
        compare="previous_period",
    )

    everything = run_report(team, spec, SYSTEM, parameters={"period": "0001-01-01..9999-12-31"})

    assert [(row["received_at"], row["count"]) for row in everything.rows] == [
        (date(1, 1, 1), 1), (date(2026, 1, 1), 1), (date(9999, 1, 1), 1)
    ]  # fmt: skip
    for row, filter in zip(everything.rows, everything.filters, strict=True):
        assert team.queries(SYSTEM).count("payment", filter=filter) == row["count"]
    for period in ("0001-01-01..9999-12-31", "0001-01-01..0001-01-31", "9999-12-01..9999-12-31"):
        [row] = run_report(team, compared, SYSTEM, parameters={"period": period}).rows
        assert row["count"] >= 1


def test_a_parameter_given_empty_does_not_narrow_whatever_its_default(team: Loom) -> None:
    spec = adhoc(
        object="opportunity",
        measures=[{"function": "count"}],
        parameters=[
            {"name": "period", "kind": "period", "field": "created_at", "default": "last_year"},
            {"name": "rep", "kind": "user", "field": "owner", "default": "me"},
        ],
    )

    assert run_report(team, spec, SYSTEM).rows[0]["count"] == 0
    everything = run_report(team, spec, SYSTEM, parameters={"period": "", "rep": ""})
    assert everything.rows[0]["count"] == 6
    assert dict(everything.parameters) == {}
