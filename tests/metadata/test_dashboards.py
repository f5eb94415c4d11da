"""Dashboards as metadata: the JSON round trip, the schema, and every check with its JSON path."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from metadata.dashboards import DashboardSpec, Target
from metadata.loading import read_package
from metadata.reports import ReportSpec
from metadata.validation import validate_dashboard, validate_package

CRM = Path(__file__).resolve().parents[2] / "metadata" / "packages" / "crm"
REPORTS = {
    file.stem: ReportSpec.from_json(json.loads(file.read_text(encoding="utf-8")))
    for file in (CRM / "reports").glob("*.json")
}
ROLES = {file.stem for file in (CRM / "roles").glob("*.json")}
FILE = "dashboards/board.json"


def board(*widgets: dict, **keys: object) -> dict:
    return {
        "name": "board",
        "widgets": list(widgets) or [{"name": "sales", "kind": "chart", "report": "sales_by_rep_month"}],
        **keys,
    }


def problems_of(doc: dict) -> list[tuple[str, str]]:
    found = validate_dashboard(doc, FILE, known_reports=REPORTS, known_roles=ROLES).problems
    return [(p.path, p.message) for p in found]


@pytest.mark.parametrize("file", sorted((CRM / "dashboards").glob("*.json")), ids=lambda p: p.stem)
def test_every_crm_dashboard_writes_back_exactly_as_it_was_written_and_passes_its_checks(file: Path) -> None:
    doc = json.loads(file.read_text(encoding="utf-8"))
    doc.pop("$schema")

    assert DashboardSpec.from_json(doc).to_json() == doc
    assert problems_of(doc) == []


def test_a_widget_reads_its_kind_measure_target_and_width() -> None:
    doc = board(
        {"name": "sales", "kind": "kpi", "report": "sales_by_rep_month", "measure": "sum_amount",
         "target": {"value": 500000}, "width": 2, "label": {"zh_CN": "销售额"}},
        {"name": "paid", "kind": "kpi", "report": "payments_by_rep_month", "measure": "sum_amount",
         "target": {"report": "sales_targets_by_rep_month", "measure": "sum_payment_target"}},
        {"name": "dormant", "kind": "list", "report": "dormant_customers_by_owner"},
        home_for=["sales_manager"],
        filters=["period", "user"],
        default_period="last_month",
    )  # fmt: skip
    spec = DashboardSpec.from_json(doc)

    sales, paid, dormant = spec.widgets
    assert sales.target == Target(value=Decimal(500000)) and sales.columns == 2
    assert paid.target == Target(report="sales_targets_by_rep_month", measure="sum_payment_target")
    assert paid.columns == 1 and dormant.columns == 4  # a KPI's default width, and a list's
    assert spec.reports == ("sales_by_rep_month", "payments_by_rep_month", "sales_targets_by_rep_month",
                            "dormant_customers_by_owner")  # fmt: skip
    assert spec.to_json() == doc
    assert problems_of(doc) == []
    assert DashboardSpec.from_json(board()).filters == ("period", "user", "department")  # all, by default


def test_a_widget_naming_a_report_or_measure_that_does_not_exist_is_told_where() -> None:
    found = problems_of(
        board(
            {"name": "a", "kind": "chart", "report": "sales_by_rep_mnth"},
            {"name": "b", "kind": "kpi", "report": "sales_by_rep_month", "measure": "sum_amont"},
            {"name": "c", "kind": "kpi", "report": "sales_by_rep_month", "measure": "count",
             "target": {"report": "no_targets", "measure": "x"}},
            {"name": "d", "kind": "kpi", "report": "sales_by_rep_month", "measure": "count",
             "target": {"report": "sales_targets_by_rep_month", "measure": "sum_amount"}},
        )
    )  # fmt: skip

    assert found == [
        ("/widgets/0/report", "report 'sales_by_rep_mnth', which is neither in this package nor installed"
         " (did you mean 'sales_by_rep_month'?)"),
        ("/widgets/1/measure", "report 'sales_by_rep_month' has no measure 'sum_amont'; its measures:"
         " sum_amount, count"),
        ("/widgets/2/target/report", "report 'no_targets', which is neither in this package nor installed"),
        ("/widgets/3/target/measure", "report 'sales_targets_by_rep_month' has no measure 'sum_amount';"
         " its measures: sum_sales_target, sum_payment_target"),
    ]  # fmt: skip


def test_a_kpi_adds_up_only_counts_and_sums_and_a_chart_needs_a_report_drawn_as_one() -> None:
    found = problems_of(
        board(
            {"name": "a", "kind": "kpi", "report": "win_rate_by_rep", "measure": "win_rate"},
            {"name": "b", "kind": "chart", "report": "repurchase_cohorts"},
            {"name": "c", "kind": "list", "report": "repurchase_cohorts"},
        )
    )

    assert [path for path, _ in found] == ["/widgets/0/measure", "/widgets/1/kind"]
    assert "ratio figures do not add up" in found[0][1]
    assert "drawn as a table" in found[1][1] and "list widget" in found[1][1]


def test_unknown_roles_repeated_widgets_and_a_bad_default_period_are_told_where() -> None:
    found = problems_of(
        board(
            {"name": "a", "kind": "chart", "report": "sales_by_rep_month"},
            {"name": "a", "kind": "list", "report": "sales_by_rep_month"},
            home_for=["sales_manager", "sales_manger"],
            default_period="someday",
        )
    )

    assert found == [
        ("/widgets/1/name", "a second widget named 'a' (first at /widgets/0)"),
        ("/home_for/1", "role 'sales_manger' is neither in this package nor installed"
         " (did you mean 'sales_manager'?)"),
        ("/default_period", found[2][1]),
    ]  # fmt: skip
    assert found[2][1].startswith("a dashboard opens on one of this_month, last_month")
    assert problems_of(board(default_period="2026-01-01..2026-03-31")) == []
    assert problems_of(board(default_period="2026-03-01..2026-01-31")) == [
        ("/default_period", "the range ends before it starts")
    ]
    assert [path for path, _ in problems_of(board(default_period="last_12_months"))] == ["/default_period"]


@pytest.mark.parametrize(
    ("widget", "path", "words"),
    [
        ({"name": "a", "kind": "kpi", "report": "r"}, "/widgets/0", "names the measure"),
        ({"name": "a", "kind": "list", "report": "r", "measure": "count"}, "/widgets/0", "are for kpi"),
        ({"name": "a", "kind": "gauge", "report": "r"}, "/widgets/0/kind", "gauge"),
        ({"name": "a", "kind": "chart", "report": "r", "width": 5}, "/widgets/0/width", "5"),
        ({"name": "a", "kind": "kpi", "report": "r", "measure": "m", "target": {"value": 1, "report": "r"}},
         "/widgets/0/target", "a target is"),
    ],
)  # fmt: skip
def test_the_schema_refuses_a_widget_of_the_wrong_shape_at_its_path(
    widget: dict, path: str, words: str
) -> None:
    found = problems_of(board(widget))

    assert any(p == path and words in message for p, message in found), found


def test_the_filters_are_known_kinds() -> None:
    found = problems_of(board(filters=["period", "region"]))

    assert found and found[0][0] == "/filters/1"


def test_a_package_checks_its_dashboards_against_its_own_reports_and_roles_and_gives_each_role_one_home(
    tmp_path: Path,
) -> None:
    package = tmp_path / "crm"
    for file in CRM.rglob("*.json"):
        target = package / file.relative_to(CRM)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    assert validate_package(read_package(package)).problems == []
    service = json.loads((package / "dashboards" / "service.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(service)
    broken["home_for"] = ["service_agent", "sales_manager", "auditor"]
    broken["widgets"][0]["report"] = "ticket_resolution_by_categry"
    (package / "dashboards" / "service.json").write_text(json.dumps(broken), encoding="utf-8")
    (package / "reports" / "tickets_by_category.json").unlink()

    found = [(p.file, p.path, p.message) for p in validate_package(read_package(package)).problems]

    assert found == [
        ("dashboards/service.json", "/home_for/1",
         "role 'sales_manager' already has dashboard 'sales' as its home page"),
        ("dashboards/service.json", "/home_for/2", "role 'auditor' is neither in this package nor installed"),
        ("dashboards/service.json", "/widgets/0/report",
         "report 'ticket_resolution_by_categry', which is neither in this package nor installed"
         " (did you mean 'ticket_resolution_by_category'?)"),
        ("dashboards/service.json", "/widgets/2/report",
         "report 'tickets_by_category', which is neither in this package nor installed"
         " (did you mean 'ticket_resolution_by_category'?)"),
    ]  # fmt: skip
