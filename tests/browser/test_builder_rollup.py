"""A roll-up made with the designer's source form, not JSON, and existing form conditions opened as rows;
in Chromium at 1280 px with no console errors."""

from __future__ import annotations

from engine.store.documents import get_document
from tests.browser.conftest import DESKTOP, Browser, Site


def contract(site: Site, name: str, status: str) -> None:
    site.loom.records().create(
        "contract",
        {
            "name": name,
            "customer": site.customer_id,
            "amount": "100000",
            "status": status,
            "owner": site.users["wang.fang"],
        },
    )


def test_an_admin_adds_a_filtered_count_of_contracts_to_customer_by_the_form(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    contract(builder_site, "二号产线改造合同", "active")
    contract(builder_site, "三号产线意向合同", "draft")
    admin = Browser(chromium, builder_site, "builder-rollup", DESKTOP)
    admin.sign_in("guan.li")
    admin.open("/builder/objects/customer")
    page = admin.page
    fields = page.locator("#od-field-list > li")
    fields.first.wait_for()
    panel = page.locator("#od-props")

    # An existing roll-up opens in the form, as its document says.
    page.get_by_role("button", name="编辑 合同总额").click()
    chosen = {
        label: panel.get_by_label(label).locator("option:checked").inner_text()
        for label in ("相关对象", "关联字段", "汇总方式", "汇总的字段", "统计谁的记录")
    }
    assert chosen == {
        "相关对象": "合同",
        "关联字段": "客户",
        "汇总方式": "求和",
        "汇总的字段": "合同金额",
        "统计谁的记录": "仅读者有权查看的记录",
    }
    assert (
        panel.get_by_label("仅统计满足条件的记录（可选）").input_value()
        == "status in ['approved', 'active', 'expired']"
    )

    page.get_by_role("button", name="添加汇总字段").click()
    assert panel.get_by_text("汇总来源（JSON）").count() == 0
    panel.get_by_label("名称（中文）").fill("生效合同数")
    panel.get_by_label("名称（英文）").fill("Active contracts")

    related = panel.get_by_label("相关对象")
    offered = related.locator("option").all_inner_texts()
    assert "合同" in offered and "商机" in offered
    assert "产品" not in offered, "only objects that look up 客户 are offered"
    related.select_option(label="合同")
    assert panel.get_by_label("关联字段").locator("option:checked").inner_text() == "客户"
    function = panel.get_by_label("汇总方式")
    function.select_option(label="求和")
    aggregated = panel.get_by_label("汇总的字段")
    assert "合同金额" in aggregated.locator("option").all_inner_texts()
    assert aggregated.locator("option:checked").inner_text() == "合同金额"
    function.select_option(label="计数")
    assert panel.get_by_label("汇总的字段").count() == 0, "a count aggregates no field"

    condition = panel.get_by_label("仅统计满足条件的记录（可选）")
    check = page.locator("#od-rollup-filter-check")
    condition.fill("nosuch == 'active'")
    check.filter(has_text="nosuch").wait_for()
    assert condition.get_attribute("aria-invalid") == "true"
    condition.fill("status == 'active'")
    check.filter(has_text="表达式有效").wait_for()
    assert condition.get_attribute("aria-invalid") is None
    panel.get_by_label("统计谁的记录").select_option(label="仅读者有权查看的记录")
    admin.screenshot("rollup-form")

    page.get_by_role("button", name="保存", exact=True).click()
    plan = page.locator("#plan")
    plan.wait_for()
    assert plan.locator(".od-lines li").count() >= 1  # a roll-up adds no column: the object changes
    admin.screenshot("plan")
    plan.get_by_role("button", name="确认应用").click()
    page.locator(".flash-success").wait_for()

    with builder_site.loom.read() as conn:
        stored = get_document(conn, "object", "customer").body["fields"]
    [added] = [f for f in stored if f["name"] == "active_contracts"]
    assert added["source"] == {
        "object": "contract",
        "via": "customer",
        "function": "count",
        "filter": "status == 'active'",
        "scope": "reader",
    }

    admin.open(f"/app/customer/{builder_site.customer_id}")
    shown = page.locator(".field-view").filter(has=page.locator("dt", has_text="生效合同数"))
    assert shown.locator("dd").inner_text().strip() == "1"  # the active contract, not the draft
    assert admin.errors == []


def test_existing_simple_conditions_open_as_rows_and_others_as_the_expression(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    admin = Browser(chromium, builder_site, "builder-conditions", DESKTOP)
    admin.sign_in("guan.li")
    admin.open("/builder/forms/followup")
    page = admin.page
    page.locator(".fd-field-conds > summary").first.wait_for()
    for summary in page.locator(".fd-field-conds > summary").all():
        summary.click()
    # type == 'visit' on 地点 (shown if, required if) reads back into rows: 跟进方式 等于 拜访.
    rows = [
        (
            row.locator(".fd-row-field").input_value(),
            row.locator(".fd-row-op").input_value(),
            row.locator(".fd-row-value").input_value(),
        )
        for row in page.locator(".fd-row").all()
        if row.locator(".fd-row-field").input_value()
    ]
    assert rows == [("type", "eq", "visit"), ("type", "eq", "visit")]
    # type in [...] on 时长 is no row shape: it stays the expression, as it was.
    raw = page.locator("textarea.fd-raw")
    assert raw.count() == 1
    assert raw.first.input_value() == "type in ['call', 'visit', 'meeting']"
    assert admin.errors == []
