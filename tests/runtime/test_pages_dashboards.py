"""The dashboards read from metadata: KPI cards with their targets and progress, each figure over the
reader's scope, the grid's widths, and the dashboard a role has as its home page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.dashboards import DashboardSpec
from tests.runtime.pages_world import PASSWORD, Team, build_team, text


def month_start(day: dt.date, back: int = 0) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return dt.date(year, month + 1, 1)


@pytest.fixture
def team(crm: Loom) -> Team:
    """This month: 王芳 sold 30,000 + 20,000 against a target of 80,000; 李娜 sold 45,000 against 40,000
    (so the team sold 95,000 against 120,000); last month's order and target are outside the period."""
    team = build_team(crm)
    today = crm.clock.today()
    records = crm.records()
    for owner, amount, day in (
        ("wang.fang", "30000", today),
        ("wang.fang", "20000", month_start(today)),
        ("li.na", "45000", today),
        ("wang.fang", "99000", month_start(today, 1)),
    ):
        customer = team.customer(f"{owner} 客户 {amount}", owner=owner)
        records.create(
            "sales_order",
            {
                "customer": customer["id"],
                "order_date": day.isoformat(),
                "amount": amount,
                "owner": team.ids[owner],
            },
        )
    for owner, month, sales, payments in (
        ("wang.fang", month_start(today), "80000", "60000"),
        ("li.na", month_start(today), "40000", "30000"),
        ("wang.fang", month_start(today, 1), "70000", "50000"),
    ):
        records.create(
            "sales_target",
            {
                "owner": team.ids[owner],
                "month": month.isoformat(),
                "sales_target": sales,
                "payment_target": payments,
            },
        )
    return team


def kpi(page: str, title: str) -> dict[str, str]:
    """The KPI card of that title: its figure, target, share reached and the progress bar's value."""
    start = page.index(f'kpi-title">{title}</h2>')
    card = page[start : page.index("</section>", start)]
    found = {"value": re.search(r'<p class="kpi-value">([^<]*)</p>', card).group(1)}
    if target := re.search(r'<span class="kpi-target-value">([^<]*)</span>', card):
        found["target"] = target.group(1)
    if reached := re.search(r"已完成 ([\d.,]+%)", card):
        found["reached"] = reached.group(1)
    if bar := re.search(r'role="progressbar"[^>]*aria-valuenow="([^"]+)"', card):
        found["bar"] = bar.group(1)
    return found


def test_a_reps_kpi_sums_their_own_orders_against_their_own_target(team: Team) -> None:
    page = text(team.client("wang.fang").get("/app/dashboards/sales"))
    assert '<option value="me" selected>我的</option>' in page
    sales = kpi(page, "本期销售额")
    assert sales == {"value": "50,000.00", "target": "80,000.00", "reached": "62.5%", "bar": "62.5"}
    assert "45,000.00" not in page and "40,000.00" not in page  # 李娜's order and target stay hers
    assert kpi(page, "本期回款") == {"value": "0.00", "target": "60,000.00", "reached": "0.0%", "bar": "0.0"}
    assert "target" not in kpi(page, "本期订单数")  # a KPI without a target shows only its figure
    last_month = text(team.client("wang.fang").get("/app/dashboards/sales?period=last_month"))
    assert kpi(last_month, "本期销售额") == {
        "value": "99,000.00", "target": "70,000.00", "reached": "141.4%", "bar": "100.0"
    }  # fmt: skip
    assert 'class="kpi-progress met"' in last_month  # beaten: the bar is full and says so


def test_the_managers_team_view_sums_the_teams_orders_and_targets(team: Team) -> None:
    client = team.client("zhang.jingli")
    page = text(client.get("/app/dashboards/sales"))
    assert '<option value="" selected>我可见的全部</option>' in page
    team_sales = kpi(page, "本期销售额")
    assert team_sales == {"value": "95,000.00", "target": "120,000.00", "reached": "79.2%", "bar": "79.2"}
    mine = text(client.get("/app/dashboards/sales?view=me"))  # the manager sold nothing and has no target
    assert kpi(mine, "本期销售额") == {"value": "0.00", "target": "0.00"}
    finance = identity.department_by_name(team.loom, "财务部")["id"]
    elsewhere = text(client.get(f"/app/dashboards/sales?department={finance}"))
    assert kpi(elsewhere, "本期销售额")["value"] == "0.00"


