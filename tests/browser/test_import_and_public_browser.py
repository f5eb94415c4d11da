"""A manager importing leads through the wizard, and a visitor sending the public lead form, in Chromium."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Site

CSV = "姓名,公司名称,手机\n陈明,杭州星河科技,13800138000\n,无名公司,13900139000\n"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_a_manager_imports_leads_after_a_dry_run(
    open_browser, site: Site, viewport: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOOM_UPLOAD_FOLDER", str(tmp_path / "uploads"))
    source = tmp_path / "线索.csv"
    source.write_text(CSV, encoding="utf-8")
    tab = open_browser(f"{viewport['width']}", viewport)
    tab.sign_in("zhang.jingli")
    tab.open("/app/import")
    tab.page.get_by_label("导入到").select_option("lead")
    tab.page.get_by_label("CSV 或 Excel (.xlsx) 文件").set_input_files(str(source))
    tab.page.get_by_role("button", name="上传并对应列").click()
    expect(tab.page.get_by_label("姓名")).to_have_value("name")
    tab.page.get_by_role("button", name="试运行").click()
    expect(tab.page.locator('[data-count="invalid"]')).to_have_text("1")
    expect(tab.page.locator(".bad-rows")).to_contain_text("为必填项")
    tab.screenshot("dry-run")
    tab.page.get_by_role("button", name="导入", exact=True).click()
    expect(tab.page.get_by_text("导入完成")).to_be_visible()
    expect(tab.page.locator('[data-count="created"]')).to_have_text("1")
    tab.screenshot("done")
    assert site.loom.queries().count("lead") == 1
    assert tab.errors == []


def test_a_long_import_shows_its_rows_of_the_total_and_fills_its_bar(
    open_browser, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOOM_UPLOAD_FOLDER", str(tmp_path / "uploads"))
    source = tmp_path / "很多线索.csv"
    # Long enough to be seen running by a page that asks every 0.7 s (several seconds here).
    rows = "".join(f"线索{i},公司{i},139{i:08d}\n" for i in range(6_000))
    source.write_text("姓名,公司名称,手机\n" + rows, encoding="utf-8")
    tab = open_browser("progress", DESKTOP)
    tab.sign_in("zhang.jingli")
    tab.open("/app/import")
    tab.page.get_by_label("导入到").select_option("lead")
    tab.page.get_by_label("CSV 或 Excel (.xlsx) 文件").set_input_files(str(source))
    tab.page.get_by_role("button", name="上传并对应列").click()
    tab.page.get_by_role("button", name="导入", exact=True).click()
    state = tab.page.locator("[data-import-state]")
    # While it runs: rows done of the file's estimated rows, and the rate, over a bar that fills.
    expect(state).to_have_text(re.compile(r"正在导入：已处理 [1-9][\d,]* 行，共约 [\d,]+ 行"), timeout=60_000)
    assert tab.page.locator("[data-import-bar]").evaluate("bar => bar.value > 0")  # running or done: filled
    tab.screenshot("running")
    expect(tab.page.get_by_text("导入完成")).to_be_visible(timeout=120_000)
    assert tab.page.locator("[data-import-bar]").evaluate("bar => bar.value === bar.max")
    expect(tab.page.locator('[data-count="created"]')).to_have_text("6000")
    assert tab.errors == []


def test_a_visitor_sends_the_public_lead_form_on_a_phone(open_browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    served = site.loom.clock.now()
    site.loom.clock.set(served)  # the page's stamp; the visitor then takes a person's minute
    try:
        tab = open_browser("375", PHONE)
        tab.open("/public/forms/web_lead")
        expect(tab.page.get_by_role("heading", name="联系我们")).to_be_visible()
        expect(tab.page.get_by_text("一个工作日内与您联系")).to_be_visible()
        site.loom.clock.set(served + dt.timedelta(seconds=60))
        tab.page.get_by_label("姓名").fill("陈明")
        tab.page.get_by_label("公司名称").fill("杭州星河科技")
        tab.page.get_by_role("button", name="提交").click()
        expect(tab.page.locator('[data-field="_consent"] .field-error')).to_contain_text("请先同意隐私条款")
        expect(tab.page.get_by_label("姓名")).to_have_value("陈明")
        tab.page.get_by_label("手机").fill("138")
        tab.page.get_by_label("我已阅读并同意《隐私政策》", exact=False).check()
        tab.screenshot("consent")
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        tab.page.get_by_role("button", name="提交").click()
        expect(tab.page.locator('[data-field="phone"] .field-error')).to_be_visible()
        tab.page.get_by_label("手机").fill("13800138000")
        tab.page.get_by_label("我已阅读并同意《隐私政策》", exact=False).check()
        tab.page.get_by_role("button", name="提交").click()
        expect(tab.page.get_by_text("顾问将在一个工作日内与您联系")).to_be_visible()
        tab.screenshot("thanks")
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        site.loom.clock.set(None)
    [lead] = site.loom.queries().find("lead").records
    assert (lead["name"], lead["source"], lead["owner"]) == ("陈明", "website", site.users["wang.fang"])
    assert tab.errors == []
