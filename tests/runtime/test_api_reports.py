"""Reports over /api/v1: listed for those who may run them, run with their parameters in the caller's
scope, described in the OpenAPI document, and each row's filter lists exactly its records."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.api_world import Api, error_of

TEAM_FUNNEL = {
    "name": "team_funnel",
    "object": "opportunity",
    "label": {"zh_CN": "团队漏斗", "en": "Team funnel"},
    "filter": "stage != 'lost'",
    "group_by": ["stage"],
    "measures": [{"function": "count"}, {"function": "sum", "field": "amount"}],
    "parameters": [
        {
            "name": "period",
            "kind": "period",
            "field": "created_at",
            "label": {"zh_CN": "期间", "en": "Period"},
        },
        {"name": "rep", "kind": "user", "field": "owner"},
    ],
    "chart": "funnel",
}


@pytest.fixture
def api(crm: Loom) -> Api:
    world = Api(crm)
    sales = identity.create_department(crm, "销售部", actor=SYSTEM)["id"]
    other = identity.create_department(crm, "华南区", actor=SYSTEM)["id"]
    world.person("admin", ["admin"])
    world.person("rep.zhang", ["sales_rep"], department_id=sales)
    world.person("rep.li", ["sales_rep"], department_id=sales)
    world.person("rep.qian", ["sales_rep"], department_id=other)
    world.person("finance.sun", ["finance"])
    assert world.post("/meta/reports", json=TEAM_FUNNEL).status_code == 201
    customer = world.create("customer", {"name": "华东电子"})["id"]
    for owner, stage, amount in (
        ("rep.zhang", "initial_contact", "100"),
        ("rep.zhang", "needs_confirmed", "200.50"),
        ("rep.li", "initial_contact", "300"),
        ("rep.qian", "initial_contact", "400"),
        ("rep.qian", "lost", "500"),
    ):
        values = {"name": f"{owner}-{stage}", "customer": customer, "stage": stage, "amount": amount}
        values |= {"owner": world.ids[owner]}
        if stage == "lost":
            values["lost_reason"] = "price"
        world.create("opportunity", values)
    return world


def run(api: Api, name: str, as_: str = "admin", **query: str) -> dict:
    response = api.get(f"/reports/{name}", query_string=query, as_=as_)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_report_answers_with_labelled_columns_and_rows_that_list_their_records(api: Api) -> None:
    result = run(api, "team_funnel")

    assert [c["name"] for c in result["columns"]] == ["stage", "count", "sum_amount", "reached", "conversion"]
    assert [
        (r["values"]["stage"], r["values"]["count"], r["values"]["sum_amount"]) for r in result["rows"]
    ] == [
        ("initial_contact", 3, "800.00"),
        ("needs_confirmed", 1, "200.50"),
    ]
    assert [r["values"]["conversion"] for r in result["rows"]] == [None, "0.2500"]
    for row in result["rows"]:
        listed = api.get("/records/opportunity", query_string={"filter": row["filter"], "limit": 500})
        assert len(listed.get_json()["data"]) == row["values"]["count"]


def test_labels_follow_the_callers_language(api: Api) -> None:
    response = api.get("/reports/team_funnel", headers={"Accept-Language": "zh-CN"})

    body = response.get_json()
    assert body["label"] == "团队漏斗"
    assert body["rows"][0]["labels"] == {"stage": "初步接洽"}
    assert body["parameters"][0]["label"] == "期间"
    english = api.get("/reports/team_funnel", headers={"Accept-Language": "en"}).get_json()
    assert english["rows"][0]["labels"] == {"stage": "Initial contact"}
    assert english["columns"][4]["label"] == "Conversion"


def test_parameters_come_as_query_parameters_within_the_callers_scope(api: Api) -> None:
    mine = run(api, "team_funnel", as_="rep.zhang", rep="me")
    team = run(api, "team_funnel", as_="rep.zhang")
    other = run(api, "team_funnel", as_="rep.qian", rep=str(api.ids["rep.zhang"]))

    assert [(r["values"]["stage"], r["values"]["count"]) for r in mine["rows"]] == [
        ("initial_contact", 1),
        ("needs_confirmed", 1),
    ]
    assert mine["values"] == {"rep": "me"}
    # A rep reads their department's opportunities, so the team figures leave out South China's.
    assert sum(r["values"]["count"] for r in team["rows"]) == 3
    # Naming someone outside one's scope shows nothing of theirs.
    assert other["rows"] == []
    period = run(api, "team_funnel", period="this_year")
    assert period["period"] == {"first": "2026-01-01", "last": "2026-12-31"}
    assert run(api, "team_funnel", period="last_year")["rows"] == []


@pytest.mark.parametrize(
    ("query", "status", "code", "named"),
    [
        ({"perod": "this_year"}, 422, "invalid_parameter", "perod"),
        ({"period": "someday"}, 422, "invalid_parameter", "period"),
        ({"period": "2026-02-30..2026-03-01"}, 422, "invalid_parameter", "period"),
        ({"rep": "1e9"}, 422, "invalid_parameter", "rep"),
        ({"filter": "amount +"}, 400, "bad_query", None),
        ({"filter": "amount"}, 400, "bad_query", None),
    ],
)
def test_bad_parameters_are_refused_naming_them(
    api: Api, query: dict[str, str], status: int, code: str, named: str | None
) -> None:
    response = api.get("/reports/team_funnel", query_string=query)

    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    if named is not None:
        assert list(error["fields"]) == [named]


def test_an_unknown_report_is_not_found_and_an_unreadable_one_forbidden(api: Api) -> None:
    assert api.get("/reports/nope").status_code == 404
    assert api.get("/reports/team_funnel", as_="finance.sun").status_code == 403
    assert api.get("/reports/team_funnel", as_=None).status_code == 401


def test_the_report_list_shows_what_the_caller_may_run(api: Api) -> None:
    everything = {r["name"] for r in api.get("/reports").get_json()["data"]}
    finance = {r["name"] for r in api.get("/reports", as_="finance.sun").get_json()["data"]}

    assert {"team_funnel", "opportunity_funnel", "payments_by_month"} <= everything
    assert "team_funnel" not in finance and "payments_by_month" in finance


def test_the_openapi_document_describes_each_report_and_its_parameters(api: Api) -> None:
    document = api.get("/openapi.json").get_json()

    operation = document["paths"]["/api/v1/reports/team_funnel"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"filter", "period", "rep"}
    assert "last_quarter" in params["period"]["schema"]["pattern"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReportResult"
    }
    finance = api.get("/openapi.json", as_="finance.sun").get_json()
    assert "/api/v1/reports/team_funnel" not in finance["paths"]


def test_a_two_group_report_also_comes_as_a_cross_table(api: Api) -> None:
    by_owner = dict(TEAM_FUNNEL, name="stage_by_owner", group_by=["owner", "stage"], chart="table",
                    parameters=[])  # fmt: skip
    assert api.post("/meta/reports", json=by_owner).status_code == 201

    body = api.get("/reports/stage_by_owner", headers={"Accept-Language": "en"}).get_json()

    pivot = body["pivot"]
    assert pivot["columns"] == ["initial_contact", "needs_confirmed"]
    assert pivot["column_labels"] == ["Initial contact", "Needs confirmed"]
    zhang = pivot["rows"].index(api.ids["rep.zhang"])
    assert pivot["row_labels"][zhang] == "Rep.Zhang"
    cells = [body["rows"][i]["values"]["count"] if i is not None else None for i in pivot["cells"][zhang]]
    assert cells == [1, 1]
    assert run(api, "team_funnel")["pivot"] is None
