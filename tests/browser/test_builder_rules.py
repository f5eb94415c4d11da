"""The rule builder in Chromium: an administrator starts the VIP follow-up rule from the template
gallery, builds its condition with the condition builder, tries it on a customer silent for 16
days and on one silent for 3, saves it, and the worker fires it once."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from engine.base.actors import SYSTEM
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.work.due_work import run_due
from metadata.rules import RuleSpec
from tests.browser.conftest import DESKTOP, Browser, Site

RULE = "vip_not_followed_up"


def vip_tasks(site: Site, customer_id: int) -> list[dict]:
    return site.loom.queries().find("task", filter=f"customer == {customer_id}", limit=100).records


def test_the_admin_builds_the_vip_rule_from_the_gallery_tries_it_and_the_worker_fires_it_once(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    loom = builder_site.loom
    # The CRM's own VIP reminder is switched off: the rule built here replaces it.
    own = loom.registry.rules["vip_followup_overdue"].to_json()
    apply_objects(loom, [], rules=[RuleSpec.from_json({**own, "active": False})], actor=SYSTEM)
    wang = builder_site.users["wang.fang"]
    # Whole days back from now: the same business date N days ago at any hour the suite runs (an
    # hour more would cross midnight in Beijing between 00:00 and 01:00 and count a day more).
    now = loom.clock.now()
    records = loom.records()  # last_followup_at is set through the engine, as a follow-up would
    silent = records.create(
        "customer",
        {
            "name": "上海云杉科技",
            "level": "vip",
            "owner": wang,
            "last_followup_at": now - timedelta(days=16),
        },
    )["id"]
    recent = records.create(
        "customer",
        {
            "name": "北京华信科技",
            "level": "vip",
            "owner": wang,
            "last_followup_at": now - timedelta(days=3),
        },
    )["id"]

    tab = Browser(chromium, builder_site, "builder_rules", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        tab.open("/builder/")
        page.get_by_role("link", name="规则", exact=True).click()
        expect(page.get_by_role("heading", name="规则", exact=True)).to_be_visible()
        page.get_by_role("link", name="从模板开始").click()
        expect(page.get_by_role("heading", name="模板库")).to_be_visible()
        card = page.locator(
            "section.rb-card", has=page.get_by_role("heading", name="VIP客户15天未跟进 → 创建待办")
        )
        expect(card.get_by_label("显示名称")).to_have_value("VIP客户15天未跟进提醒")
        expect(card.get_by_label("名称", exact=True)).to_have_value(RULE)
        tab.screenshot("gallery")
        card.get_by_role("button", name="使用此模板").click()
        page.wait_for_url(re.compile(rf"/builder/rules/{RULE}$"))
        expect(page.locator("#rb-state")).to_contain_text("草稿")
        expect(page.locator("#rb-trigger .rb-cron-words")).to_have_text("每天 09:00")

        # The template's condition is read back into rows; the admin rebuilds the silence row.
        condition = page.locator("#rb-condition")
        rows = condition.locator(".fd-row")
        expect(rows).to_have_count(2)
        rows.nth(1).get_by_role("button", name="删除此条件").click()
        expect(condition.locator(".fd-cond-text")).to_have_text("level == 'vip'")
        condition.get_by_role("button", name="添加条件", exact=True).click()
        row = condition.locator(".fd-row").nth(1)
        row.get_by_label("字段").select_option(label="未跟进天数")
        row.get_by_label("运算符").select_option(label="大于")
        row.get_by_label("值").fill("15")
        expect(condition.locator(".fd-cond-text")).to_have_text("level == 'vip' and days_silent > 15")
        expect(condition.locator(".fd-check")).to_have_text("条件有效")

        # Try it on the customer silent for 16 days: true, and the task it would create.
        page.get_by_label("查找记录（名称或编号）").fill("上海云杉")
        expect(page.locator("#rb-record-list option").first).to_contain_text("上海云杉科技")
        page.get_by_role("button", name="试运行", exact=True).click()
        trial = page.locator("#rb-trial")
        expect(trial.locator("#rb-verdict")).to_have_text("条件成立：规则会执行")
        expect(trial.locator(".rb-condition-value")).to_have_text("成立")
        expect(trial.locator(".rb-effect-create")).to_contain_text("将新建任务")
        expect(trial.locator(".rb-effect-create")).to_contain_text("请立即跟进VIP客户：上海云杉科技")

        # And on the one followed up 3 days ago: false, with the values it read.
        page.get_by_label("查找记录（名称或编号）").fill("北京华信")
        expect(page.locator("#rb-record-list option").first).to_contain_text("北京华信科技")
        page.get_by_role("button", name="试运行", exact=True).click()
        expect(trial.locator("#rb-verdict")).to_have_text("条件不成立：规则不会执行")
        inputs = trial.locator(".rb-inputs")
        expect(inputs).to_contain_text("未跟进天数 (days_silent)")
        expect(inputs.locator("dt:has-text('days_silent') + dd")).to_have_text("3")
        expect(inputs.locator("dt:has-text('level') + dd")).to_have_text("VIP客户")
        tab.screenshot("trial")
        assert vip_tasks(builder_site, silent) == [] and vip_tasks(builder_site, recent) == []

        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator("#rb-status")).to_have_text("规则已保存")
        expect(page.get_by_role("link", name="运行记录")).to_be_visible()
        assert loom.registry.rules[RULE].condition == "level == 'vip' and days_silent > 15"
        page.get_by_role("button", name="试运行", exact=True).click()
        expect(page.get_by_role("link", name=f"解释记录 #{recent} 的触发情况")).to_be_visible()
        tab.screenshot("saved")

        # The worker's next pass fires it once for the silent customer; the pass after adds nothing.
        loom.clock.set(now + timedelta(days=1))
        run_due(loom, loom.due_handlers)
        created = vip_tasks(builder_site, silent)
        assert [(t["subject"], t["owner"]) for t in created] == [("请立即跟进VIP客户：上海云杉科技", wang)]
        assert vip_tasks(builder_site, recent) == []
        loom.clock.set(now + timedelta(days=2))
        run_due(loom, loom.due_handlers)
        assert len(vip_tasks(builder_site, silent)) == 1
        with loom.read() as conn:
            fired = [run for run in runs_for_rule(conn, RULE) if run["status"] == "fired"]
        assert [run["record_id"] for run in fired] == [silent]

        # The run log is one click away, and from it the explanation for the customer.
        page.get_by_role("link", name="运行记录").click()
        expect(page.get_by_role("heading", name=re.compile("运行记录"))).to_be_visible()
        page.get_by_role("link", name=f"#{silent}").click()
        expect(page.locator("#rb-verdict")).to_contain_text("规则已对这条记录触发过")
        tab.screenshot("explain")
        assert tab.errors == []
    finally:
        tab.close()


def test_the_admin_edits_a_new_rule_trigger_and_actions_by_keyboard_with_problems_at_their_controls(  # type: ignore[no-untyped-def]
    chromium, builder_site: Site
) -> None:
    loom = builder_site.loom
    tab = Browser(chromium, builder_site, "builder_rules_editor", DESKTOP)
    try:
        page = tab.page
        tab.sign_in("guan.li")
        tab.open("/builder/rules/")
        page.get_by_role("link", name="新建规则").click()
        page.get_by_label("显示名称").fill("客户升级VIP提醒")
        page.get_by_label("名称", exact=True).fill("vip_upgrade")
        page.get_by_label("对象").select_option(label="客户")
        page.get_by_role("button", name="创建规则").click()
        page.wait_for_url(re.compile(r"/builder/rules/vip_upgrade$"))

        # A schedule is said in words as it is typed; an unusual one is shown as written.
        trigger = page.get_by_label("触发时机")
        trigger.select_option(label="定时执行")
        words = page.locator("#rb-cron-words")
        expect(words).to_have_text("每天 09:00")
        cron = page.get_by_label("定时表达式（分 时 日 月 周）")
        cron.fill("30 8 1 * *")
        expect(words).to_have_text("每月1日 08:30")
        cron.fill("0 9 1-7 * 1")
        expect(words).to_have_text("执行时间：0 9 1-7 * 1（按原文）")
        cron.fill("every day")
        expect(page.locator('[data-path="/trigger/cron"] .rb-problem')).not_to_be_empty()
        trigger.select_option(label="日期字段前后若干天")
        expect(page.get_by_label("日期字段")).to_be_visible()
        trigger.select_option(label="修改记录时")
        page.locator('[data-path="/trigger/fields"]').get_by_label("客户级别").check()

        # Two actions from the registry, their inputs generated from each one's schema.
        chooser = page.get_by_label("动作", exact=True)
        chooser.select_option(label="设置字段")
        page.get_by_role("button", name="添加动作").press("Enter")
        first = page.locator(".rb-action").nth(0)
        first.get_by_label("字段 *").select_option("lifecycle")
        first.get_by_label("值 *").fill("'loyal'")
        chooser.select_option(label="发送通知")
        page.get_by_role("button", name="添加动作").press("Enter")
        second = page.locator(".rb-action").nth(1)
        second.get_by_label("接收人 *").fill("owner")
        second.get_by_label("标题 *").fill("'客户已升级：' + nmae")
        problem = second.locator('[data-path="/actions/1/title"] .rb-problem')
        expect(problem).to_contain_text("nmae")
        second.get_by_label("标题 *").fill("'客户已升级：' + name")
        expect(problem).to_be_empty()

        # A created record's values name the fields of the object chosen for it.
        chooser.select_option(label="新建记录")
        page.get_by_role("button", name="添加动作").press("Enter")
        third = page.locator(".rb-action").nth(2)
        third.get_by_label("对象 *").select_option(label="任务")
        third.get_by_role("button", name="添加一项").press("Enter")
        third.get_by_label("字段取值 *: 名称").select_option(label="任务主题")
        third.get_by_label("字段取值 *: 任务主题").fill("'跟进：' + name")
        expect(third.locator('[data-path="/actions/2/values/subject"]')).to_be_visible()
        page.get_by_role("button", name="动作 3: 删除").press("Enter")
        expect(page.locator(".rb-action")).to_have_count(2)
        expect(page.get_by_label("动作", exact=True)).to_be_focused()

        # Move the notification first with its button, by keyboard; the focus follows it.
        page.get_by_role("button", name="动作 2: 上移").press("Enter")
        expect(page.locator(".rb-action").nth(0).locator(".rb-action-head select")).to_have_value("notify")
        expect(page.locator(".rb-action").nth(0).locator(".rb-action-head select")).to_be_focused()
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator("#rb-status")).to_have_text("规则已保存")
        rule = loom.registry.rules["vip_upgrade"].to_json()
        assert rule["trigger"] == {"type": "on_update", "fields": ["level"]}
        assert [a["type"] for a in rule["actions"]] == ["notify", "set_field"]
        assert rule["actions"][1] == {"type": "set_field", "field": "lifecycle", "value": "'loyal'"}
        tab.screenshot("editor")
        assert tab.errors == []
    finally:
        tab.close()
