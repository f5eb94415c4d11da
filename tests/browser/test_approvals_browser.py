"""The approvals inbox in Chromium: a manager works through it without leaving it."""

from __future__ import annotations

from playwright.sync_api import expect

from engine import identity
from engine.base.actors import SYSTEM
from tests.browser.conftest import PASSWORD, Browser, Site


def test_a_manager_transfers_a_contract_from_the_inbox_and_the_other_manager_approves_it_there(
    browser: Browser, site: Site, open_browser
) -> None:  # type: ignore[no-untyped-def]
    liu = identity.create_user(
        site.loom, "liu.jingli", "刘经理", PASSWORD, roles=["sales_manager"], actor=SYSTEM
    )
    site.users["liu.jingli"] = liu["id"]
    contract = site.loom.records(site.actor("wang.fang")).create(
        "contract", {"name": "数控机床采购合同", "customer": site.customer_id, "amount": "86000"}
    )
    browser.sign_in("wang.fang")
    browser.open(f"/app/contract/{contract['id']}")
    browser.page.get_by_role("button", name="提交审批").click()
    expect(browser.page.get_by_text("已提交审批")).to_be_visible()
    expect(browser.page.locator(".approval")).to_contain_text("审批中")

    manager = open_browser("manager")
    manager.sign_in("zhang.jingli")
    manager.page.get_by_role("link", name="审批").first.click()
    expect(manager.page.get_by_role("link", name="待我审批")).to_have_attribute("aria-current", "page")
    card = manager.page.locator(".inbox-item", has_text="数控机床采购合同")
    expect(card).to_contain_text("合同金额")
    expect(card).to_contain_text("¥86,000.00")
    expect(card).to_contain_text("提交人：王芳")
    manager.screenshot("inbox")
    card.get_by_text("转交", exact=True).first.click()  # opens the transfer form
    card.get_by_label("转交给").select_option(label="刘经理")
    card.get_by_label("说明").fill("我出差，请刘经理审批")
    card.get_by_role("button", name="转交").click()
    expect(manager.page.get_by_text("已转交")).to_be_visible()
    expect(manager.page.get_by_role("link", name="待我审批")).to_have_attribute("aria-current", "page")
    expect(manager.page.locator(".inbox-item")).to_have_count(0)
    expect(manager.page.get_by_text("没有等待您审批的事项")).to_be_visible()

    other = open_browser("other-manager")
    other.sign_in("liu.jingli")
    other.open("/approvals")
    card = other.page.locator(".inbox-item", has_text="数控机床采购合同")
    expect(card).to_contain_text("¥86,000.00")
    expect(card).to_contain_text("苏州精工机械有限公司")  # named, though not his customer
    card.get_by_label("审批意见（驳回时必填）").fill("同意")
    card.get_by_role("button", name="同意").click()
    expect(other.page.get_by_text("已通过").first).to_be_visible()
    assert other.page.url.endswith("/approvals?tab=pending")  # still in the inbox
    expect(other.page.locator(".inbox-item")).to_have_count(0)
    other.page.get_by_role("link", name="我已审批").click()
    expect(other.page.locator(".inbox-item", has_text="数控机床采购合同")).to_contain_text("已通过")
    other.screenshot("done")

    browser.page.reload()
    history = browser.page.locator(".approval-history")
    expect(history).to_contain_text("张经理 转交了审批 → 刘经理")
    expect(history).to_contain_text("刘经理 同意")
    assert site.loom.records().get("contract", contract["id"])["status"] == "approved"
    assert browser.errors == [] and manager.errors == [] and other.errors == []
