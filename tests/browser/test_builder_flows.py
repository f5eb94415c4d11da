"""The flow designer in Chromium: an administrator rebuilds the contract approval by clicking "+" (the
manager, then legal and finance side by side from 500,000, then the CEO from 1,000,000), simulates it on
a 600,000 contract, publishes it; a contract submitted afterwards follows the new route while one
submitted before finishes on the old one. A flow with an unreachable step or a step without approvers
is refused, the problem shown on that step."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from engine import identity
from engine.base.actors import SYSTEM
from engine.store.drafts import get_draft, save_draft
from tests.browser.conftest import DESKTOP, PASSWORD, Browser, Site


def hire(site: Site) -> None:
    """法务 赵法务, 财务 孙财务 and 总经理 陈总, whom the contract approval asks."""
    for username, name, role in (
        ("zhao.fawu", "赵法务", "legal"),
        ("sun.caiwu", "孙财务", "finance"),
        ("chen.zong", "陈总", "ceo"),
    ):
        user = identity.create_user(site.loom, username, name, PASSWORD, roles=[role], actor=SYSTEM)
        site.users[username] = user["id"]


def contract(site: Site, name: str, amount: int) -> int:
    values = {"name": name, "customer": site.customer_id, "amount": str(amount)}
    return int(site.loom.records(site.actor("wang.fang")).create("contract", values)["id"])


def approve_all(site: Site, instance_id: int) -> list[str]:
    """Approve every task as it comes up, as each approver would; the nodes decided, in order."""
    decided: list[str] = []
    for _ in range(10):
        pending = [task for task in site.loom.flows.tasks(instance_id) if task.status == "pending"]
        if not pending:
            break
        for task in pending:
            username = next(u for u, i in site.users.items() if i == task.assignee_id)
            site.loom.flows.approve(task.id, actor=site.actor(username))
            decided.append(task.node)
    return decided


def settled(page: Page) -> None:
    """The designer has the server's answer for the document as it stands."""
    expect(page.locator("[data-flow-designer]")).to_have_attribute("data-state", "ready")


def add(page: Page, point: str, kind: str) -> None:
    page.locator(f'.fl-plus[data-point="{point}"]').click()
    page.locator(f'.fl-plus[data-point="{point}"] + .fl-menu').get_by_role("button", name=kind).click()
    settled(page)


def condition(page: Page, field: str, operator: str, value: str) -> None:
    panel = page.locator("#fl-panel")
    panel.get_by_label("字段").select_option(label=field)
    panel.get_by_label("运算符").select_option(label=operator)
    panel.get_by_label("值", exact=True).fill(value)


def approver(page: Page, node: str, role: str, label: str) -> None:
    page.locator(f'.fl-card[data-node="{node}"] .fl-title').click()
    panel = page.locator("#fl-panel")
    panel.get_by_label("名称（中文）").fill(label)
    panel.get_by_role("button", name="+ 添加审批人").click()
    panel.locator(".fl-approver select").nth(1).select_option(label=role)
    settled(page)


