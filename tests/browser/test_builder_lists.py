"""List settings in Chromium: an administrator sets the customer's kanban card fields, its related
lists (order and columns, by keyboard) and its menu section and colour; a rep then sees them."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.conftest import DESKTOP, Browser, Site


def order(listing: Locator) -> list[str]:
    """The names of a settings list's items, top to bottom."""
    return listing.evaluate("list => Array.from(list.children, item => item.dataset.name)")


def test_a_rep_sees_the_card_fields_related_lists_and_menu_section_an_admin_set(
    chromium, builder_site: Site
) -> None:  # type: ignore[no-untyped-def]
    admin = Browser(chromium, builder_site, "builder_lists_admin", DESKTOP)
    try:
        page = admin.page
        admin.sign_in("guan.li")
        admin.open("/builder/lists/customer")
        cards = page.locator(".ls-cards")
        phone = cards.get_by_role("checkbox", name="卡片字段 联系电话", exact=True)
        expect(phone).to_be_disabled()  # the package's four card fields are the most a card shows
        for name in ("所属区域", "最近跟进时间", "负责人"):
            cards.get_by_role("checkbox", name=f"卡片字段 {name}", exact=True).uncheck()
        phone.check()
        while order(cards).index("phone") > order(cards).index("level"):
            page.get_by_role("button", name="上移卡片字段 联系电话").click()  # the phone first

        page.get_by_label("自行选择相关列表及其顺序").check()
        contacts = page.locator(
            ".ls-related-list", has=page.get_by_role("checkbox", name=re.compile("^相关列表 联系人"))
        )
        followups = page.locator(
            ".ls-related-list", has=page.get_by_role("checkbox", name=re.compile("^相关列表 跟进记录"))
        )
        contacts.get_by_role("checkbox", name=re.compile("^相关列表 联系人")).check()
        followups.get_by_role("checkbox", name=re.compile("^相关列表 跟进记录")).check()
        contacts.locator("summary").click()
        for name in ("姓名", "职务"):
            contacts.get_by_role("checkbox", name=re.compile(f"列 {name}$")).check()
        move_up = contacts.get_by_role("button", name=re.compile("中上移 职务$"))
        columns = contacts.locator("ol.fd-columns")
        while order(columns).index("title") > order(columns).index("name"):
            move_up.click()  # 职务 before 姓名
        expect(move_up).to_be_focused()
        related = page.locator(".ls-related-lists")
        while order(related).index("followup:customer") > order(related).index("contact:customer"):
            followups.get_by_role("button", name=re.compile("^上移相关列表 跟进记录")).click()

        page.get_by_label("菜单分组（中文）").fill("客户经营")
        page.get_by_label("菜单分组（英文）").fill("Accounts")
        page.get_by_label("颜色", exact=True).select_option(label="紫色")
        admin.screenshot("settings")
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.get_by_text("列表和菜单设置已保存")).to_be_visible()
        assert admin.errors == []
    finally:
        admin.close()

    rep = Browser(chromium, builder_site, "builder_lists_rep", DESKTOP)
    try:
        page = rep.page
        rep.sign_in("wang.fang")
        section = page.get_by_role("list", name="客户经营")
        customers = section.get_by_role("link", name="客户", exact=True)
        expect(customers).to_be_visible()
        expect(section.get_by_role("link")).to_have_count(1)
        mark = customers.locator(".object-mark")
        assert mark.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(124, 58, 237)"
        expect(
            page.get_by_role("list", name="销售").get_by_role("link", name="线索", exact=True)
        ).to_be_visible()

        customers.click()
        expect(page.locator("h1.object-heading .object-mark")).to_have_class(re.compile("color-purple"))
        rep.open("/app/customer/kanban")
        card = page.locator(".kanban-card", has_text="苏州精工机械有限公司")
        expect(card.locator("dt")).to_have_text(["联系电话", "客户级别"])
        expect(card.locator("dd").nth(1)).to_have_text("重点客户")
        rep.screenshot("board")

        rep.open(f"/app/customer/{builder_site.customer_id}")
        expect(page.locator("section.related h2")).to_have_text(
            [re.compile("^跟进记录"), re.compile("^联系人")]
        )
        contacts = page.locator("section.related").nth(1)
        expect(contacts.locator("thead th")).to_have_text(["职务", "姓名"])
        expect(contacts.locator("tbody td").first).to_have_text("采购总监")
        rep.screenshot("detail")
        assert rep.errors == []
    finally:
        rep.close()
