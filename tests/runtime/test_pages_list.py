"""The list page: formatted values, search, filters, sort, pages, saved views, bulk changes and exports."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from engine.loom import Loom
from runtime.web.pages import export
from tests.runtime.pages_world import Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def test_the_list_shows_values_formatted_for_the_reader(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司", level="vip", lifecycle="prospect", region="east")
    team.loom.records().create(
        "opportunity",
        {
            "name": "MES 升级",
            "customer": customer["id"],
            "amount": "1234567.5",
            "stage": "needs_confirmed",
            "owner": team.ids["wang.fang"],
        },
    )
    page = text(team.client("wang.fang").get("/app/opportunity"))
    assert "¥1,234,567.50" in page
    assert 'style="--badge: #0ea5e9">需求确认</span>' in page  # the option's label, in its colour
    assert ">苏州精工机械有限公司</a>" in page  # a lookup shows the customer's name, linked
    english = text(team.client("wang.fang", locale="en").get("/app/opportunity"))
    assert "Needs confirmed" in english and "Opportunity name" in english


@pytest.mark.both_databases("LIKE patterns and case folding differ between the databases")
def test_search_and_filters_narrow_the_list_and_never_run_what_was_typed(team: Team) -> None:
    team.customer("苏州精工机械有限公司", level="vip")
    team.customer("深圳云帆电子科技有限公司", level="normal")
    client = team.client("wang.fang")
    found = text(client.get("/app/customer", query_string={"q": "云帆"}))
    assert "深圳云帆电子科技有限公司" in found and "苏州精工机械有限公司" not in found
    vip = text(client.get("/app/customer", query_string={"f_level": "vip"}))
    assert "苏州精工机械有限公司" in vip and "深圳云帆电子科技有限公司" not in vip
    sneaky = text(client.get("/app/customer", query_string={"q": "') or True or ('"}))
    assert "共 0 条记录" in sneaky


def test_a_bad_filter_expression_is_explained_above_the_table(team: Team) -> None:
    page = text(team.client("wang.fang").get("/app/customer", query_string={"where": "no_such_field > 1"}))
    assert "这个筛选条件无法执行" in page
    assert "no_such_field" in page


@pytest.mark.both_databases("the databases order NULLs and ties differently")
def test_sorting_and_pages_walk_every_record_once(team: Team) -> None:
    for index in range(55):
        team.customer(f"客户{index:02d}")
    client = team.client("wang.fang")
    first = text(client.get("/app/customer", query_string={"sort": "name"}))
    assert first.index("客户00") < first.index("客户01")
    assert "客户50" not in first
    cursor = first.split("cursor=")[1].split("&")[0].split('"')[0]
    second = text(client.get(f"/app/customer?sort=name&cursor={cursor}"))
    assert "客户54" in second and "客户00" not in second


def test_saved_views_belong_to_their_user(team: Team) -> None:
    team.customer("苏州精工机械有限公司", level="vip")
    team.customer("深圳云帆电子科技有限公司", level="normal")
    wang = team.client("wang.fang")
    saved = wang.post(
        "/app/customer/views", data={"csrf_token": csrf(wang), "name": "我的VIP", "f_level": "vip"}
    )
    assert saved.status_code == 302
    page = text(wang.get(saved.headers["Location"]))
    assert "我的VIP" in page and "苏州精工机械有限公司" in page and "深圳云帆电子科技有限公司" not in page
    assert "我的VIP" not in text(team.client("li.na").get("/app/customer"))


def test_bulk_change_applies_to_the_records_the_user_may_change_and_names_the_others(team: Team) -> None:
    mine = team.customer("苏州精工机械有限公司", lifecycle="lead")
    theirs = team.customer("深圳云帆电子科技有限公司", owner="li.na", lifecycle="lead")
    wang = team.client("wang.fang")
    response = wang.post(
        "/app/customer/bulk",
        data={"csrf_token": csrf(wang), "id": [mine["id"], theirs["id"]], "change": "lifecycle=prospect"},
        follow_redirects=True,
    )
    page = text(response)
    assert "已修改 1 条记录" in page
    assert f"#{theirs['id']}" in page
    records = team.loom.records()
    assert records.get("customer", mine["id"])["lifecycle"] == "prospect"
    assert records.get("customer", theirs["id"])["lifecycle"] == "lead"


def test_csv_export_escapes_formulas_and_leaves_out_what_the_user_may_not_export(team: Team) -> None:
    team.customer('=HYPERLINK("http://evil.example")', level="vip")
    team.customer("李娜的客户", owner="li.na")
    response = team.client("wang.fang").get("/app/customer/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="customer.csv"'
    body = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["客户编号", "客户名称", "客户级别"]
    names = [row[1] for row in rows[1:]]
    assert names == ['\'=HYPERLINK("http://evil.example")']  # text, and only the rep's own (export: own)
    assert rows[1][2] == "VIP客户"


def test_xlsx_export_opens_in_a_spreadsheet(team: Team) -> None:
    team.customer("苏州精工机械有限公司", level="vip")
    response = team.client("zhang.jingli").get("/app/customer/export.xlsx", query_string={"f_level": "vip"})
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][1] == "客户名称"
    assert rows[1][1] == "苏州精工机械有限公司"


def test_xlsx_export_of_text_with_a_control_character_opens_with_the_character_marked(team: Team) -> None:
    """A form or the API keeps a stray control character (a paste from another program); a
    workbook cannot hold one, so it shows as � rather than failing the export."""
    team.customer("苏州\x01精工\x1f机械", level="vip")
    response = team.client("zhang.jingli").get("/app/customer/export.xlsx", query_string={"f_level": "vip"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[1][1] == "苏州\ufffd精工\ufffd机械"


@pytest.mark.both_databases("PostgreSQL streams through a server-side cursor")
def test_csv_export_streams_every_row_however_many_batches_it_takes(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of two stand for batches of 500: seven customers take four reads, and none is left out.
    monkeypatch.setattr(export, "BATCH", 2)
    for n in range(7):
        team.customer(f"客户{n}")
    response = team.client("zhang.jingli").get("/app/customer/export.csv", query_string={"sort": "name"})
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [f"客户{n}" for n in range(7)]


def test_excel_export_states_its_cap_first_and_refuses_a_longer_list_instead_of_cutting_it(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "XLSX_LIMIT", 2)
    for n in range(3):
        team.customer(f"客户{n}")
    client = team.client("zhang.jingli")
    assert "CSV 导出全部记录；Excel 最多导出 2 行。" in text(client.get("/app/customer"))

    refused = client.get("/app/customer/export.xlsx")
    assert refused.status_code == 422
    said = "此列表有 3 行，超过 Excel 导出的上限 2 行。请导出 CSV（不限行数），或缩小筛选范围。"
    assert said in text(refused)
    narrowed = client.get("/app/customer/export.xlsx", query_string={"q": "客户1"})
    assert narrowed.status_code == 200
    sheet = load_workbook(io.BytesIO(narrowed.get_data()), read_only=True).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["客户1"]


def test_export_is_refused_without_the_export_right(team: Team) -> None:
    team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    assert client.get("/app/opportunity/export.csv").status_code == 403
    assert "导出 CSV" not in text(client.get("/app/opportunity"))
    assert "导出 CSV" in text(client.get("/app/customer"))
