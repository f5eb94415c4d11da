"""Dashboards over /api/v1: listed for those who may see them, run with the dashboard's filters in the
caller's scope with each KPI's total and target, described in the OpenAPI document, and written
through /meta/dashboards with each problem at its JSON path."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.api_world import Api, error_of


@pytest.fixture
def api(crm: Loom) -> Api:
    world = Api(crm)
    sales = identity.create_department(crm, "销售部", actor=SYSTEM)["id"]
    world.person("admin", ["admin"])
    world.person("rep.zhang", ["sales_rep"], department_id=sales)
    world.person("rep.li", ["sales_rep"], department_id=sales)
    world.person("agent.wu", ["service_agent"], department_id=sales)
    month = crm.clock.today().replace(day=1).isoformat()
    for owner, amount, target in (("rep.zhang", "3000", "4000"), ("rep.li", "5000", "8000")):
        customer = world.create("customer", {"name": f"{owner} 客户", "owner": world.ids[owner]})["id"]
        world.create(
            "sales_order",
            {"customer": customer, "order_date": crm.clock.today().isoformat(), "amount": amount}
            | {"owner": world.ids[owner]},
        )
        world.create(
            "sales_target",
            {"owner": world.ids[owner], "month": month, "sales_target": target, "payment_target": "1000"},
        )
    return world


def kpis(body: dict) -> dict[str, dict]:
    return {widget["name"]: widget["kpi"] for widget in body["widgets"] if widget["kind"] == "kpi"}


def test_a_dashboard_runs_each_widget_in_the_callers_scope_with_its_targets(api: Api) -> None:
    everyone = api.get("/dashboards/sales").get_json()
    mine = api.get("/dashboards/sales", as_="rep.zhang").get_json()

    assert everyone["values"] == {"period": "this_month", "user": "", "department": ""}
    assert kpis(everyone)["sales"] == {
        "total": "8000.00", "target": "12000.00", "reached": "0.6667", "target_error": None
    }  # fmt: skip
    assert kpis(mine)["sales"]["total"] == "3000.00" and kpis(mine)["sales"]["target"] == "4000.00"
    assert kpis(mine)["orders"] == {"total": "1", "target": None, "reached": None, "target_error": None}
    chart = next(widget for widget in mine["widgets"] if widget["name"] == "sales_by_rep")
    assert chart["width"] == 2 and chart["label"] == "销售员月度销售额"  # the report's label
    assert [row["values"]["sum_amount"] for row in chart["result"]["rows"]] == ["3000.00"]
    last_month = api.get("/dashboards/sales", query_string={"period": "last_month"}).get_json()
    assert kpis(last_month)["sales"]["total"] == "0"


def test_the_list_and_the_widgets_leave_out_what_the_caller_may_not_run(api: Api) -> None:
    listed = api.get("/dashboards", as_="agent.wu").get_json()["data"]
    assert [board["name"] for board in listed] == ["sales", "service"]
    board = api.get("/dashboards/sales", as_="agent.wu").get_json()
    assert [widget["name"] for widget in board["widgets"]] == ["dormant_customers"]
    api.person("finance.sun", ["finance"])
    assert [b["name"] for b in api.get("/dashboards", as_="finance.sun").get_json()["data"]] == ["sales"]
    assert api.get("/dashboards/service", as_="finance.sun").status_code == 404
    assert api.get("/dashboards/nope").status_code == 404


@pytest.mark.parametrize(
    ("query", "named"),
    [({"period": "someday"}, "period"), ({"user": "everyone"}, "user"), ({"view": "me"}, "view")],
)
def test_bad_filters_are_a_bad_query_naming_them(api: Api, query: dict, named: str) -> None:
    response = api.get("/dashboards/sales", query_string=query)

    assert response.status_code == 400 and error_of(response)["code"] == "bad_query"
    assert named in error_of(response)["message"]


def test_the_openapi_document_describes_the_dashboards_the_caller_may_see(api: Api) -> None:
    document = api.get("/openapi.json", as_="agent.wu").get_json()

    assert "/api/v1/dashboards/sales" in document["paths"] and "/api/v1/dashboards" in document["paths"]
    operation = document["paths"]["/api/v1/dashboards/sales"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["period", "user", "department"]
    assert "DashboardResult" in document["components"]["schemas"]


def test_an_admin_writes_a_dashboard_through_meta_and_a_bad_one_is_refused_at_its_paths(api: Api) -> None:
    board = {
        "name": "rep_month",
        "label": {"zh_CN": "月度", "en": "Month"},
        "widgets": [
            {"name": "sales", "kind": "kpi", "report": "sales_by_rep_month", "measure": "sum_amount"},
        ],
    }
    assert api.post("/meta/dashboards", json=board).status_code == 201
    written = api.get("/dashboards/rep_month", as_="rep.li").get_json()
    assert written["widgets"][0]["kpi"]["total"] == "5000.00"
    bad = {**board, "home_for": ["nobody"], "widgets": [{**board["widgets"][0], "measure": "avg_amount"}]}

    refused = api.put("/meta/dashboards/rep_month", json=bad)

    assert refused.status_code == 422
    assert set(error_of(refused)["fields"]) == {"/home_for/0", "/widgets/0/measure"}
