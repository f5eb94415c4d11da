"""The object designer in Chromium: drag a type from the palette, use the keyboard instead, save, see the
plan, apply it; no console errors."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.store.documents import get_document
from tests.browser.conftest import DESKTOP, Browser, Site


def drag(page, source, items) -> None:  # type: ignore[no-untyped-def]
    """Drag with the mouse as a person does: press on the palette, move onto a field in view, let go
    once the list has made room for the dragged type (it follows the pointer on a timer)."""
    source.hover()
    page.mouse.down()
    start = source.bounding_box()
    page.mouse.move(start["x"] + 30, start["y"] + 20, steps=5)  # the drag begins
    height = page.viewport_size["height"]
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    box = next(b for b in boxes if b and 80 < b["y"] < height - 100)  # the first field on screen
    x, y = box["x"] + 60, box["y"] + box["height"] / 3
    room = page.locator("#od-field-list > li[data-type]")  # the palette item, placed in the list
    for step in range(100):
        page.mouse.move(x, y + (step % 2) * 2, steps=4)
        if room.count():
            break
        page.wait_for_timeout(100)
    page.mouse.up()


def stored_fields(site: Site) -> list[dict]:
    with site.loom.read() as conn:
        return get_document(conn, "object", "customer").body["fields"]


def test_an_admin_drags_a_required_select_onto_customer_and_applies_the_plan(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    admin = Browser(chromium, builder_site, "builder-objects", DESKTOP)
    admin.sign_in("guan.li")
    admin.open("/builder/objects")
    admin.page.locator("#content").get_by_role("link", name="客户", exact=True).click()
    page = admin.page
    fields = page.locator("#od-field-list > li")
    fields.first.wait_for()
    before = fields.count()

    # The keyboard way: add a web address field, move it up, then take it out again.
    add_url = page.get_by_role("button", name="添加网址字段")
    add_url.focus()
    page.keyboard.press("Enter")
    assert fields.count() == before + 1
    assert fields.nth(before).locator("code").inner_text().endswith("· url")
    up = fields.nth(before).get_by_role("button", name=re.compile("^上移"))
    up.focus()
    page.keyboard.press("Enter")
    assert fields.nth(before - 1).locator("code").inner_text().endswith("· url")
    fields.nth(before - 1).get_by_role("button", name=re.compile("^移除")).click()
    assert fields.count() == before

    # The mouse way: drag 单选 from the palette to the top of the field list.
    source = page.locator('#od-palette li[data-type="select"] .od-type-name')
    drag(page, source, fields)
    assert fields.count() == before + 1
    added = page.locator("#od-field-list > li.od-selected")  # a new field opens in the panel
    assert added.locator("code").inner_text().endswith("· select")
    position = int(added.get_attribute("data-index"))
    assert position < before, "placed where it was dropped, not appended"

    panel = page.locator("#od-props")
    panel.get_by_label("名称（中文）").fill("行业细分")
    panel.get_by_label("名称（英文）").fill("Industry segment")
    assert panel.get_by_label("接口名称").input_value() == "industry_segment"  # made from the English label
    panel.get_by_label("接口名称").fill("segment")
    panel.get_by_label("必填").check()
    for zh, value in (("中小企业", "smb"), ("中型企业", "mid"), ("大型企业", "ent")):
        panel.get_by_role("button", name="添加选项").click()
        panel.locator(".od-o-label").last.fill(zh)
        panel.locator(".od-o-value").last.fill(value)
    assert "行业细分" in added.inner_text()
    # The live check runs again after each edit and shows the answer to the last one: nothing wrong
    # (an answer to an edit before, such as an option without its value yet, may show first).
    expect(page.locator("#od-check")).to_have_text("未发现问题")

    page.get_by_role("button", name="保存", exact=True).click()
    plan = page.locator("#plan")
    plan.wait_for()
    assert "新增列 obj_customer：segment（select）" in plan.inner_text()
    assert "segment" not in {f["name"] for f in stored_fields(builder_site)}
    admin.screenshot("plan")
    plan.get_by_role("button", name="确认应用").click()
    page.locator(".flash-success").wait_for()

    [segment] = [f for f in stored_fields(builder_site) if f["name"] == "segment"]
    assert segment["required"] is True and segment["type"] == "select"
    assert [o["value"] for o in segment["options"]] == ["smb", "mid", "ent"]
    assert [f["name"] for f in stored_fields(builder_site)][position] == "segment"
    assert admin.errors == []


def test_an_admin_creates_an_object_with_the_keyboard_and_a_rep_sees_it(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    """竞争对手 with four fields, its form and list, placed in the menu; a rep then records one."""
    admin = Browser(chromium, builder_site, "builder-new-object", DESKTOP)
    admin.sign_in("guan.li")
    admin.open("/builder/objects/new")
    page = admin.page
    page.get_by_label("名称（中文）").first.fill("竞争对手")
    page.get_by_label("名称（英文）").first.fill("Competitor")
    assert page.locator('[data-path="name"]').input_value() == "competitor"
    panel = page.locator("#od-props")
    for button, zh, en in (
        ("添加网址字段", "网站", "Website"),
        ("添加多行文本字段", "优势", "Strengths"),
        ("添加单选字段", "威胁程度", "Threat"),
    ):
        page.get_by_role("button", name=button).press("Enter")
        panel.get_by_label("名称（中文）").fill(zh)
        panel.get_by_label("名称（英文）").fill(en)
    for zh, value in (("高", "high"), ("低", "low")):
        panel.get_by_role("button", name="添加选项").click()
        panel.locator(".od-o-label").last.fill(zh)
        panel.locator(".od-o-value").last.fill(value)
    page.get_by_role("checkbox", name="销售代表").check()
    page.get_by_role("button", name="保存", exact=True).click()
    plan = page.locator("#plan")
    plan.wait_for()
    assert "+ 新增对象 competitor" in plan.inner_text() and "~ 修改角色 sales_rep" in plan.inner_text()
    plan.get_by_role("button", name="确认应用").click()
    page.locator(".flash-success").wait_for()
    assert page.url.endswith("/builder/objects/competitor")
    assert [f.name for f in builder_site.loom.registry.object("competitor").fields.values()] == [
        "name", "website", "strengths", "threat"
    ]  # fmt: skip

    # Its form: a second section for the analysis.
    admin.open("/builder/forms/competitor")
    page.get_by_role("button", name="添加分区").click()
    page.locator('.fd-section[data-index="1"] input[data-path="/sections/1/label"]').fill("分析")
    page.get_by_label("把 优势 移到").select_option("1")  # the second section
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#fd-status")).to_have_text("表单已保存")
    # Its list and its place in the menu.
    admin.open("/builder/lists/competitor")
    for column in ("名称", "威胁程度"):
        page.get_by_label(column, exact=True).check()
    page.get_by_label(re.compile("菜单序号")).fill("1")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("列表和菜单设置已保存")).to_be_visible()
    assert admin.errors == []
    admin.sign_out()

    admin.sign_in("wang.fang")
    menu = page.get_by_role("navigation", name="主导航").get_by_role("link")
    names = [text.strip() for text in menu.all_inner_texts()]
    competitor = next(i for i, text in enumerate(names) if "竞争对手" in text)
    assert competitor < next(i for i, text in enumerate(names) if "客户" in text)  # menu place 1: first
    menu.nth(competitor).click()
    page.wait_for_url(re.compile(r"/app/competitor"))
    admin.open("/app/competitor/new")
    expect(page.locator("fieldset.form-section legend").nth(1)).to_have_text("分析")
    page.get_by_label(re.compile("^名称")).fill("华南智造")
    page.locator("#field-website").fill("https://example.cn")
    page.locator("#field-threat").select_option(label="高")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/app/competitor/\d+$"))
    [made] = builder_site.loom.queries().find("competitor").records
    assert (made["name"], made["website"], made["threat"]) == ("华南智造", "https://example.cn", "high")
    assert made["owner"] == builder_site.users["wang.fang"]
    assert admin.errors == []
