"""Reports as metadata: the JSON round trip, result column names, and every check with its path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metadata.report_checks import field_uses
from metadata.reports import GroupBy, Measure, ReportSpec
from metadata.specs import ObjectSpec
from metadata.validation import validate_report

CRM = Path(__file__).resolve().parents[2] / "metadata" / "packages" / "crm"
PAYMENT = ObjectSpec.from_json(
    {
        "name": "payment",
        "label": {"zh_CN": "回款", "en": "Payment"},
        "fields": [
            {"name": "amount", "type": "currency"},
            {"name": "installment", "type": "integer"},
            {"name": "received_at", "type": "date"},
            {"name": "method", "type": "select", "options": [{"value": "cash"}, {"value": "bank_transfer"}]},
            {"name": "remark", "type": "long_text"},
            {"name": "tags", "type": "tags"},
            {"name": "code", "type": "text"},
            {"name": "double", "type": "formula", "result": "currency", "expression": "amount * 2"},
            {
                "name": "refunded",
                "type": "rollup",
                "source": {"object": "refund", "via": "payment", "function": "sum", "field": "amount"},
            },
            {
                "name": "last_refund",
                "type": "rollup",
                "source": {"object": "refund", "via": "payment", "function": "max", "field": "refunded_on"},
            },
        ],
    }
)
KNOWN = {"payment": PAYMENT}


def report(**keys: object) -> dict:
    return {
        "name": "payments",
        "object": "payment",
        "measures": [{"function": "count"}],
        "chart": "table",
        **keys,
    }


def problems_of(doc: dict) -> list[tuple[str, str]]:
    return [
        (p.path, p.message)
        for p in validate_report(doc, "reports/payments.json", known_objects=KNOWN).problems
    ]


@pytest.mark.parametrize("file", sorted((CRM / "reports").glob("*.json")), ids=lambda p: p.stem)
def test_every_crm_report_writes_back_exactly_as_it_was_written(file: Path) -> None:
    doc = json.loads(file.read_text(encoding="utf-8"))
    doc.pop("$schema")

    assert ReportSpec.from_json(doc).to_json() == doc


def test_groups_and_measures_read_and_name_their_columns() -> None:
    doc = report(
        group_by=["method", {"field": "received_at", "bucket": "month"}],
        measures=[
            {"function": "count"},
            {"function": "sum", "field": "amount"},
            {"function": "max", "field": "amount", "name": "largest"},
        ],
        sort=["-sum_amount"],
        limit=10,
    )
    spec = ReportSpec.from_json(doc)

    assert spec.group_by == (GroupBy("method"), GroupBy("received_at", "month"))
    assert spec.measures[1] == Measure("sum", "amount")
    assert spec.columns == ("method", "received_at", "count", "sum_amount", "largest")
    assert spec.to_json() == doc
    assert validate_report(doc, "reports/payments.json", known_objects=KNOWN).problems == []


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"object": "paymnet"},
            [
                (
                    "/object",
                    "report 'payments' counts object 'paymnet', which is neither in this package nor"
                    " installed (did you mean 'payment'?)",
                )
            ],
        ),
        (
            {"group_by": ["methd"]},
            [("/group_by/0", "object 'payment' has no field 'methd' (did you mean 'method'?)")],
        ),
        (
            {"group_by": [{"field": "methd"}]},
            [("/group_by/0/field", "object 'payment' has no field 'methd' (did you mean 'method'?)")],
        ),
        (
            {"group_by": ["tags"]},
            [("/group_by/0", "cannot group by 'tags': a tags field has no single value to group on")],
        ),
        ({"group_by": ["method", "method"]}, [("/group_by/1", "'method' is already a group at /group_by/0")]),
        (
            {"group_by": [{"field": "method", "bucket": "month"}]},
            [("/group_by/0/bucket", "a month bucket needs a date or datetime field, but 'method' is select")],
        ),
        (
            {"measures": [{"function": "sum", "field": "code"}]},
            [("/measures/0/field", "sum needs numbers, but 'code' is a text field")],
        ),
        (
            {"measures": [{"function": "avg", "field": "received_at"}]},
            [("/measures/0/field", "avg needs numbers, but 'received_at' is a date field")],
        ),
        (
            {"measures": [{"function": "min", "field": "method"}]},
            [("/measures/0/field", "min needs numbers or dates, but 'method' is a select field")],
        ),
        (
            {"measures": [{"function": "sum", "field": "amout"}]},
            [("/measures/0/field", "object 'payment' has no field 'amout' (did you mean 'amount'?)")],
        ),
        (
            {"measures": [{"function": "count", "field": "amount"}]},
            [("/measures/0", "count counts records: it takes no field")],
        ),
        (
            {"measures": [{"function": "sum"}]},
            [
                (
                    "/measures/0",
                    "count_distinct, sum, avg, min and max need the field they measure (or an expression)",
                )
            ],
        ),
        (
            {"measures": [{"function": "count"}, {"function": "count"}]},
            [("/measures/1", "a second column named 'count' (first at /measures/0): give it a name")],
        ),
        ({"chart": "pie"}, [("/chart", "a pie chart draws 1 group, but the report has 0")]),
        (
            {"chart": "number", "group_by": ["method"]},
            [("/chart", "a number chart draws no groups, but the report has 1")],
        ),
        (
            {"sort": ["-total"]},
            [("/sort/0", "sorts by 'total', which is not a column; the columns are count")],
        ),
        ({"limit": 0}, [("/limit", "must be at least 1, not 0")]),
        (
            {"measures": [{"function": "count_distinct", "field": "tags"}]},
            [
                (
                    "/measures/0/field",
                    "cannot count distinct values of 'tags': a tags field has no single value to compare",
                )
            ],
        ),
        (
            {"parameters": [{"name": "period", "kind": "period", "field": "method"}]},
            [("/parameters/0/field", "a period needs a date or datetime field, but 'method' is select")],
        ),
        (
            {"parameters": [{"name": "rep", "kind": "user", "field": "amount"}]},
            [("/parameters/0/field", "a user parameter needs a user field, but 'amount' is currency")],
        ),
        (
            {"parameters": [{"name": "rep", "kind": "department", "field": "ownr"}]},
            [("/parameters/0/field", "object 'payment' has no field 'ownr' (did you mean 'owner'?)")],
        ),
        (
            {
                "parameters": [
                    {"name": "p", "kind": "period", "field": "received_at", "default": "last_decade"}
                ]
            },
            [
                (
                    "/parameters/0/default",
                    "a period is one of today, yesterday, this_week, last_week, this_month, last_month,"
                    " this_quarter, last_quarter, this_year, last_year, last_7_days, last_30_days,"
                    " last_90_days, last_12_months, or YYYY-MM-DD..YYYY-MM-DD",
                )
            ],
        ),
        (
            {
                "parameters": [
                    {
                        "name": "p",
                        "kind": "period",
                        "field": "received_at",
                        "default": "2026-12-01..2026-01-01",
                    }
                ]
            },
            [("/parameters/0/default", "the range ends before it starts")],
        ),
        (
            {"parameters": [{"name": "rep", "kind": "user", "field": "owner", "default": "you"}]},
            [("/parameters/0/default", "a user parameter takes me or my_team, or a user's id")],
        ),
        (
            {
                "parameters": [
                    {"name": "rep", "kind": "user", "field": "owner"},
                    {"name": "rep", "kind": "department", "field": "owner"},
                ]
            },
            [("/parameters/1/name", "a second parameter named 'rep' (first at /parameters/0)")],
        ),
        (
            {"parameters": [{"name": "rep", "kind": "team", "field": "owner"}]},
            [("/parameters/0/kind", '"team" is not one of "period", "user", "department"')],
        ),
        (
            {"compare": "previous_period"},
            [("/compare", "comparing with the previous period needs a period parameter with a default")],
        ),
        (
            {
                "compare": "previous_period",
                "group_by": [{"field": "received_at", "bucket": "month"}],
                "parameters": [
                    {"name": "period", "kind": "period", "field": "received_at", "default": "this_year"}
                ],
            },
            [
                (
                    "/compare",
                    "comparing with the previous period needs groups without a time bucket: the periods"
                    " differ",
                )
            ],
        ),
        ({"compare": "last_year"}, [("/compare", 'compare takes "previous_period"')]),
        (
            {
                "measures": [
                    {"function": "count"},
                    {"function": "ratio", "of": "cnt", "to": "count", "name": "r"},
                ]
            },
            [("/measures/1/of", "'cnt' is not a measure of this report; its measures: count")],
        ),
        (
            {"measures": [{"function": "ratio", "of": "count", "to": "count"}]},
            [
                (
                    "/measures/0",
                    "ratio divides two measures of the report: it takes of, to and a name, and no"
                    " field, expression or filter",
                )
            ],
        ),
        (
            {"measures": [{"function": "count", "filter": "amount > 0"}]},
            [("/measures/0", "a measure with an expression or a filter needs a name for its column")],
        ),
        (
            {"measures": [{"function": "sum", "field": "amount", "of": "count"}]},
            [("/measures/0", "of and to are for ratio")],
        ),
        (
            {"measures": [{"function": "sum", "field": "amount", "expression": "amount * 2", "name": "x"}]},
            [
                (
                    "/measures/0",
                    "count_distinct, sum, avg, min and max need the field they measure (or an expression)",
                )
            ],
        ),
        (
            {"sort": ["-conversion"], "chart": "funnel", "group_by": ["method"]},
            [("/sort/0", "sorts by 'conversion', which is not a column; the columns are method, count")],
        ),
    ],
)
def test_each_problem_is_reported_at_its_path(keys: dict, expected: list[tuple[str, str]]) -> None:
    assert problems_of(report(**keys)) == expected


def test_parameters_comparison_and_system_columns_read_back_and_name_their_columns() -> None:
    doc = report(
        group_by=["owner", "method"],
        measures=[{"function": "count"}, {"function": "count_distinct", "field": "code"}],
        parameters=[
            {"name": "period", "kind": "period", "field": "received_at", "default": "this_month",
             "label": {"zh_CN": "期间", "en": "Period"}},
            {"name": "rep", "kind": "user", "field": "owner"},
            {"name": "dept", "kind": "department", "field": "created_by", "default": "mine"},
        ],
        compare="previous_period",
    )  # fmt: skip
    spec = ReportSpec.from_json(doc)

    assert spec.to_json() == doc
    assert spec.period is not None and spec.period.default == "this_month"
    assert spec.columns == (
        "owner", "method", "count", "count_distinct_code", "count_previous", "count_distinct_code_previous"
    )  # fmt: skip
    assert validate_report(doc, "reports/payments.json", known_objects=KNOWN).problems == []


def test_filtered_measures_expressions_and_ratios_read_back() -> None:
    doc = report(
        measures=[
            {"function": "count", "name": "closed"},
            {"function": "count", "filter": "status == 'received'", "name": "received"},
            {"function": "ratio", "of": "received", "to": "closed", "name": "received_rate"},
            {"function": "avg", "expression": "installment * 2", "name": "doubled"},
        ]
    )
    spec = ReportSpec.from_json(doc)

    assert spec.to_json() == doc
    assert spec.columns == ("closed", "received", "received_rate", "doubled")
    assert validate_report(doc, "reports/payments.json", known_objects=KNOWN).problems == []


def test_a_cohort_report_reads_back_and_names_its_columns() -> None:
    doc = report(
        measures=[{"function": "count_distinct", "field": "code"}],
        cohort={"by": "code", "date": "received_at", "bucket": "quarter", "periods": 8},
    )
    spec = ReportSpec.from_json(doc)

    assert spec.to_json() == doc
    assert spec.columns == ("cohort", "period", "count_distinct_code", "retention")
    assert validate_report(doc, "reports/payments.json", known_objects=KNOWN).problems == []


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {
                "cohort": {"by": "code", "date": "method"},
                "measures": [{"function": "count_distinct", "field": "code"}],
            },
            [("/cohort/date", "a cohort needs a date or datetime field, but 'method' is select")],
        ),
        (
            {
                "cohort": {"by": "tags", "date": "received_at"},
                "measures": [{"function": "count_distinct", "field": "tags"}],
            },
            [
                ("/cohort/by", "cannot follow 'tags': a tags field has no single value"),
                (
                    "/measures/0/field",
                    "cannot count distinct values of 'tags': a tags field has no single value to compare",
                ),
            ],
        ),
        (
            {"cohort": {"by": "code", "date": "received_at"}},
            [
                (
                    "/measures",
                    "a cohort report counts what it follows: measures must be"
                    ' [{"function": "count_distinct", "field": "code"}]',
                )
            ],
        ),
        (
            {
                "cohort": {"by": "code", "date": "received_at"},
                "group_by": ["method"],
                "chart": "bar",
                "measures": [{"function": "count_distinct", "field": "code"}],
            },
            [
                ("/chart", "a cohort report is drawn as a table"),
                ("/group_by", "a cohort report takes no group_by: its rows are cohort and period"),
            ],
        ),
        (
            {
                "cohort": {"by": "code", "date": "received_at", "bucket": "week"},
                "measures": [{"function": "count_distinct", "field": "code"}],
            },
            [("/cohort/bucket", '"week" is not one of "month", "quarter", "year"')],
        ),
    ],
)
def test_each_cohort_problem_is_reported_at_its_path(keys: dict, expected: list[tuple[str, str]]) -> None:
    assert sorted(problems_of(report(**keys))) == sorted(expected)


def test_a_funnel_with_a_count_adds_reached_and_conversion_columns() -> None:
    spec = ReportSpec.from_json(report(chart="funnel", group_by=["method"]))

    assert spec.columns == ("method", "count", "reached", "conversion")
    assert spec.computed_columns == ("method", "count")


def test_sum_and_avg_accept_number_formulas() -> None:
    assert problems_of(report(measures=[{"function": "avg", "field": "double"}])) == []


def test_a_count_sum_or_average_roll_up_is_measured_and_an_earliest_or_latest_one_is_not() -> None:
    assert field_uses(PAYMENT.field("refunded"))["functions"] == ["sum", "avg", "min", "max"]
    assert field_uses(PAYMENT.field("last_refund"))["functions"] == []
    assert problems_of(report(measures=[{"function": "avg", "field": "refunded"}])) == []
    assert problems_of(report(measures=[{"function": "max", "field": "last_refund"}])) == [
        (
            "/measures/0/field",
            "max cannot measure 'last_refund': a max roll-up; only count, sum, avg roll-ups are measured",
        )
    ]
