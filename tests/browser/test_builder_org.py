"""An administrator sets up the organisation in Chromium: a new rep, then the department tree."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from engine import identity
from engine.base.actors import SYSTEM
from tests.browser.conftest import DESKTOP, PASSWORD, Browser, Site


@pytest.fixture
def tabs(chromium, builder_site: Site, request: pytest.FixtureRequest) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    opened: list[Browser] = []

    def open_tab(label: str) -> Browser:
        tab = Browser(
            chromium, builder_site, f"builder-org-{request.node.originalname[5:40]}-{label}", DESKTOP
        )
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


def test_the_admin_creates_a_rep_in_a_department_who_sees_only_their_own_customers(
    tabs, builder_site: Site
) -> None:  # type: ignore[no-untyped-def]
    identity.create_department(builder_site.loom, "华东销售部", actor=SYSTEM)
    admin = tabs("admin")
    admin.sign_in("guan.li")
    admin.open("/builder/")
    admin.page.get_by_role("link", name="用户、部门、角色和离职交接").click()
    expect(admin.page.get_by_role("heading", name="用户")).to_be_visible()
    admin.page.get_by_role("link", name="+ 新建用户").click()

    page = admin.page
    page.get_by_label("用户名").fill("x")
    page.get_by_label("邮箱").fill("not-an-address")
    page.get_by_role("button", name="保存").click()
    expect(page.locator('[data-field="username"] .field-error')).to_contain_text("3 到 150 个字符")
    expect(page.locator('[data-field="display_name"] .field-error')).to_contain_text("必填")
    expect(page.locator('[data-field="email"] .field-error')).to_contain_text("不是电子邮箱地址")
    admin.screenshot("errors")

    page.get_by_label("用户名").fill("chen.jing")
    page.get_by_label("姓名").fill("陈静")
    page.get_by_label("邮箱").fill("chen.jing@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("部门").select_option(label="华东销售部")
    page.get_by_label("销售代表").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_role("heading", name="陈静")).to_be_visible()
    admin.screenshot("created")

    chen = identity.user_by_username(builder_site.loom, "chen.jing")
    builder_site.loom.records().create("customer", {"name": "杭州陈静贸易有限公司", "owner": chen["id"]})
    rep = tabs("rep")
    rep.sign_in("chen.jing")
    rep.open("/app/customer")
    expect(rep.page.get_by_role("link", name="杭州陈静贸易有限公司")).to_be_visible()
    expect(rep.page.get_by_text("苏州精工机械有限公司")).to_have_count(0)  # 王芳's, in another department
    rep.screenshot("own-customers")
    assert admin.errors == [] and rep.errors == []


def test_a_department_is_moved_under_another_with_the_keyboard(tabs, builder_site: Site) -> None:  # type: ignore[no-untyped-def]
    finance = identity.create_department(builder_site.loom, "财务部", actor=SYSTEM)["id"]
    admin = tabs("admin")
    admin.sign_in("guan.li")
    admin.open("/builder/org/departments")
    page = admin.page
    move = page.get_by_label("将 财务部 移动到…")
    move.focus()
    move.select_option(label="销售部")
    page.keyboard.press("Tab")
    move_button = page.locator(f'li[data-id="{finance}"] form').first.get_by_role("button", name="移动")
    expect(move_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("部门已移动")).to_be_visible()
    sales = identity.department_by_name(builder_site.loom, "销售部")["id"]
    nested = page.locator(f'li[data-id="{sales}"] li[data-id="{finance}"]')
    expect(nested).to_be_visible()
    assert identity.get_department(builder_site.loom, finance)["parent_id"] == sales
    head = page.get_by_label("财务部 的负责人")
    head.select_option(label="张经理")
    head.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("负责人已保存")).to_be_visible()
    expect(page.locator(f'li[data-id="{finance}"] .org-head').first).to_contain_text("张经理")
    admin.screenshot("moved")
    assert re.search(r"/builder/org/departments$", page.url)
    assert admin.errors == []


def test_dragging_a_department_into_another_re_parents_it(tabs, builder_site: Site) -> None:  # type: ignore[no-untyped-def]
    finance = identity.create_department(builder_site.loom, "财务部", actor=SYSTEM)["id"]
    sales = identity.department_by_name(builder_site.loom, "销售部")["id"]
    admin = tabs("admin")
    admin.sign_in("guan.li")
    admin.open("/builder/org/departments")
    page = admin.page
    handle = page.locator(f'li[data-id="{finance}"] .org-handle').first
    target = page.locator(f'li[data-id="{sales}"] > ul.org-tree')
    handle.drag_to(target)
    expect(page.get_by_text("部门已移动")).to_be_visible()
    expect(page.locator(f'li[data-id="{sales}"] li[data-id="{finance}"]')).to_be_visible()
    assert identity.get_department(builder_site.loom, finance)["parent_id"] == sales
    assert admin.errors == []
