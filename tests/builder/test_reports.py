"""The report builder at /builder/reports, over HTTP: a saved report runs at once on the page, the
API and the command line with the expected figures; invalid documents are refused by JSON path;
private reports stay their owner's; who may build; and CSRF on every change."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from builder_ui import reports as builder_reports
from engine import identity
from engine.base.errors import UnknownReport
from engine.records.reports import run_report
from engine.store.documents import get_document
from tests.builder.test_org import matrix_form
from tests.runtime.pages_world import Team, csrf, text
from tests.runtime.test_cli import run

BY_STAGE_AND_OWNER: dict[str, Any] = {
    "name": "opps_by_stage_owner",
    "object": "opportunity",
    "label": {"zh_CN": "各阶段各负责人商机"},
    "folder": "销售分析",
    "group_by": ["stage", "owner"],
    "measures": [{"function": "count"}, {"function": "sum", "field": "amount"}],
    "chart": "bar",
}


def headers(client: FlaskClient, path: str = "/builder/reports/") -> dict[str, str]:
    return {"X-CSRFToken": csrf(client, path)}


def post(client: FlaskClient, path: str, body: Any, page: str = "/builder/reports/") -> TestResponse:
    return client.post(path, json=body, headers=headers(client, page))


def save(client: FlaskClient, document: dict[str, Any], original: str | None = None) -> TestResponse:
    return post(client, "/builder/reports/save", {"document": document, "original": original})


def opportunities(team: Team) -> None:
    """Four opportunities: wang.fang has two at initial contact (100 + 250) and one at needs
    confirmed (1000); li.na one at needs confirmed (40)."""
    records = team.loom.records()
    customer = team.customer("甲公司")["id"]
    for owner, stage, amount in (
        ("wang.fang", "initial_contact", 100),
        ("wang.fang", "initial_contact", 250),
        ("wang.fang", "needs_confirmed", 1000),
        ("li.na", "needs_confirmed", 40),
    ):
        values = {"name": f"{owner}-{stage}-{amount}", "customer": customer, "stage": stage, "amount": amount}
        records.create("opportunity", {**values, "owner": team.ids[owner]})


def figures(team: Team, name: str, username: str) -> dict[tuple[Any, Any], tuple[int, Decimal]]:
    result = run_report(team.loom, name, identity.actor_for(team.loom, team.ids[username]))
    return {(row["stage"], row["owner"]): (row["count"], row["sum_amount"]) for row in result.rows}


def test_an_admin_saves_a_report_that_runs_on_the_page_the_api_and_the_command(team: Team) -> None:
    opportunities(team)
    admin = team.client("guan.li")
    answer = save(admin, BY_STAGE_AND_OWNER)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["page"] == "/app/reports/opps_by_stage_owner"
    wang, li = team.ids["wang.fang"], team.ids["li.na"]
    assert figures(team, "opps_by_stage_owner", "guan.li") == {
        ("initial_contact", wang): (2, Decimal("350.00")),
        ("needs_confirmed", wang): (1, Decimal("1000.00")),
        ("needs_confirmed", li): (1, Decimal("40.00")),
    }
    # Saved through the metadata services: a revision of a document, as a package's would be.
    with team.loom.read() as conn:
        stored = get_document(conn, "report", "opps_by_stage_owner")
    assert stored is not None and stored.body["folder"] == "销售分析"
    # On the reports page, in its folder; the report's page shows the figures.
    listing = text(admin.get("/app/reports"))
    assert "销售分析" in listing and "各阶段各负责人商机" in listing
    page = text(admin.get("/app/reports/opps_by_stage_owner"))
    assert "1,000.00" in page and "350.00" in page
    # The API runs it.
    api = admin.get("/api/v1/reports/opps_by_stage_owner").get_json()
    assert sorted(row["values"]["count"] for row in api["rows"]) == [1, 1, 2]
    # And the command.
    url = team.loom.db.url.render_as_string(hide_password=False)
    ran = run("report", "opps_by_stage_owner", "--as", "guan.li", "--format", "json", database=url)
    assert ran.exit_code == 0, ran.output
    assert sorted(row["values"]["count"] for row in json.loads(ran.output)["rows"]) == [1, 1, 2]


def test_the_preview_runs_the_posted_document_as_the_builder(team: Team) -> None:
    opportunities(team)
    admin = team.client("guan.li")
    document = {**BY_STAGE_AND_OWNER, "group_by": ["stage"]}
    answer = post(admin, "/builder/reports/preview", {"document": document})
    data = answer.get_json()
    assert answer.status_code == 200 and data["fields"] == {}
    assert data["rows"] == 2
    assert "1,040.00" in data["html"] and "350.00" in data["html"]
    # Nothing was saved by previewing.
    assert "opps_by_stage_owner" not in team.loom.registry.reports()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"group_by": [{"field": "name", "bucket": "month"}]}, "/group_by/0/bucket"),
        ({"measures": [{"function": "sum", "field": "stage"}]}, "/measures/0/field"),
        ({"group_by": ["stage", "owner", "source"], "chart": "pie"}, "/chart"),
        ({"filter": "amount > "}, "/filter"),
        ({"sharing": {"with": "roles", "roles": ["no_such_role"]}}, "/sharing/roles/0"),
        ({"sharing": {"with": "everyone", "owner": "li.na"}}, "/sharing/owner"),
        ({"name": "Bad Name"}, "/name"),
        ({"limit": 0}, "/limit"),
    ],
)
def test_an_invalid_report_is_refused_by_json_path_and_nothing_is_applied(
    team: Team, change: dict[str, Any], path: str
) -> None:
    admin = team.client("guan.li")
    version = team.loom.registry.version
    answer = save(admin, {**BY_STAGE_AND_OWNER, **change})
    assert answer.status_code == 422
    fields = answer.get_json()["fields"]
    assert path in fields, fields
    assert team.loom.registry.version == version
    assert "opps_by_stage_owner" not in team.loom.registry.reports()
    # The preview says the same at the same place.
    document = {**BY_STAGE_AND_OWNER, **change}
    preview = post(admin, "/builder/reports/preview", {"document": document}).get_json()
    if path != "/name":  # the preview runs an unnamed document under a name of its own
        assert path in preview["fields"] and preview["html"] is None


def test_a_new_report_may_not_take_a_name_in_use(team: Team) -> None:
    admin = team.client("guan.li")
    answer = save(admin, {**BY_STAGE_AND_OWNER, "name": "opportunity_funnel"})
    assert answer.status_code == 422 and "/name" in answer.get_json()["fields"]


def test_a_manager_builds_private_reports_and_a_rep_cannot_open_them(team: Team) -> None:
    opportunities(team)
    manager = team.client("zhang.jingli")
    assert manager.get("/builder/reports/new").status_code == 200
    assert "/builder/reports/new" in text(manager.get("/app/reports"))
    # Asking for everyone does not make it public: a builder who is not an administrator saves privately.
    answer = save(manager, {**BY_STAGE_AND_OWNER, "sharing": {"with": "everyone"}}, None)
    assert answer.status_code == 200, answer.get_json()
    spec = team.loom.registry.report("opps_by_stage_owner")
    assert spec.sharing.with_ == "private" and spec.sharing.owner == "zhang.jingli"
    assert sum(count for count, _ in figures(team, spec.name, "zhang.jingli").values()) == 4
    # Their report's page offers to edit it; a package report's does not.
    assert "/builder/reports/opps_by_stage_owner" in text(manager.get("/app/reports/opps_by_stage_owner"))
    assert "/builder/reports/opportunity_funnel" not in text(manager.get("/app/reports/opportunity_funnel"))
    # The rep: not in the list, 404 like an unknown report on the page, the export and the API.
    rep = team.client("wang.fang")
    assert "opps_by_stage_owner" not in text(rep.get("/app/reports"))
    assert rep.get("/app/reports/opps_by_stage_owner").status_code == 404
    assert rep.get("/app/reports/opps_by_stage_owner/export.csv").status_code == 404
    assert rep.get("/api/v1/reports/opps_by_stage_owner").status_code == 404
    assert rep.get("/api/v1/reports/no_such_report").status_code == 404
    names = [report["name"] for report in rep.get("/api/v1/reports").get_json()["data"]]
    assert "opps_by_stage_owner" not in names and "opportunity_funnel" in names
    listed = {report["name"]: report for report in manager.get("/api/v1/reports").get_json()["data"]}
    assert (listed[spec.name]["folder"], listed[spec.name]["sharing"]) == ("销售分析", "private")
    assert (listed["opportunity_funnel"]["folder"], listed["opportunity_funnel"]["sharing"]) == (
        None,
        "everyone",
    )
    with pytest.raises(UnknownReport):
        run_report(team.loom, spec.name, identity.actor_for(team.loom, team.ids["wang.fang"]))
    url = team.loom.db.url.render_as_string(hide_password=False)
    refused = run("report", spec.name, "--as", "wang.fang", database=url)
    assert refused.exit_code == 1 and "opps_by_stage_owner" in refused.output
    ran = run("report", spec.name, "--as", "zhang.jingli", "--format", "csv", database=url)
    assert ran.exit_code == 0 and len(ran.output.splitlines()) == 4  # a header and three rows
    # The administrator may open it to manage it.
    admin = team.client("guan.li")
    assert admin.get("/app/reports/opps_by_stage_owner").status_code == 200
    assert admin.get("/builder/reports/opps_by_stage_owner").status_code == 200


def test_a_builder_changes_and_deletes_only_their_own_reports(team: Team) -> None:
    manager = team.client("zhang.jingli")
    assert save(manager, BY_STAGE_AND_OWNER).status_code == 200
    # A package report is not theirs: not listed, no editor, no save over it, no delete.
    assert "opportunity_funnel" not in text(manager.get("/builder/reports/"))
    assert manager.get("/builder/reports/opportunity_funnel").status_code == 404
    funnel = team.loom.registry.report("opportunity_funnel").to_json()
    assert save(manager, funnel, "opportunity_funnel").status_code == 404
    token = headers(manager)["X-CSRFToken"]
    deleting = manager.post("/builder/reports/opportunity_funnel/delete", data={"csrf_token": token})
    assert deleting.status_code == 404
    assert "opportunity_funnel" in team.loom.registry.reports()
    # Their own: changed, then deleted.
    changed = {**BY_STAGE_AND_OWNER, "label": {"zh_CN": "我的商机"}}
    assert save(manager, changed, "opps_by_stage_owner").status_code == 200
    assert team.loom.registry.report("opps_by_stage_owner").label["zh_CN"] == "我的商机"
    deleting = manager.post("/builder/reports/opps_by_stage_owner/delete", data={"csrf_token": token})
    assert deleting.status_code == 303
    assert "opps_by_stage_owner" not in team.loom.registry.reports()
    assert team.client("guan.li").get("/app/reports/opps_by_stage_owner").status_code == 404


def test_an_admin_shares_with_roles_and_edits_anyones_report(team: Team) -> None:
    manager = team.client("zhang.jingli")
    assert save(manager, BY_STAGE_AND_OWNER).status_code == 200
    admin = team.client("guan.li")
    shared = {**BY_STAGE_AND_OWNER, "sharing": {"with": "roles", "roles": ["sales_rep"]}}
    assert save(admin, shared, "opps_by_stage_owner").status_code == 200
    assert team.client("wang.fang").get("/app/reports/opps_by_stage_owner").status_code == 200
    assert team.client("zhao.caiwu").get("/app/reports/opps_by_stage_owner").status_code == 404
    # No longer private to the manager: it is the administrators' to manage now.
    assert manager.get("/builder/reports/opps_by_stage_owner").status_code == 404
    # An administrator may make it private to someone: a user, named however it is typed.
    private = {**BY_STAGE_AND_OWNER, "sharing": {"with": "private", "owner": "Wang.Fang"}}
    assert save(admin, private, "opps_by_stage_owner").status_code == 200
    assert team.loom.registry.report("opps_by_stage_owner").sharing.owner == "wang.fang"
    assert team.client("wang.fang").get("/app/reports/opps_by_stage_owner").status_code == 200
    nobody = {**BY_STAGE_AND_OWNER, "sharing": {"with": "private", "owner": "nobody"}}
    answer = save(admin, nobody, "opps_by_stage_owner")
    assert answer.status_code == 422 and answer.get_json()["fields"]["/sharing/owner"] == ["没有用户 nobody"]


def test_a_user_without_the_permission_cannot_reach_the_builder(team: Team) -> None:
    rep = team.client("wang.fang")
    assert "/builder/reports/new" not in text(rep.get("/app/reports"))
    for path in ("/builder/reports/", "/builder/reports/new", "/builder/reports/opportunity_funnel"):
        assert rep.get(path).status_code == 403
    token = csrf(rep, "/app/reports")
    body = {"document": BY_STAGE_AND_OWNER}
    answer = rep.post("/builder/reports/save", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 403
    assert "opps_by_stage_owner" not in team.loom.registry.reports()
    # A builder who is not an administrator reaches the report builder only.
    manager = team.client("zhang.jingli")
    assert manager.get("/builder/").status_code == 403
    assert manager.get("/builder/rules/").status_code == 403


def test_a_builder_is_offered_only_the_fields_they_may_see(team: Team) -> None:
    page = text(team.client("zhang.jingli").get("/builder/reports/new"))
    found = re.search(r'<script type="application/json" id="rp-data">(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    names = {field["name"] for field in data["fields"]["opportunity"]}
    assert {"stage", "amount", "owner", "created_at"} <= names
    amount = next(f for f in data["fields"]["opportunity"] if f["name"] == "amount")
    stage = next(f for f in data["fields"]["opportunity"] if f["name"] == "stage")
    assert amount["functions"] == ["count_distinct", "sum", "avg", "min", "max"]
    assert stage["functions"] == ["count_distinct"] and stage["group"]


@pytest.mark.parametrize(
    "path",
    [
        "/builder/reports/save",
        "/builder/reports/preview",
        "/builder/reports/opportunity_funnel/delete",
        "/builder/reports/conditions/opportunity/check",
    ],
)
def test_every_change_needs_the_csrf_token(team: Team, path: str) -> None:
    admin = team.client("guan.li")
    answer = admin.post(path, json={"document": BY_STAGE_AND_OWNER, "text": "amount > 1"})
    assert answer.status_code == 400
    assert "opps_by_stage_owner" not in team.loom.registry.reports()
    assert "opportunity_funnel" in team.loom.registry.reports()


def test_bad_bodies_are_refused_without_a_server_error(team: Team) -> None:
    admin = team.client("guan.li")
    token = headers(admin)
    for body in (None, [], {"document": "x"}, {"document": {"name": 3}}, {"document": {}, "original": 5}):
        for path in ("/builder/reports/save", "/builder/reports/preview"):
            answer = admin.post(path, json=body, headers=token)
            assert answer.status_code in (400, 200, 422), (path, body, answer.status_code)
    answer = admin.post("/builder/reports/save", data="not json", headers=token)
    assert answer.status_code == 400


def test_an_admin_lets_a_role_build_reports_in_the_role_editor(team: Team) -> None:
    rep = team.client("wang.fang")
    assert rep.get("/builder/reports/new").status_code == 403
    admin = team.client("guan.li")
    form = matrix_form(text(admin.get("/builder/org/roles/sales_rep")))
    assert "build_reports" not in form
    form["build_reports"] = "1"
    assert admin.post("/builder/org/roles/sales_rep", data=form).status_code == 302
    assert team.loom.registry.roles["sales_rep"].build_reports
    assert team.loom.registry.roles["sales_rep"].objects["customer"].scope("read") == "department"
    assert rep.get("/builder/reports/new").status_code == 200
    # The manager's role keeps it when saved unchanged.
    form = matrix_form(text(admin.get("/builder/org/roles/sales_manager")))
    assert form["build_reports"] == "1"
    assert admin.post("/builder/org/roles/sales_manager", data=form).status_code == 302
    assert team.loom.registry.roles["sales_manager"].build_reports


def test_problems_are_said_in_the_pages_language(team: Team) -> None:
    admin = team.client("guan.li")
    document = {**BY_STAGE_AND_OWNER, "chart": "pie"}
    fields = post(admin, "/builder/reports/preview", {"document": document}).get_json()["fields"]
    assert fields["/chart"] == ["饼图应有1 个分组，但报表有 2 个分组"]
    shared = {**BY_STAGE_AND_OWNER, "sharing": {"with": "roles", "roles": ["sales_mgr"]}}
    fields = save(admin, shared).get_json()["fields"]
    assert fields["/sharing/roles/0"] == ["没有角色 'sales_mgr'（是否要用 'sales_manager'？）"]


def test_the_preview_shows_the_first_rows_only(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    opportunities(team)
    monkeypatch.setattr(builder_reports, "PREVIEW_ROWS", 2)  # 200 in use; four records here
    admin = team.client("guan.li")
    by_name = {**BY_STAGE_AND_OWNER, "group_by": ["name"], "chart": "table"}
    assert post(admin, "/builder/reports/preview", {"document": by_name}).get_json()["rows"] == 2
    top_one = {**by_name, "limit": 1}
    assert post(admin, "/builder/reports/preview", {"document": top_one}).get_json()["rows"] == 1
