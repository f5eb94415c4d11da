"""A sales manager on the sales dashboard in Chromium: last quarter's figures, a bar drilled into
the list of exactly its records, and the table exported as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from engine.records.report_parameters import period_of
from tests.browser.conftest import PHONE, Browser, Site

BAR_COLOUR = "#4f46e5"  # the first series' colour in reports.js


def seed_orders(site: Site) -> tuple[str, str]:
    """王芳's orders: two in one month of last quarter, one in the next month, one this month;
    returns the two months' labels as the report names them (2026年7月, say)."""
    last_quarter = period_of("last_quarter", site.loom.clock.today())
    first_month = last_quarter.first + dt.timedelta(days=9)
    second_month = last_quarter.first + dt.timedelta(days=40)
    records = site.loom.records(site.actor("wang.fang"))
    for amount, day in (
        ("100000", first_month),
        ("50000", first_month + dt.timedelta(days=3)),
        ("20000", second_month),
        ("9000", site.loom.clock.today()),
    ):
        records.create(
            "sales_order",
            {
                "customer": site.customer_id,
                "order_date": day.isoformat(),
                "amount": amount,
                "status": "confirmed",
            },
        )
    return tuple(f"{day.year}年{day.month}月" for day in (first_month, second_month))  # type: ignore[return-value]


def click_tallest_bar(tab: Browser, chart: str) -> None:
    """Click the middle of the first series' tallest bar in the chart (its SVG path)."""
    point = tab.page.evaluate(
        """([selector, colour]) => {
            const bars = Array.from(document.querySelectorAll(selector + ' svg path'))
                .filter(path => (path.getAttribute('fill') || '').toLowerCase() === colour)
                .map(path => path.getBoundingClientRect())
                .sort((a, b) => b.height - a.height);
            const bar = bars[0];
            return [bar.x + bar.width / 2, bar.y + bar.height / 2];
        }""",
        [chart, BAR_COLOUR],
    )
    tab.page.mouse.click(point[0], point[1])


def test_a_manager_drills_from_last_quarter_into_a_bar_and_exports_the_table(
    browser: Browser, site: Site, open_browser
) -> None:  # type: ignore[no-untyped-def]
    first_month, second_month = seed_orders(site)
    page = browser.page
    browser.sign_in("zhang.jingli")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="仪表盘").click()
    page.get_by_role("link", name="销售仪表盘").click()
    expect(page.get_by_role("heading", name="销售仪表盘", level=1)).to_be_visible()

    page.get_by_label("期间").select_option(label="上季度")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r"period=last_quarter"))
    kpi = page.locator(".kpi", has=page.get_by_role("heading", name="本期销售额"))
    expect(kpi.locator(".kpi-value")).to_have_text("170,000.00")
    widget = page.locator('section.widget[data-report="sales_by_rep_month"]')
    chart = widget.locator(".report-chart")
    expect(chart).to_have_attribute("aria-label", re.compile("销售员月度销售额图表"))
    expect(chart.locator("svg path").first).to_be_attached()
    browser.screenshot("dashboard-last-quarter")

    click_tallest_bar(browser, 'section.widget[data-report="sales_by_rep_month"] .report-chart')
    page.wait_for_url(re.compile(r"/app/sales_order\?where="))
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(2)
    listed = page.locator("table.records tbody").inner_text()
    assert "¥100,000.00" in listed and "¥50,000.00" in listed
    assert "¥20,000.00" not in listed and "¥9,000.00" not in listed
    browser.screenshot("drilled")

    page.go_back()
    page.wait_for_url(re.compile(r"/app/dashboards/sales\?"))
    with page.expect_download() as downloading:
        widget.get_by_role("link", name="导出 CSV").click()
    download = downloading.value
    assert download.suggested_filename == "sales_by_rep_month.csv"
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(content)))
    assert lines[0] == ["负责人", "下单日期", "销售额", "订单数"]
    assert sorted(lines[1:]) == sorted(
        [["王芳", first_month, "150000.00", "2"], ["王芳", second_month, "20000.00", "1"]]
    )
    assert browser.errors == []

    phone = open_browser("phone", PHONE)
    phone.sign_in("zhang.jingli")
    phone.open("/app/dashboards/sales?period=last_quarter")
    expect(phone.page.locator('section.widget[data-report="sales_by_rep_month"] svg').first).to_be_visible()
    wide = phone.page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"]  # nothing pushes the page sideways
    phone.screenshot("dashboard-phone")
    assert phone.errors == []


