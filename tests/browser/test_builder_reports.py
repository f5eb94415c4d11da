"""The report builder in Chromium: an administrator builds "opportunities by stage and owner" by
dragging fields into rows, columns and measures, sees the preview's figures, saves it into a
folder, and opens it among the reports with the same figures; no console errors."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import DESKTOP, Browser, Site


def drag(page: Page, source: Locator, zone: Locator) -> None:
    """Press on a palette field, move onto the zone in steps as a hand would, let go once the zone
    has made room for it (SortableJS follows the pointer on a timer)."""
    source.scroll_into_view_if_needed()
    source.hover()
    page.mouse.down()
    start = source.bounding_box()
    assert start is not None
    page.mouse.move(start["x"] + 30, start["y"] + 12, steps=5)  # the drag begins
    placed = zone.locator("li.rp-field")  # the palette item, shown in the zone while dragged
    for step in range(100):
        # Where the zone is now: a preview arriving meanwhile can move it down the page.
        box = zone.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y + (step % 2) * 2, steps=4)
        if placed.count():
            break
        page.wait_for_timeout(100)
    page.mouse.up()


def test_an_admin_builds_opportunities_by_stage_and_owner_by_dragging_and_opens_it(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    loom = builder_site.loom
    records = loom.records()
    customer = builder_site.customer_id
    wang, zhang = builder_site.users["wang.fang"], builder_site.users["zhang.jingli"]
    for owner, stage, amount in (
        (wang, "initial_contact", 1200),
        (wang, "initial_contact", 800),
        (zhang, "initial_contact", 300),
        (wang, "needs_confirmed", 5000),
    ):
        values = {"name": f"商机{amount}", "customer": customer, "stage": stage, "amount": amount}
        records.create("opportunity", {**values, "owner": owner})

    tab = Browser(chromium, builder_site, "builder_reports", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        tab.open("/app/reports")
        page.get_by_role("link", name="新建报表").click()
        expect(page.get_by_role("heading", name=re.compile("报表设计器"))).to_be_visible()
        page.get_by_label("名称", exact=True).fill("opps_by_stage_owner")
        page.get_by_label("显示名称", exact=True).fill("各阶段各负责人商机")
        page.get_by_label("对象", exact=True).select_option(label="商机")
        page.get_by_label("文件夹", exact=True).fill("销售分析")

        # Drag 商机阶段 into rows, 负责人 into columns, 预计金额 into measures (the count is there already).
        palette = page.locator("#rp-palette")
        drag(page, palette.locator('li[data-field="stage"]'), page.locator("#rp-rows"))
        expect(page.locator('#rp-rows li[data-path="/group_by/0"]')).to_contain_text("商机阶段")
        drag(page, palette.locator('li[data-field="owner"]'), page.locator("#rp-cols"))
        expect(page.locator('#rp-cols li[data-path="/group_by/1"]')).to_contain_text("负责人")
        drag(page, palette.locator('li[data-field="amount"]'), page.locator("#rp-measures"))
        expect(page.locator("#rp-measures li.rp-item")).to_have_count(2)
        # Without a mouse: 预计金额 moved first among the measures with its button, then back.
        first = page.locator("#rp-measures li.rp-item").first
        if "预计金额" not in (first.text_content() or ""):
            page.get_by_role("button", name="上移 预计金额").click()
        expect(page.locator("#rp-measures li.rp-item").first).to_contain_text("预计金额")
        page.get_by_role("button", name="上移 记录数").click()
        expect(page.locator("#rp-measures li.rp-item").first).to_contain_text("记录数")
        expect(page.get_by_label("预计金额 的汇总方式")).to_have_value("sum")
        # Each item reads as its field and its buttons, nothing else (the first has no ↑).
        for zone in ("#rp-rows", "#rp-cols", "#rp-measures"):
            expect(page.locator(zone)).not_to_contain_text("null")

        # The preview follows: the figures of each stage and owner, with the chart beside them.
        preview = page.locator("#rp-preview")
        expect(preview).to_have_attribute("data-state", "ready")
        row = preview.get_by_role("row", name=re.compile("初步接洽 王芳"))
        expect(row).to_contain_text("2,000.00")
        expect(preview.get_by_role("row", name=re.compile("初步接洽 张经理"))).to_contain_text("300.00")
        expect(preview.get_by_role("row", name=re.compile("需求确认 王芳"))).to_contain_text("5,000.00")
        expect(preview.locator(".report-chart svg")).to_be_visible()
        tab.screenshot("preview")

        # A problem is shown at its place: a pie draws one group, this report has two.
        page.get_by_label("图表", exact=True).select_option(label="饼图")
        expect(page.locator('[data-path="/chart"] .rp-problem')).not_to_be_empty()
        expect(preview).to_have_attribute("data-state", "problems")
        page.get_by_label("图表", exact=True).select_option(label="柱状图")
        expect(page.locator('[data-path="/chart"] .rp-problem')).to_be_empty()
        expect(preview).to_have_attribute("data-state", "ready")

        page.get_by_role("button", name="保存报表").click()
        expect(page.locator("#rp-status")).to_have_text("报表已保存")
        page.get_by_role("link", name="打开报表").click()
        expect(page.get_by_role("heading", name="各阶段各负责人商机")).to_be_visible()
        table = page.locator(".report-table")
        expect(table.get_by_role("row", name=re.compile("初步接洽 王芳"))).to_contain_text("2,000.00")
        expect(table.get_by_role("row", name=re.compile("需求确认 王芳"))).to_contain_text("5,000.00")

        # Listed in its folder on the reports page.
        tab.open("/app/reports")
        folder = page.get_by_role("region", name="销售分析")
        expect(folder.get_by_role("link", name="各阶段各负责人商机")).to_be_visible()
        assert tab.errors == []
    finally:
        tab.close()


def test_every_crm_report_opens_in_the_builder_with_its_preview(chromium, builder_site: Site) -> None:  # type: ignore[no-untyped-def]
    tab = Browser(chromium, builder_site, "builder_reports_crm", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        for name in sorted(builder_site.loom.registry.reports()):
            tab.open(f"/builder/reports/{name}")
            expect(page.locator("#rp-preview")).to_have_attribute("data-state", "ready")
            expect(page.locator("#rp-errors")).to_be_hidden()
        assert tab.errors == []
    finally:
        tab.close()
