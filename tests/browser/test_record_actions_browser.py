"""A sales rep in Chromium: claims a lead from the pool (公海), then converts it into a customer."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Browser, Site


def test_a_rep_claims_a_pool_lead_and_converts_it_into_a_customer_with_an_opportunity(
    browser: Browser, site: Site
) -> None:
    lead = site.loom.records().create(
        "lead",
        {
            "name": "陈经理",
            "company": "无锡精密机械有限公司",
            "phone": "13912345678",
            "in_pool": True,
            "owner": None,
        },
    )
    browser.sign_in("wang.fang")
    browser.open("/app/lead")
    browser.page.get_by_role("link", name="公海", exact=True).click()
    row = browser.page.get_by_role("row").filter(has_text="陈经理")
    row.get_by_role("button", name="领取").click()
    expect(browser.page.get_by_text("领取成功")).to_be_visible()
    expect(browser.page.get_by_role("heading", name="陈经理")).to_be_visible()
    browser.screenshot("claimed")

    browser.page.get_by_role("link", name="转为客户").click()
    expect(browser.page.get_by_label("客户名称")).to_have_value("无锡精密机械有限公司")
    browser.page.get_by_label("同时创建商机").check()
    browser.page.get_by_label("商机名称").fill("精密加工线改造")
    browser.page.get_by_label("预计金额").fill("420000")
    browser.screenshot("convert-form")
    browser.page.get_by_role("button", name="转化").click()

    expect(browser.page.get_by_text("转化成功")).to_be_visible()
    expect(browser.page.get_by_role("heading", name="无锡精密机械有限公司")).to_be_visible()
    expect(browser.page.get_by_role("link", name="精密加工线改造")).to_be_visible()  # the related opportunity
    browser.screenshot("customer")
    converted = site.loom.records().get("lead", lead["id"])
    assert converted["status"] == "converted" and converted["owner"] == site.users["wang.fang"]
    assert browser.errors == []