def test_a_manager_signs_in_to_the_sales_dashboard_and_sees_the_month_against_its_target(
    browser: Browser, site: Site, open_browser
) -> None:  # type: ignore[no-untyped-def]
    seed_orders(site)  # 王芳 sold 9,000 this month
    month = site.loom.clock.today().replace(day=1).isoformat()
    site.loom.records().create(
        "sales_target",
        {"owner": site.users["wang.fang"], "month": month, "sales_target": "12000", "payment_target": "5000"},
    )
    page = browser.page
    browser.sign_in("zhang.jingli")  # the manager's home page is the sales dashboard
    expect(page.get_by_role("heading", name="销售仪表盘", level=1)).to_be_visible()
    kpi = page.locator(".kpi", has=page.get_by_role("heading", name="本期销售额"))
    expect(kpi.locator(".kpi-value")).to_have_text("9,000.00")
    expect(kpi.locator(".kpi-target")).to_contain_text("目标 12,000.00")
    expect(kpi.locator(".kpi-target")).to_contain_text("已完成 75.0%")
    bar = kpi.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "75.0")
    width = bar.evaluate("bar => bar.firstElementChild.getBoundingClientRect().width / bar.clientWidth")
    assert abs(width - 0.75) < 0.01  # the bar is drawn three-quarters full
    paid = page.locator(".kpi", has=page.get_by_role("heading", name="本期回款"))
    expect(paid.locator(".kpi-target")).to_contain_text("目标 5,000.00")
    browser.screenshot("home-dashboard-targets")

    page.get_by_label("期间").select_option(label="上季度")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r"/\?period=last_quarter"))  # the filters stay on the home page
    expect(kpi.locator(".kpi-value")).to_have_text("170,000.00")
    expect(kpi.locator(".kpi-target")).to_contain_text("目标 0.00")  # no targets were set last quarter

    page.get_by_role("link", name="我的待办、审批和提醒").click()
    expect(page.get_by_role("heading", name="你好, 张经理")).to_be_visible()
    assert browser.errors == []

    phone = open_browser("phone", PHONE)
    phone.sign_in("zhang.jingli")
    expect(phone.page.get_by_role("progressbar").first).to_be_visible()
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot("home-dashboard-phone")
    assert phone.errors == []


def test_every_report_page_draws_without_console_errors(browser: Browser, site: Site) -> None:
    seed_orders(site)
    records = site.loom.records()
    for name, stage, amount in (
        ("MES 升级", "initial_contact", "300000"),
        ("产线改造", "needs_confirmed", "800000"),
    ):
        records.create(
            "opportunity",
            {
                "name": name,
                "customer": site.customer_id,
                "stage": stage,
                "amount": amount,
                "owner": site.users["wang.fang"],
            },
        )
    for title, category in (
        ("设备无法启动", "repair"),
        ("安装调试", "installation"),
        ("年度保养", "maintenance"),
    ):
        records.create(
            "service_ticket",
            {
                "title": title,
                "customer": site.customer_id,
                "category": category,
                "description": title,
                "owner": site.users["wang.fang"],
            },
        )
    browser.sign_in("zhang.jingli")
    browser.open("/app/reports")
    names = browser.page.locator(".report-links a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    assert len(names) >= 10
    for path in names:
        response = browser.open(path)
        assert response.status == 200, path
        expect(browser.page.get_by_role("heading", level=1)).to_be_visible()
        if browser.page.locator(".report-chart").count():
            expect(browser.page.locator(".report-chart svg").first).to_be_attached()
    browser.open("/app/reports/opportunity_funnel")
    browser.screenshot("funnel")
    browser.open("/app/reports/tickets_by_category")
    browser.screenshot("pie")
    browser.open("/app/dashboards/service?period=this_year")
    expect(browser.page.get_by_role("heading", name="服务仪表盘", level=1)).to_be_visible()
    assert browser.errors == []
