"""Lookup pickers and the kanban board in Chromium: choosing a customer by typing, and a board whose
every column, count and sum fit a 1366 px laptop screen."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Browser, Site

LAPTOP = {"width": 1366, "height": 768}


def test_a_rep_picks_the_customer_of_a_follow_up_by_typing_and_its_contact_comes_first(
    browser: Browser, site: Site
) -> None:
    browser.sign_in("wang.fang")
    browser.open("/app/followup/new")
    page = browser.page
    page.get_by_label(re.compile("^跟进主题")).fill("上门演示产线方案")
    page.get_by_label(re.compile("^跟进内容")).fill("演示了新产线的排产看板。")
    page.get_by_label(re.compile("^跟进方式")).select_option("call")
    page.get_by_label(re.compile("^跟进时间")).fill("2026-11-26T10:00")
    customer = page.get_by_role("combobox", name="客户")
    customer.fill("苏州")
    expect(page.get_by_role("option", name=re.compile("苏州精工机械有限公司"))).to_be_visible()
    customer.press("ArrowDown")
    customer.press("Enter")  # chooses; does not submit the form
    expect(customer).to_have_value("苏州精工机械有限公司")
    expect(page.get_by_role("heading", name="新建跟进记录")).to_be_visible()

    contact = page.get_by_role("combobox", name="联系人")
    contact.click()
    first = page.locator('[data-field="contact"]').get_by_role("option").first
    expect(first).to_contain_text("李建国")  # the chosen customer's contact, offered first
    expect(page.get_by_text("与本表单相关")).to_be_visible()
    first.click()
    expect(contact).to_have_value("李建国")
    browser.screenshot("chosen")

    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_role("link", name="苏州精工机械有限公司").first).to_be_visible()
    expect(page.get_by_role("link", name="李建国").first).to_be_visible()
    [saved] = site.loom.queries().find("followup", filter="subject == '上门演示产线方案'").records
    assert saved["customer"] == site.customer_id
    assert browser.errors == []


def test_the_picker_works_by_keyboard_on_a_phone(open_browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    tab = open_browser("phone", PHONE)
    tab.sign_in("wang.fang")
    tab.open("/app/followup/new")
    customer = tab.page.get_by_role("combobox", name="客户")
    customer.press_sequentially("深圳")
    option = tab.page.get_by_role("option", name=re.compile("深圳云帆电子科技有限公司"))
    expect(option).to_be_visible()
    box = option.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    customer.press("ArrowDown")
    customer.press("Escape")  # closes without choosing
    expect(customer).to_have_value("")
    customer.press_sequentially("深圳")
    expect(option).to_be_visible()
    customer.press("ArrowDown")
    customer.press("Enter")
    expect(customer).to_have_value("深圳云帆电子科技有限公司")
    tab.screenshot("phone-chosen")
    assert tab.errors == []


def test_at_1366_px_every_kanban_column_shows_with_its_count_and_sum(open_browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    records = site.loom.records(site.actor("wang.fang"))
    for name, amount in (("MES 系统升级", "380000"), ("质检设备采购", "120000.50")):
        records.create("opportunity", {"name": name, "customer": site.customer_id, "amount": amount})
    tab = open_browser("laptop", LAPTOP)
    tab.sign_in("wang.fang")
    tab.open("/app/opportunity/kanban")
    columns = tab.page.locator("[data-column]")
    expect(columns).to_have_count(6)
    for index in range(6):
        column = columns.nth(index)
        heading = column.get_by_role("heading")
        expect(heading).to_be_visible()
        expect(column.locator("[data-count]")).to_be_visible()
        expect(column.locator("[data-sum]")).to_be_visible()
        box = column.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], (
            heading.inner_text()
        )
    first = tab.page.locator('[data-column="initial_contact"]')
    expect(first.locator("[data-count]")).to_have_text("2")
    expect(first.locator("[data-sum]")).to_contain_text("¥500,000.50")
    expect(tab.page.locator('[data-column="won"] [data-sum]')).to_contain_text("¥0.00")

    card = first.locator(".kanban-card").first
    card.get_by_label("移到").select_option("needs_confirmed")
    second = tab.page.locator('[data-column="needs_confirmed"]')
    expect(second.locator("[data-count]")).to_have_text("1")
    expect(first.locator("[data-count]")).to_have_text("1")
    expect(second.locator("[data-sum]")).not_to_contain_text("¥0.00")
    expect(first.locator("[data-sum]")).not_to_contain_text("¥500,000.50")
    tab.screenshot("board")
    assert tab.errors == []
