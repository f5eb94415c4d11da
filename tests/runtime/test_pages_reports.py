"""The report pages: the list by object, a report's parameters, table and drill-down links, its
CSV and XLSX exports, and the sales and service dashboards, each as the reader's scope allows."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.records.report_parameters import period_of
from engine.store.documents import save_document
from tests.runtime.pages_world import PASSWORD, Team, build_team, text


def last_quarter_day(loom: Loom, offset: int = 0) -> str:
    """A day in the middle of last quarter (business dates), `offset` days on."""
    period = period_of("last_quarter", loom.clock.today())
    return (period.first + dt.timedelta(days=40 + offset)).isoformat()


@pytest.fixture
def team(crm: Loom) -> Team:
    team = build_team(crm)
    sales = identity.department_by_name(crm, "销售部")["id"]
    # A rep whose name a spreadsheet would run as a formula, to check exports write it as text.
    odd = identity.create_user(
        crm, "odd.rep", "=SUM(1,2)", PASSWORD, roles=["sales_rep"], department_id=sales, actor=SYSTEM
    )
    team.ids["odd.rep"] = odd["id"]
    records = crm.records()
    for owner, amount, status, day in (
        ("wang.fang", "100000", "confirmed", last_quarter_day(crm)),
        ("wang.fang", "50000", "confirmed", last_quarter_day(crm, 3)),
        ("wang.fang", "7000", "cancelled", last_quarter_day(crm, 5)),
        ("li.na", "80000", "confirmed", last_quarter_day(crm, 1)),
        ("odd.rep", "1000", "confirmed", last_quarter_day(crm, 2)),
        ("wang.fang", "30000", "confirmed", crm.clock.today().isoformat()),
        ("li.na", "5000", "confirmed", (crm.clock.today() - dt.timedelta(days=400)).isoformat()),
    ):
        customer = team.customer(f"{owner} 客户 {amount}", owner=owner)
        records.create(
            "sales_order",
            {
                "customer": customer["id"],
                "order_date": day,
                "amount": amount,
                "status": status,
                "owner": team.ids[owner],
            },
        )
    return team


def table_rows(page: str) -> list[list[str]]:
    """The report table's body rows as text cells (the drill-down cell left out)."""
    body = page.split('<div class="table-wrap report-table">', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells[:-1]])
    return rows


def drill_links(page: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'<a href="([^"]+)" data-drill', page)]


def test_the_reports_list_groups_the_reports_by_object_in_chinese(team: Team) -> None:
    page = text(team.client("zhang.jingli").get("/app/reports"))
    assert "<h1>报表</h1>" in page
    assert re.search(r"<h2 [^>]*>销售订单</h2>", page)  # a folder per object
    assert ">销售员月度销售额</a>" in page and ">商机漏斗</a>" in page
    assert 'href="/app/reports"' in page and 'href="/app/dashboards"' in page  # in the menu


def test_a_report_page_shows_the_chart_data_and_the_same_figures_in_its_table(team: Team) -> None:
    response = team.client("zhang.jingli").get("/app/reports/sales_by_rep_month?period=last_quarter")
    assert response.status_code == 200
    page = text(response)
    rows = table_rows(page)
    by_rep = {row[0]: row for row in rows}
    assert by_rep["王芳"][2] == "150,000.00" and by_rep["王芳"][3] == "2"  # the cancelled order left out
    assert by_rep["李娜"][2] == "80,000.00"
    assert '<option value="last_quarter" selected>上季度</option>' in page
    chart = json.loads(re.search(r'id="chart-data-report">(.*?)</script>', page, re.S).group(1))
    assert chart["type"] == "bar" and set(chart["categories"]) == {"王芳", "李娜", "=SUM(1,2)"}
    heights = {
        name: point["value"]
        for name, point in zip(chart["categories"], chart["series"][0]["data"], strict=True)
    }
    assert heights["王芳"] == 150000.0 and heights["李娜"] == 80000.0
    # The chart is named for screen readers, which read the table below it instead.
    assert 'aria-label="销售员月度销售额图表；下方表格列出相同的数字。"' in page


def test_a_rep_sees_only_figures_over_the_records_in_their_scope(team: Team) -> None:
    page = text(team.client("wang.fang").get("/app/reports/sales_by_rep_month?period=last_quarter"))
    rows = table_rows(page)
    assert [row[0] for row in rows] == ["王芳"]
    assert rows[0][2] == "150,000.00"
    assert "80,000.00" not in page and "李娜</th>" not in page
    board = text(team.client("wang.fang").get("/app/dashboards/sales?period=last_quarter"))
    assert '<option value="me" selected>我的</option>' in board  # a rep's dashboard opens on their own
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">150,000.00</p>', board)
    manager = text(team.client("zhang.jingli").get("/app/dashboards/sales?period=last_quarter"))
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">231,000.00</p>', manager)


