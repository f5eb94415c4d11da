"""Dashboards through the package manager and the registry: installed, refused with each problem's
path before anything applies, upgraded keeping an admin's change, exported and uninstalled; and run
as a reader, each KPI and target over the reader's own records."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.packages.export import export_package
from engine.packages.install import install_package
from engine.packages.uninstall import uninstall_package
from engine.packages.upgrade import upgrade_package
from engine.records.dashboards import home_dashboard, readable_dashboards, run_dashboard
from engine.schema.changes import apply_objects
from metadata.dashboards import DashboardSpec
from tests.engine.package_world import label, mini_crm, write


def shop(version: str = "1.0.0") -> dict[str, dict[str, Any]]:
    """mini_crm with a report of purchases by owner and a dashboard over it, home for sellers."""
    files = mini_crm(version)
    files["roles/seller.json"]["objects"]["purchase"] = {"create": True, "read": "own"}
    files["reports/purchases_by_owner.json"] = {
        "name": "purchases_by_owner",
        "object": "purchase",
        "label": label("销售员订单", "Purchases by owner"),
        "group_by": ["owner"],
        "measures": [{"function": "sum", "field": "amount"}, {"function": "count"}],
        "parameters": [{"name": "rep", "kind": "user", "field": "owner"}],
        "chart": "bar",
    }
    files["dashboards/board.json"] = {
        "name": "board",
        "label": label("看板", "Board"),
        "home_for": ["seller"],
        "widgets": [
            {
                "name": "total",
                "kind": "kpi",
                "report": "purchases_by_owner",
                "measure": "sum_amount",
                "label": label("订单金额", "Order amount"),
                "target": {"value": 1000},
            },
            {"name": "chart", "kind": "chart", "report": "purchases_by_owner"},
        ],
    }
    return files


def stored_board(loom: Loom) -> dict[str, Any]:
    return loom.registry.dashboards["board"].to_json()


def test_a_package_installs_its_dashboard_and_a_seller_is_home_on_it(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "shop", shop()))

    board = loom.registry.dashboards["board"]
    assert [widget.name for widget in board.widgets] == ["total", "chart"]
    seller = identity.create_user(loom, "li.si", "李四", "seller-password-1", roles=["seller"], actor=SYSTEM)
    actor = identity.actor_for(loom, seller["id"])
    assert home_dashboard(loom.registry, actor) == board
    assert [found.name for found in readable_dashboards(loom.registry, actor)] == ["board"]
    loom.records(actor).create("purchase", {"amount": "300"})
    loom.records(SYSTEM).create("purchase", {"amount": "5000"})  # someone else's: not in the seller's figures
    [total, chart] = run_dashboard(loom, actor, board, {"period": "this_month", "user": "", "department": ""})
    assert total.kpi is not None and total.kpi.total == Decimal("300") and total.kpi.target == Decimal(1000)
    assert total.kpi.reached == Decimal("0.3")
    assert chart.result is not None and chart.kpi is None and len(chart.result.rows) == 1


@pytest.mark.parametrize("how", ["install", "upgrade"])
def test_a_bad_dashboard_is_refused_with_each_problems_path_and_nothing_applies(
    loom: Loom, tmp_path: Path, how: str
) -> None:
    if how == "upgrade":
        install_package(loom, write(tmp_path / "v1", shop()))
    files = shop("2.0.0" if how == "upgrade" else "1.0.0")
    email = {"name": "email", "type": "email", "label": label("邮箱", "Email")}
    files["objects/customer.json"]["fields"].append(email)
    widgets = files["dashboards/board.json"]["widgets"]
    widgets[0]["measure"] = "sum_amont"
    widgets[1]["report"] = "no_such_report"
    files["dashboards/board.json"]["home_for"] = ["seller", "auditor"]
    before = loom.registry.version

    with pytest.raises(InvalidMetadata) as caught:
        if how == "upgrade":
            upgrade_package(loom, write(tmp_path / "v2", files))
        else:
            install_package(loom, write(tmp_path / "v1", files))

    assert [(p.file, p.path) for p in caught.value.problems] == [
        ("dashboards/board.json", "/home_for/1"),
        ("dashboards/board.json", "/widgets/0/measure"),
        ("dashboards/board.json", "/widgets/1/report"),
    ]
    assert loom.registry.version == before
    if how == "upgrade":  # not even the customer's new field
        assert "email" not in {field.name for field in loom.registry.object("customer").spec.fields}


def test_an_upgrade_keeps_an_admins_change_to_a_widget_and_export_and_uninstall_carry_the_dashboard(
    loom: Loom, tmp_path: Path
) -> None:
    install_package(loom, write(tmp_path / "v1", shop()))
    changed = copy.deepcopy(stored_board(loom))
    changed["widgets"][0]["target"] = {"value": 2500}  # the admin raises the target
    apply_objects(loom, [], dashboards=[DashboardSpec.from_json(changed)])
    v2 = shop("2.0.0")
    v2["dashboards/board.json"]["widgets"][1]["width"] = 4  # the package widens the chart

    upgrade_package(loom, write(tmp_path / "v2", v2))

    board = stored_board(loom)
    assert board["widgets"][0]["target"] == {"value": 2500} and board["widgets"][1]["width"] == 4
    export_package(loom, "mini_crm", tmp_path / "out")
    exported = json.loads((tmp_path / "out" / "dashboards" / "board.json").read_text(encoding="utf-8"))
    assert exported == board
    uninstall_package(loom, "mini_crm")
    assert "board" not in loom.registry.dashboards


def test_a_dashboard_given_directly_is_checked_against_the_installed_reports_and_roles(crm: Loom) -> None:
    board = {
        "name": "mine",
        "home_for": ["sales_rep"],
        "widgets": [
            {"name": "a", "kind": "kpi", "report": "sales_by_rep_month", "measure": "count",
             "target": {"report": "sales_targets_by_rep_month", "measure": "sum_payment_target"}},
            {"name": "b", "kind": "chart", "report": "opportunity_funnel"},
        ],
    }  # fmt: skip
    apply_objects(crm, [], dashboards=[DashboardSpec.from_json(board)])
    assert crm.registry.home_dashboard({"sales_rep"}).name == "mine"
    bad = copy.deepcopy(board)
    bad["name"] = "other"
    bad["widgets"][0]["target"]["report"] = "sales_target_by_rep_month"

    with pytest.raises(InvalidMetadata) as caught:
        apply_objects(crm, [], dashboards=[DashboardSpec.from_json(bad)])

    assert [(p.file, p.path) for p in caught.value.problems] == [
        ("dashboards/other.json", "/home_for/0"),  # sales_rep already has "mine"
        ("dashboards/other.json", "/widgets/0/target/report"),
    ]
    assert "other" not in crm.registry.dashboards


def test_the_crm_dashboards_are_home_for_managers_the_ceo_and_service_agents(crm: Loom) -> None:
    registry = crm.registry
    assert sorted(registry.dashboards) == ["sales", "service"]
    assert registry.home_dashboard({"sales_manager"}).name == "sales"
    assert registry.home_dashboard({"ceo"}).name == "sales"
    assert registry.home_dashboard({"service_agent"}).name == "service"
    assert registry.home_dashboard({"sales_rep"}) is None and registry.home_dashboard({"finance"}) is None
