"""A sales rep and a manager using the pages in Chromium, step by step as they would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Browser, Site


def unlabelled_inputs(tab: Browser) -> list[str]:
    """Every visible input, select and textarea without a label a screen reader would read."""
    return tab.page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )


def test_signing_in_by_keyboard_opens_the_home_page(browser: Browser) -> None:
    browser.sign_in("wang.fang")
    expect(browser.page.get_by_role("heading", name="你好, 王芳")).to_be_visible()
    expect(browser.page.get_by_role("heading", name="我的任务")).to_be_visible()
    browser.screenshot("home")
    assert browser.errors == []


def test_a_new_customer_shows_field_errors_until_fixed_then_saves(browser: Browser) -> None:
    browser.sign_in("wang.fang")
    browser.open("/app/customer")
    browser.page.get_by_role("link", name="+ 新建客户").click()
    browser.page.get_by_label("客户简称").fill("星河科技")
    browser.page.get_by_label("邮箱").fill("not-an-email")
    browser.page.get_by_role("button", name="保存").click()
    name_field = browser.page.locator('[data-field="name"]')
    expect(name_field.locator(".field-error")).to_contain_text("为必填项")
    expect(browser.page.locator('[data-field="email"] .field-error')).to_be_visible()
    expect(browser.page.get_by_label("客户简称")).to_have_value("星河科技")  # nothing typed is lost
    browser.screenshot("errors")
    browser.page.get_by_label(re.compile("^客户名称")).fill("杭州星河科技有限公司")
    browser.page.get_by_label("邮箱").fill("sales@xinghe.example.com")
    browser.page.get_by_label("邮箱").press("Enter")
    expect(browser.page.get_by_role("heading", name="杭州星河科技有限公司")).to_be_visible()
    expect(browser.page.get_by_text("已保存")).to_be_visible()
    browser.screenshot("saved")
    assert browser.errors == []


def test_dragging_an_opportunity_to_another_stage_saves_it(browser: Browser, site: Site) -> None:
    deal = site.loom.records(site.actor("wang.fang")).create(
        "opportunity", {"name": "MES 系统升级", "customer": site.customer_id, "amount": "380000"}
    )
    browser.sign_in("wang.fang")
    browser.open("/app/opportunity/kanban")
    card = browser.page.locator(f'.kanban-card[data-id="{deal["id"]}"]')
    target = browser.page.locator('[data-column="needs_confirmed"] [data-drop]')
    expect(browser.page.locator('[data-column="initial_contact"]').locator(card)).to_be_visible()
    with browser.page.expect_response(re.compile(r"/move$")) as moved:
        card.drag_to(target)
    assert moved.value.ok
    expect(target.locator(card)).to_be_visible()
    assert site.loom.records().get("opportunity", deal["id"])["stage"] == "needs_confirmed"
    browser.page.reload()
    expect(browser.page.locator('[data-column="needs_confirmed"]').locator(card)).to_be_visible()
    browser.screenshot("kanban")
    assert browser.errors == []


def test_the_kanban_moves_a_card_by_keyboard_and_puts_back_a_move_the_rules_refuse(
    browser: Browser, site: Site
) -> None:
    deal = site.loom.records(site.actor("wang.fang")).create(
        "opportunity", {"name": "检测设备采购", "customer": site.customer_id, "amount": "52000"}
    )
    card = f'.kanban-card[data-id="{deal["id"]}"]'
    browser.sign_in("wang.fang")
    browser.open("/app/opportunity/kanban")
    mover = browser.page.locator(f"#move-{deal['id']}")
    with browser.page.expect_response(re.compile(r"/move$")):
        mover.focus()
        mover.select_option("needs_confirmed")
    expect(browser.page.locator(f'[data-column="needs_confirmed"] {card}')).to_be_visible()
    assert site.loom.records().get("opportunity", deal["id"])["stage"] == "needs_confirmed"

    # From the proposal stage on, the package's validation rule wants a key contact.
    with browser.page.expect_response(re.compile(r"/move$")):
        mover.select_option("proposal")
    expect(browser.page.locator("[data-toast]")).to_contain_text("关键联系人")
    expect(browser.page.locator(f'[data-column="needs_confirmed"] {card}')).to_be_visible()
    expect(mover).to_have_value("needs_confirmed")
    browser.screenshot("refused")
    assert site.loom.records().get("opportunity", deal["id"])["stage"] == "needs_confirmed"


def test_a_contract_submitted_and_approved_by_the_manager_shows_on_its_timeline(
    browser: Browser, site: Site, open_browser
) -> None:  # type: ignore[no-untyped-def]
    contract = site.loom.records(site.actor("wang.fang")).create(
        "contract", {"name": "数控机床采购合同", "customer": site.customer_id, "amount": "86000"}
    )
    browser.sign_in("wang.fang")
    browser.open(f"/app/contract/{contract['id']}")
    browser.page.get_by_label("给审批人的说明").fill("请尽快审批")
    browser.page.get_by_role("button", name="提交审批").click()
    expect(browser.page.get_by_text("已提交审批")).to_be_visible()
    expect(browser.page.locator(".approval")).to_contain_text("审批中")

    manager = open_browser("manager")
    manager.sign_in("zhang.jingli")
    manager.open("/approvals")
    expect(manager.page.get_by_role("link", name="数控机床采购合同")).to_be_visible()
    manager.screenshot("inbox")
    manager.page.get_by_label("审批意见（驳回时必填）").fill("价格合理，同意")
    manager.page.get_by_role("button", name="同意").click()
    expect(manager.page.get_by_text("已通过").first).to_be_visible()

    browser.page.reload()
    timeline = browser.page.locator(".timeline")
    expect(timeline).to_contain_text("提交了审批")
    expect(timeline).to_contain_text("张经理 同意")
    expect(timeline).to_contain_text("价格合理，同意")
    expect(browser.page.locator(".approval")).to_contain_text("已通过")
    browser.screenshot("timeline")
    assert site.loom.records().get("contract", contract["id"])["status"] == "approved"
    assert browser.errors == [] and manager.errors == []


def test_switching_to_english_changes_the_pages_and_is_remembered(browser: Browser) -> None:
    browser.sign_in("wang.fang")
    browser.page.get_by_role("button", name="English").click()
    expect(browser.page.get_by_role("heading", name="Hello, 王芳")).to_be_visible()
    expect(
        browser.page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers")
    ).to_be_visible()
    browser.open("/app/customer")
    expect(browser.page.get_by_role("columnheader", name="Customer name")).to_be_visible()
    expect(browser.page.locator("td", has_text="Key")).to_be_visible()  # option labels in English too
    browser.screenshot("english")
    browser.page.get_by_role("button", name="中文").click()
    expect(browser.page.get_by_role("columnheader", name="客户名称")).to_be_visible()
    assert browser.errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_every_page_renders_without_console_errors_and_labels_its_inputs(
    open_browser, site: Site, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    deal = site.loom.records(site.actor("wang.fang")).create(
        "opportunity", {"name": "产线数字化项目", "customer": site.customer_id, "amount": "1250000.5"}
    )
    tab = open_browser(f"{viewport['width']}", viewport)
    tab.sign_in("wang.fang")
    pages = {
        "home": "/",
        "list": "/app/customer",
        "kanban": "/app/opportunity/kanban",
        "detail": f"/app/customer/{site.customer_id}",
        "form": "/app/customer/new",
        "edit": f"/app/opportunity/{deal['id']}/edit",
        "approvals": "/approvals",
        "notifications": "/notifications",
    }
    for label, path in pages.items():
        tab.open(path)
        assert tab.page.title(), path
        assert unlabelled_inputs(tab) == [], path
        tab.screenshot(label)
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] or label == "kanban", f"{path} scrolls sideways ({width}px)"
    assert tab.errors == []