def test_the_grid_gives_each_widget_its_width(team: Team) -> None:
    page = text(team.client("zhang.jingli").get("/app/dashboards/sales"))
    assert re.search(r'class="card kpi span-1"[^>]*data-widget="sales"', page)
    assert re.search(r'class="card widget widget-chart span-2"[^>]*data-widget="sales_by_rep"', page)
    assert re.search(r'class="card widget widget-list span-4"[^>]*data-widget="dormant_customers"', page)


def test_a_role_opens_the_app_on_its_home_dashboard_with_its_work_a_link_away(team: Team) -> None:
    sales = identity.department_by_name(team.loom, "销售部")["id"]
    for username, role in (("zhou.zong", "ceo"), ("sun.kefu", "service_agent")):
        user = identity.create_user(
            team.loom, username, username, PASSWORD, roles=[role], department_id=sales, actor=SYSTEM
        )
        team.ids[username] = user["id"]
    manager = team.client("zhang.jingli")
    home = manager.get("/")
    assert home.status_code == 200
    page = text(home)
    assert "<h1>销售仪表盘</h1>" in page and kpi(page, "本期销售额")["target"] == "120,000.00"
    assert 'href="/work"' in page and "我的待办、审批和提醒" in page
    assert 'action="/"' in page  # its filters stay on the home page
    assert "你好, 张经理" in text(manager.get("/work"))
    assert "<h1>销售仪表盘</h1>" in text(team.client("zhou.zong").get("/"))
    assert "<h1>服务仪表盘</h1>" in text(team.client("sun.kefu").get("/"))
    rep = text(team.client("wang.fang").get("/"))  # a rep's home is their work, as it was
    assert "你好, 王芳" in rep and "仪表盘</h1>" not in rep
    last_quarter = text(manager.get("/?period=last_quarter"))
    assert '<option value="last_quarter" selected>' in last_quarter
    assert manager.get("/?period=someday").status_code == 400


def test_a_dashboard_added_as_metadata_is_listed_and_shows_a_fixed_target(team: Team) -> None:
    board = {
        "name": "team_month",
        "label": {"zh_CN": "团队月度", "en": "Team month"},
        "filters": ["period"],
        "widgets": [
            {
                "name": "sales",
                "kind": "kpi",
                "report": "sales_by_rep_month",
                "measure": "sum_amount",
                "label": {"zh_CN": "团队销售额", "en": "Team sales"},
                "target": {"value": 190000},
                "width": 2,
            },
            {"name": "table", "kind": "list", "report": "sales_targets_by_rep_month"},
        ],
    }
    apply_objects(team.loom, [], dashboards=[DashboardSpec.from_json(board)])
    client = team.client("zhang.jingli")
    assert ">团队月度</a>" in text(client.get("/app/dashboards"))
    page = text(client.get("/app/dashboards/team_month"))
    sales = kpi(page, "团队销售额")
    assert sales == {"value": "95,000.00", "target": "190,000.00", "reached": "50.0%", "bar": "50.0"}
    assert 'id="d-view"' not in page and 'id="d-department"' not in page  # only the period is offered
    assert 'class="card kpi span-2"' in page
    english = text(team.client("zhang.jingli", locale="en").get("/app/dashboards/team_month"))
    assert "Team sales" in english and "Target" in english and "50.0% reached" in english


def test_widgets_the_reader_may_not_run_are_left_out_and_a_dashboard_of_none_is_not_shown(team: Team) -> None:
    finance = team.client("zhao.caiwu")  # finance reads no tickets and no follow-ups
    listing = text(finance.get("/app/dashboards"))
    assert ">销售仪表盘</a>" in listing and ">服务仪表盘</a>" not in listing
    refused = finance.get("/app/dashboards/service")
    assert refused.status_code == 404 and "本期工单数" not in text(refused)
    sales = identity.department_by_name(team.loom, "销售部")["id"]
    user = identity.create_user(
        team.loom, "sun.kefu", "孙客服", PASSWORD, roles=["service_agent"], department_id=sales, actor=SYSTEM
    )
    team.ids["sun.kefu"] = user["id"]
    page = text(team.client("sun.kefu").get("/app/dashboards/sales"))  # an agent reads customers only
    assert re.findall(r'data-widget="(\w+)"', page) == ["dormant_customers"]