@pytest.mark.both_databases("date buckets are SQL of each database")
def test_each_row_drills_down_to_the_list_of_exactly_its_records(team: Team) -> None:
    client = team.client("zhang.jingli")
    page = text(client.get("/app/reports/sales_by_rep_month?period=last_quarter"))
    rows = table_rows(page)
    links = drill_links(page)
    index = [row[0] for row in rows].index("王芳")
    wang = links[index]
    assert f'data-drill aria-label="查看记录: 王芳 {rows[index][1]}"' in page  # each link says which row
    assert urlsplit(wang).path == "/app/sales_order" and parse_qs(urlsplit(wang).query)["where"]
    listed = text(client.get(wang))
    amounts = [found for found in re.findall(r"¥[\d,]+\.\d\d", listed) if found != "¥0.00"]
    assert sorted(amounts) == ["¥100,000.00", "¥50,000.00"]  # ¥0.00 is each order's received amount


def test_the_table_exports_as_csv_and_xlsx_with_formula_cells_as_text(team: Team) -> None:
    client = team.client("zhang.jingli")
    response = client.get("/app/reports/sales_by_rep_month/export.csv?period=last_quarter")
    assert response.status_code == 200
    assert 'filename="sales_by_rep_month.csv"' in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["负责人", "下单日期", "销售额", "订单数"]
    by_rep = {line[0]: line for line in lines[1:]}
    assert by_rep["王芳"][2:] == ["150000.00", "2"] and by_rep["李娜"][2:] == ["80000.00", "1"]
    assert "'=SUM(1,2)" in by_rep  # written as text, never run
    book = client.get("/app/reports/sales_by_rep_month/export.xlsx?period=last_quarter")
    sheet = load_workbook(io.BytesIO(book.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["负责人", "下单日期", "销售额", "订单数"]
    rows = {row[0]: row for row in values[1:]}
    assert float(rows["王芳"][2]) == 150000.0 and rows["王芳"][3] == 2
    assert "'=SUM(1,2)" in rows


def test_bad_parameters_get_a_message_and_unknown_reports_a_404(team: Team) -> None:
    client = team.client("zhang.jingli")
    bad = client.get("/app/reports/sales_by_rep_month?period=someday")
    assert bad.status_code == 400 and "期间" in text(bad) and 'role="alert"' in text(bad)
    custom = client.get("/app/reports/sales_by_rep_month?period=custom&period_from=2026-05-01")
    assert custom.status_code == 400 and "自定义期间" in text(custom)
    wrong_rep = client.get("/app/reports/sales_by_rep_month?rep=nobody")
    assert wrong_rep.status_code == 400
    assert client.get("/app/reports/no_such_report").status_code == 404
    assert client.get("/app/reports/no_such_report/export.csv").status_code == 404
    assert client.get("/app/reports/sales_by_rep_month/export.csv?period=nope").status_code == 400
    assert client.get("/app/reports/sales_by_rep_month?name=x&kind=y").status_code == 200
    assert client.get("/app/dashboards/nope").status_code == 404
    assert client.get("/app/dashboards/sales?period=someday").status_code == 400
    assert client.get("/app/dashboards/sales?view=everyone").status_code == 400
    assert client.get("/app/dashboards/sales?period=custom&period_from=2026-09-01").status_code == 400


def test_a_page_refused_or_not_found_says_so_in_the_readers_language(team: Team) -> None:
    rep = team.client("wang.fang")  # a rep: may not build reports
    refused = rep.get("/builder/reports/")
    assert refused.status_code == 403
    assert "您无权打开此页面" in text(refused) and "Forbidden" not in text(refused)
    missing = rep.get("/app/reports/no_such_report")
    assert missing.status_code == 404
    assert "此页面不存在" in text(missing) and "Not Found" not in text(missing)


@pytest.mark.both_databases("period bounds in business time are SQL of each database")
def test_a_custom_period_runs_the_report_over_that_range(team: Team) -> None:
    day = last_quarter_day(team.loom)
    page = text(
        team.client("zhang.jingli").get(
            f"/app/reports/sales_by_rep_month?period=custom&period_from={day}&period_to={day}"
        )
    )
    assert [row[0] for row in table_rows(page)] == ["王芳"]
    assert f'value="{day}"' in page and '<option value="custom" selected>' in page


def test_a_named_period_the_list_does_not_offer_shows_by_its_name_in_chinese(team: Team) -> None:
    page = text(team.client("zhang.jingli").get("/app/reports/sales_by_rep_month?period=last_12_months"))
    assert '<option value="last_12_months" selected>最近12个月</option>' in page
    assert "last_12_months</option>" not in page


def test_the_dashboards_pass_the_period_to_every_widget_that_takes_one(team: Team) -> None:
    client = team.client("zhang.jingli")
    listing = text(client.get("/app/dashboards"))
    assert ">销售仪表盘</a>" in listing and ">服务仪表盘</a>" in listing
    board = text(client.get("/app/dashboards/sales?period=last_quarter"))
    assert '<option value="" selected>我可见的全部</option>' in board  # the head opens on the team
    assert "sales_by_rep_month/export.csv?period=last_quarter" in board
    assert "本期回款" in board and "赢单率" in board
    assert "全部期间" in board  # the funnel takes no period, and says so
    assert 'id="chart-w3"' in board  # sales were made last quarter: a chart
    assert 'id="chart-w4"' not in board and "没有可统计的记录。" in board  # no payments: no empty chart
    mine = text(client.get("/app/dashboards/sales?period=last_quarter&view=me"))
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">0.00</p>', mine)
    this_month = text(client.get("/app/dashboards/sales"))
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">30,000.00</p>', this_month)
    finance = identity.department_by_name(team.loom, "财务部")["id"]
    elsewhere = text(client.get(f"/app/dashboards/sales?period=last_quarter&department={finance}"))
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">0.00</p>', elsewhere)
    assert client.get("/app/dashboards/sales?department=12345").status_code == 400
    service = client.get("/app/dashboards/service?period=this_year")
    assert service.status_code == 200 and "工单" in text(service)


def test_the_pages_speak_english_to_an_english_reader(team: Team) -> None:
    client = team.client("zhang.jingli", locale="en")
    page = text(client.get("/app/reports/sales_by_rep_month?period=last_quarter"))
    assert "Sales by rep and month" in page and "Last quarter" in page and "View records" in page
    board = text(client.get("/app/dashboards/sales?period=last_quarter"))
    assert "Sales dashboard" in board and "Sales in the period" in board


def test_reports_over_objects_the_reader_may_not_read_are_neither_listed_nor_run(team: Team) -> None:
    client = team.client("zhao.caiwu")  # finance reads orders and payments, not opportunities
    listing = text(client.get("/app/reports"))
    assert ">销售员月度销售额</a>" in listing and ">商机漏斗</a>" not in listing
    assert client.get("/app/reports/opportunity_funnel").status_code == 404
    assert client.get("/app/reports/opportunity_funnel/export.xlsx").status_code == 404
    board = text(client.get("/app/dashboards/sales?period=last_quarter&view="))
    assert 'data-report="sales_by_rep_month"' in board
    assert 'data-report="opportunity_funnel"' not in board and 'data-report="win_rate_by_rep"' not in board
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">231,000.00</p>', board)


def test_a_report_over_a_field_hidden_from_the_reader_shows_them_no_figure(team: Team) -> None:
    with team.loom.begin() as conn:
        report = {
            "name": "product_costs",
            "object": "product",
            "label": {"zh_CN": "产品成本", "en": "Product costs"},
            "group_by": ["category"],
            "measures": [{"function": "sum", "field": "cost_price"}],
            "chart": "bar",
        }
        save_document(conn, "report", report, actor=SYSTEM, at=team.loom.clock.now())
    team.loom.records().create("product", {"code": "P-1", "name": "伺服电机", "cost_price": "4321.5"})
    finance = team.client("zhao.caiwu")  # finance sees cost prices
    assert "4,321.50" in text(finance.get("/app/reports/product_costs"))
    rep = team.client("wang.fang")  # a rep never does
    refused = rep.get("/app/reports/product_costs")
    assert refused.status_code == 403 and "4,321.50" not in text(refused)
    exported = rep.get("/app/reports/product_costs/export.csv")
    assert exported.status_code == 403 and "4321.50" not in text(exported)


def test_all_periods_runs_the_report_over_all_time_not_its_default(team: Team) -> None:
    client = team.client("zhang.jingli")
    page = text(client.get("/app/reports/sales_by_rep_month"))  # the report's default: this year
    assert '<option value="this_year" selected>今年</option>' in page
    assert sum(row[0] == "李娜" for row in table_rows(page)) == 1  # last year's order left out
    everything = text(client.get("/app/reports/sales_by_rep_month?period="))
    assert '<option value="" selected>全部期间</option>' in everything
    assert sum(row[0] == "李娜" for row in table_rows(everything)) == 2
    exported = text(client.get("/app/reports/sales_by_rep_month/export.csv?period="))
    assert sum(line.startswith("李娜,") for line in exported.splitlines()) == 2
    assert "export.csv?period=&amp;" in everything or 'export.csv?period="' in everything
    board = text(client.get("/app/dashboards/sales?period="))
    assert re.search(r'kpi-title">本期销售额</h2>\s*<p class="kpi-value">266,000.00</p>', board)