def test_an_administrator_rebuilds_the_contract_approval_and_versions_keep_their_route(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    site = builder_site
    hire(site)
    before = contract(site, "老版本合同", 600_000)
    old = site.loom.flows.submit("contract", before, actor=site.actor("wang.fang"))
    after = contract(site, "设备采购合同", 600_000)
    tab = Browser(chromium, site, "builder_flows", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        tab.open("/builder/")
        page.get_by_role("link", name="审批流").click()
        expect(page.get_by_role("heading", name="审批流", exact=True)).to_be_visible()
        page.get_by_role("link", name="合同审批").click()
        expect(page.get_by_role("heading", name="流程设计 · 合同审批")).to_be_visible()
        settled(page)
        expect(page.locator('.fl-card[data-node="manager"] .fl-summary')).to_have_text("发起人的上级 · 或签")

        # Start over after the manager: remove the amount branches, which takes their steps along.
        page.get_by_role("button", name="删除此节点 · 按金额分支").click()
        settled(page)
        expect(page.locator('.fl-card[data-node="legal"]')).to_have_count(0)

        # + after the manager → a condition: from 500,000 …
        add(page, "after-manager", "条件分支")
        condition(page, "合同金额", "大于等于", "500000")
        expect(page.locator("#fl-panel .fd-cond-text")).to_have_text("amount >= 500000")
        expect(page.locator("#fl-panel .fd-check")).to_have_text("条件有效")
        settled(page)
        expect(page.locator('.fl-condition[data-node="condition"] .fl-when').first).to_have_text(
            "amount >= 500000"
        )

        # … legal and finance side by side: + in the first branch → parallel branches.
        add(page, "condition-0-entry", "并行分支")
        # Two new approval steps without approvers: publishing is refused, the problem on each card.
        page.get_by_role("button", name="发布", exact=True).click()
        expect(page.locator("#fl-status")).to_contain_text("审批流未发布")
        expect(page.locator('.fl-card[data-node="approve"] .fl-problems')).to_be_visible()
        expect(page.locator('.fl-card[data-node="approve"] .fl-summary')).to_have_text("请选择审批人")
        tab.screenshot("no-approver-refused")
        # The refused publish is the page's only console line: the browser logs its 422 answer.
        assert [error for error in tab.errors if "422" in error] == [tab.errors.pop()]
        approver(page, "approve", "法务", "法务审批")
        approver(page, "approve_2", "财务", "财务审批")
        expect(page.locator('.fl-card[data-node="approve"] .fl-summary')).to_have_text("角色 法务 · 或签")
        expect(page.locator('.fl-card[data-node="approve"] .fl-problems')).to_have_count(0)

        # + after the condition → another condition: from 1,000,000 the CEO.
        add(page, "after-condition", "条件分支")
        condition(page, "合同金额", "大于等于", "1000000")
        settled(page)
        add(page, "condition_2-0-entry", "审批人")
        approver(page, "approve_3", "总经理", "总经理审批")
        expect(page.locator("[data-flow-designer]")).to_have_attribute("data-valid", "yes")
        expect(page.locator(".fl-problems")).to_have_count(0)

        # Keyboard: the cards' titles are buttons, and the "+" opens its menu with Enter.
        page.locator('.fl-card[data-node="manager"] .fl-title').focus()
        page.keyboard.press("Enter")
        expect(page.locator("#fl-panel-title")).to_have_text("销售经理审批")

        # Simulate the draft on the 600,000 contract as 王芳: the path lights up with who is asked.
        page.get_by_label("查找记录").fill("设备")
        page.locator("#fl-sim-record").select_option(value=str(after))
        page.locator("#fl-sim-submitter").select_option(label="王芳")
        page.locator("#fl-sim-run").click()
        expect(page.locator(".fl-outcome")).to_have_text("结果：已通过")
        for node, who in (("manager", "张经理"), ("approve", "赵法务"), ("approve_2", "孙财务")):
            card = page.locator(f'.fl-card[data-node="{node}"]')
            expect(card).to_have_class(re.compile("fl-on-path"))
            expect(card.locator(".fl-asked")).to_have_text(f"审批人：{who}")
        expect(page.locator('.fl-card[data-node="approve_3"]')).not_to_have_class(re.compile("fl-on-path"))
        tab.screenshot("simulated")
        assert site.loom.records().get("contract", after)["status"] == "draft"  # nothing written

        page.get_by_role("button", name="发布", exact=True).click()
        expect(page.locator("#fl-status")).to_contain_text("已发布")
        versions = page.locator("#fl-versions li")
        expect(versions).to_have_count(2)
        expect(versions.nth(1)).to_contain_text("进行中 1")  # the contract submitted before
        tab.screenshot("published")
        assert tab.errors == []
    finally:
        tab.close()

    # Submitted afterwards: the new route (manager, then legal and finance in parallel; no CEO).
    new = site.loom.flows.submit("contract", after, actor=site.actor("wang.fang"))
    assert sorted(approve_all(site, new.id)) == ["approve", "approve_2", "manager"]
    assert site.loom.records().get("contract", after)["status"] == "approved"
    # Submitted before: it ends on the old route, with its own legal and finance steps.
    assert sorted(approve_all(site, old.id)) == ["finance", "legal", "manager"]
    assert site.loom.records().get("contract", before)["status"] == "approved"


def test_a_flow_with_an_unreachable_step_is_not_published(chromium, builder_site: Site) -> None:  # type: ignore[no-untyped-def]
    site = builder_site
    doc = site.loom.registry.flows["contract_approval"].to_json()
    doc["nodes"]["forgotten"] = {
        "type": "cc",
        "label": {"zh_CN": "抄送财务"},
        "to": [{"role": "finance"}],
        "next": "approved",
    }
    with site.loom.begin() as conn:
        save_draft(conn, "flow", "contract_approval", doc, actor=SYSTEM, at=datetime.now(UTC))
    tab = Browser(chromium, site, "builder_flows_unreachable", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        tab.open("/builder/flows/")
        expect(page.get_by_role("row", name=re.compile("合同审批"))).to_contain_text("草稿待发布")
        tab.screenshot("index")
        tab.open("/builder/flows/contract_approval")
        settled(page)
        lost = page.locator('.fl-detached .fl-card[data-node="forgotten"]')
        expect(page.locator(".fl-detached h2")).to_have_text("无法到达的节点")
        expect(lost.locator(".fl-problems")).to_be_visible()
        page.get_by_role("button", name="发布", exact=True).click()
        expect(page.locator("#fl-status")).to_contain_text("审批流未发布")
        expect(lost.locator(".fl-problems")).to_be_visible()
        assert [error for error in tab.errors if "422" in error] == [tab.errors.pop()]
        assert "forgotten" not in site.loom.registry.flows["contract_approval"].nodes
        # Removing it makes the flow publishable.
        page.get_by_role("button", name="删除此节点 · 抄送财务").click()
        settled(page)
        expect(page.locator("[data-flow-designer]")).to_have_attribute("data-valid", "yes")

        # Priorities: a new branch of 按金额分支 comes before the default; ↑ makes it the first tried.
        block = page.locator('.fl-condition[data-node="by_amount"]')
        page.get_by_role("button", name="添加分支 · 按金额分支").click()
        settled(page)
        condition(page, "合同金额", "大于等于", "5000000")
        settled(page)
        block.get_by_role("button", name="提高此分支优先级 · 按金额分支 · 分支 2").click()
        settled(page)
        expect(block.locator(".fl-type-branch .fl-when").first).to_have_text("amount >= 5000000")
        expect(page.get_by_role("button", name="降低此分支优先级 · 按金额分支 · 分支 1")).to_be_focused()
        whens = "window.loomFlowDesigner.doc.nodes.by_amount.branches.map(b => b.when)"
        assert page.evaluate(whens) == ["amount >= 5000000", "amount < 100000"]
        block.get_by_role("button", name="删除此分支 · 按金额分支 · 分支 1").click()
        settled(page)
        assert page.evaluate(whens) == ["amount < 100000"]

        # Flow settings: lock only the amount while the approval runs; an action when it ends.
        page.get_by_role("button", name="流程设置").click()
        panel = page.locator("#fl-panel")
        panel.get_by_label("审批期间").select_option(label="只锁定以下字段")
        panel.locator(".fl-lock-fields").get_by_label("合同金额").check()
        page.locator('.fl-card[data-node="approved"] .fl-title').click()
        panel.get_by_role("button", name="+ 添加动作").click()
        panel.locator(".fl-action select").nth(1).select_option(label="备注")
        panel.get_by_label("值（表达式）").fill("'已审批'")
        expect(panel.locator(".fl-action .fd-check")).to_have_text("表达式有效")
        settled(page)
        expect(page.locator('.fl-card[data-node="approved"] .fl-summary')).to_have_text(
            "审批通过 · 设置 备注"
        )
        # "+" by keyboard: Enter opens its menu on its first choice, Escape closes it again.
        plus = page.locator('.fl-plus[data-point="after-manager"]')
        plus.focus()
        page.keyboard.press("Enter")
        expect(page.locator('.fl-plus[data-point="after-manager"] + .fl-menu button').first).to_be_focused()
        page.keyboard.press("Escape")
        expect(plus).to_be_focused()
        tab.screenshot("settings")
        page.get_by_role("button", name="保存草稿").click()
        expect(page.locator("#fl-status")).to_have_text("草稿已保存")
        with site.loom.read() as conn:
            draft = get_draft(conn, "flow", "contract_approval")
        assert draft is not None and draft.body["lock_record"] == {"fields": ["amount"]}
        assert draft.body["nodes"]["approved"]["actions"] == [
            {"type": "set_field", "field": "remark", "value": "'已审批'"}
        ]
        tab.screenshot("unreachable")
        assert tab.errors == []
    finally:
        tab.close()
