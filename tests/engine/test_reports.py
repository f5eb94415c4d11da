"""Reports at run time: grouped and measured by the database, in the reader's scope, labelled for people."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ExpressionError, InvalidMetadata, UnknownReport
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, check_package
from engine.records.reports import run_report
from engine.store.system_tables import departments, users
from metadata.reports import ReportSpec

T0 = datetime(2026, 11, 26, 1, 0)
REP, OTHER_REP = 11, 12
SALES_REP = Actor.user(REP, "rep", {"sales_rep"}, department_id=1, department_path="/1/")


def people(loom: Loom) -> None:
    with loom.begin() as conn:
        conn.execute(departments.insert().values(id=1, name="销售部", path="/1/", created_at=T0))
        for user_id, name in ((REP, "张三"), (OTHER_REP, "李四")):
            conn.execute(
                users.insert().values(
                    id=user_id,
                    username=f"u{user_id}",
                    display_name=name,
                    active=True,
                    created_at=T0,
                    department_id=1,
                )
            )


def adhoc(**keys: object) -> ReportSpec:
    return ReportSpec.from_json({"name": "adhoc", "chart": "table", **keys})


@pytest.fixture
def world(crm: Loom) -> Loom:
    people(crm)
    records = crm.records(SYSTEM)
    customer = records.create("customer", {"name": "华东电子", "owner": REP})["id"]
    other = records.create("customer", {"name": "华南机械", "owner": OTHER_REP})["id"]
    for stage, amount, owner in (
        ("negotiation", "300000", REP),
        ("initial_contact", "1000", REP),
        ("initial_contact", "2500.50", OTHER_REP),
        ("needs_confirmed", None, REP),
        ("lost", "999", REP),
    ):
        values = {
            "name": f"{stage}-{amount}",
            "customer": customer,
            "stage": stage,
            "amount": amount,
            "owner": owner,
        }
        if stage in ("negotiation", "proposal"):
            values |= {"contact": records.create("contact", {"name": "王经理", "customer": customer})["id"]}
            values |= {"expected_close_date": "2026-12-31"}
        if stage == "lost":
            values["lost_reason"] = "price"
        records.create("opportunity", values)
    for amount, status, owner in (
        ("100000", "active", REP),
        ("50000", "active", OTHER_REP),
        ("8000", "draft", REP),
    ):
        records.create(
            "contract",
            {"name": f"合同{amount}", "customer": customer if owner == REP else other, "amount": amount,
             "status": status, "owner": owner, "start_date": "2026-01-01", "end_date": "2026-12-31",
             "signed_at": "2026-01-01"},
        )  # fmt: skip
    return crm


def test_the_funnel_reads_in_stage_order_with_counts_amounts_conversion_and_labels(world: Loom) -> None:
    result = run_report(world, "opportunity_funnel", SYSTEM)

    assert [c.name for c in result.columns] == ["stage", "count", "sum_amount", "reached", "conversion"]
    # Reached: at this stage or a later one; conversion: reached over the stage before's reached.
    assert [dict(row) for row in result.rows] == [
        {"stage": "initial_contact", "count": 2, "sum_amount": Decimal("3500.50"), "reached": 4,
         "conversion": None},
        {"stage": "needs_confirmed", "count": 1, "sum_amount": None, "reached": 2,
         "conversion": Decimal("0.5000")},
        {"stage": "negotiation", "count": 1, "sum_amount": Decimal("300000.00"), "reached": 1,
         "conversion": Decimal("0.5000")},
    ]  # fmt: skip
    assert result.label("stage", "initial_contact", "zh_CN") == "初步接洽"
    assert result.label("stage", "negotiation", "en") == "Negotiation"
    assert result.column("count").label["en"] == "Opportunities"


def test_a_sales_reps_report_counts_only_the_records_they_may_read(world: Loom) -> None:
    everyone = run_report(world, "contracts_by_status", SYSTEM)
    mine = run_report(world, "contracts_by_status", SALES_REP)

    assert [dict(r) for r in everyone.rows] == [
        {"status": "draft", "count": 1, "sum_amount": Decimal("8000.00")},
        {"status": "active", "count": 2, "sum_amount": Decimal("150000.00")},
    ]
    assert [dict(r) for r in mine.rows] == [
        {"status": "draft", "count": 1, "sum_amount": Decimal("8000.00")},
        {"status": "active", "count": 1, "sum_amount": Decimal("100000.00")},
    ]


def test_a_report_on_a_field_hidden_from_the_reader_is_refused(world: Loom) -> None:
    margin = adhoc(object="contract", measures=[{"function": "sum", "field": "cost_price"}])

    with pytest.raises(PermissionDenied, match="cost_price"):
        run_report(world, margin, SALES_REP)
    assert run_report(world, margin, SYSTEM).rows[0]["sum_cost_price"] is None


def test_an_extra_filter_narrows_the_report(world: Loom) -> None:
    result = run_report(world, "opportunity_funnel", SYSTEM, filter="amount > 2000")

    assert [(r["stage"], r["count"]) for r in result.rows] == [("initial_contact", 1), ("negotiation", 1)]


@pytest.mark.parametrize(
    ("filter", "named"),
    [
        ("upper(name)", "must be true or false"),
        ("amount", "must be true or false"),
        ("amount > 1 / 0", "division by zero"),
        ('stage == "a" * 10**10', "fails for every record"),
    ],
)
def test_an_extra_filter_that_is_not_a_condition_or_always_fails_is_refused(
    world: Loom, filter: str, named: str
) -> None:
    with pytest.raises(ExpressionError, match=named) as refused:
        run_report(world, "opportunity_funnel", SYSTEM, filter=filter)
    assert refused.value.code == "invalid_expression"  # a 400 over HTTP


def test_groups_by_user_and_lookup_are_labelled_with_names_and_sorted_by_measure(world: Loom) -> None:
    spec = adhoc(
        object="opportunity", group_by=["customer"], measures=[{"function": "count"}], sort=["-count"]
    )

    result = run_report(world, spec, SYSTEM)

    [row] = result.rows
    assert row["count"] == 5
    assert result.label("customer", row["customer"]) == "华东电子"


def test_time_buckets_follow_the_business_calendar(world: Loom) -> None:
    records = world.records(SYSTEM)
    # 16:30 UTC on 30 September is 00:30 on 1 October in Beijing: the fourth quarter, October, week 40.
    moments = ["2026-09-30T16:30:00Z", "2026-09-30T15:00:00Z", "2026-11-26T01:00:00Z"]
    for moment in moments:
        records.create("customer", {"name": moment, "last_followup_at": moment})

    def buckets(bucket: str) -> list[tuple[date | None, int]]:
        spec = adhoc(
            object="customer",
            filter="not isblank(last_followup_at)",
            group_by=[{"field": "last_followup_at", "bucket": bucket}],
            measures=[{"function": "count"}],
        )
        return [(row["last_followup_at"], row["count"]) for row in run_report(world, spec, SYSTEM).rows]

    assert buckets("day") == [(date(2026, 9, 30), 1), (date(2026, 10, 1), 1), (date(2026, 11, 26), 1)]
    assert buckets("week") == [(date(2026, 9, 28), 2), (date(2026, 11, 23), 1)]
    assert buckets("month") == [(date(2026, 9, 1), 1), (date(2026, 10, 1), 1), (date(2026, 11, 1), 1)]
    assert buckets("quarter") == [(date(2026, 7, 1), 1), (date(2026, 10, 1), 2)]
    assert buckets("year") == [(date(2026, 1, 1), 3)]


def test_payments_received_by_month_sum_as_decimals_with_period_labels(world: Loom) -> None:
    records = world.records(SYSTEM)
    customer = records.create("customer", {"name": "回款客户"})["id"]
    for amount, received in (
        ("0.10", "2026-10-03"),
        ("0.20", "2026-10-30"),
        ("5", "2026-11-02"),
        ("9", None),
    ):
        status = "received" if received else "planned"
        values = {"customer": customer, "amount": amount, "status": status, "received_at": received}
        records.create("payment", values | ({"method": "cash"} if received else {}))

    result = run_report(world, "payments_by_month", SYSTEM)

    assert [dict(r) for r in result.rows] == [
        {"received_at": date(2026, 10, 1), "sum_amount": Decimal("0.30"), "count": 2},
        {"received_at": date(2026, 11, 1), "sum_amount": Decimal("5.00"), "count": 1},
    ]
    assert [result.label("received_at", r["received_at"], "zh_CN") for r in result.rows] == [
        "2026年10月",
        "2026年11月",
    ]


def test_an_unknown_report_name_is_not_found(crm: Loom) -> None:
    with pytest.raises(UnknownReport):
        run_report(crm, "nope", SYSTEM)


def test_the_crm_installs_its_reports(crm: Loom) -> None:
    assert set(crm.registry.reports()) == {
        "opportunity_funnel",
        "payments_by_month",
        "tickets_by_category",
        "leads_by_source",
        "contracts_by_status",
        "win_rate_by_rep",
        "sales_by_rep_month",
        "payments_by_rep_month",
        "renewal_rate",
        "dormant_customers_by_owner",
        "followups_by_rep_month",
        "ticket_resolution_by_category",
        "lead_source_conversion",
        "repurchase_cohorts",
        "customer_churn_by_owner",
        "lead_first_response_by_rep",
        "ticket_satisfaction_by_category",
        "customer_value_by_segment",
        "sales_targets_by_rep_month",
    }
    assert run_report(crm, "tickets_by_category", SYSTEM).rows == ()


def test_a_package_report_with_a_bad_filter_is_refused_with_its_path(tmp_path: Path, crm: Loom) -> None:
    package = tmp_path / "crm"
    shutil.copytree(CRM_PACKAGE, package)
    (package / "reports" / "leads_by_source.json").write_text(
        '{"name": "leads_by_source", "object": "lead", "filter": "score + 1", "group_by": ["source"],'
        ' "measures": [{"function": "count"}], "chart": "bar"}',
        encoding="utf-8",
    )
    (package / "reports" / "broken.json").write_text(
        '{"name": "broken", "object": "lead", "filter": "sttus == 1", "measures": [{"function": "count"}],'
        ' "chart": "number"}',
        encoding="utf-8",
    )

    with pytest.raises(InvalidMetadata) as refused:
        check_package(package, crm.registries)

    assert [(p.file, p.path) for p in refused.value.problems] == [
        ("reports/broken.json", "/filter"),
        ("reports/leads_by_source.json", "/filter"),
    ]
    assert "true or false" in refused.value.problems[1].message
