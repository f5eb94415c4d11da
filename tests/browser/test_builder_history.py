"""An administrator opens 变更历史, reads a label change, reverts it through its plan, and installs an
uploaded package after seeing its plan — in Chromium at 1280 px, with no console errors."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from engine.schema.changes import apply_objects
from engine.store.documents import get_document, revisions
from metadata import validation
from tests.browser.conftest import DESKTOP, Browser, Site


def relabel_short_name(site: Site, label: str) -> None:
    loom = site.loom
    with loom.read() as conn:
        body = json.loads(json.dumps(get_document(conn, "object", "customer").body))
    next(f for f in body["fields"] if f["name"] == "short_name")["label"]["zh_CN"] = label
    result = validation.validate_object(body, "objects/customer.json", known_objects=loom.registry.specs())
    apply_objects(loom, list(result.objects), actor=site.actor("guan.li"))


def supplier_package(path: Path) -> Path:
    files = {
        "package.json": {
            "name": "suppliers",
            "version": "1.0.0",
            "label": {"zh_CN": "供应商"},
            "depends": {"crm": ">=1.0"},
        },
        "objects/supplier.json": {
            "name": "supplier",
            "label": {"zh_CN": "供应商", "en": "Supplier"},
            "plural_label": {"zh_CN": "供应商", "en": "Suppliers"},
            "title_field": "name",
            "fields": [{"name": "name", "type": "text", "label": {"zh_CN": "名称", "en": "Name"}}],
        },
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, json.dumps(body, ensure_ascii=False))
    return path


def test_an_admin_reverts_a_label_from_history_and_installs_an_uploaded_package(
    chromium, builder_site: Site, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    site = builder_site
    with site.loom.read() as conn:
        before = revisions(conn, "object", "customer")[0]["id"]
    relabel_short_name(site, "简称")
    browser = Browser(chromium, site, "builder-history", DESKTOP)
    page = browser.page
    try:
        browser.sign_in("guan.li")
        browser.open("/builder/")
        page.get_by_role("link", name="变更历史").first.click()
        expect(page.get_by_role("heading", name="变更历史")).to_be_visible()
        page.get_by_label("名称").fill("customer")
        page.get_by_role("button", name="筛选").click()
        rows = page.locator("table.history-list tbody tr")
        expect(rows.first).to_contain_text("管理员")
        rows.first.get_by_role("link").click()

        expect(page.get_by_role("cell", name="字段 简称（short_name）")).to_be_visible()
        expect(page.get_by_text("/fields/@short_name/label/zh_CN")).to_be_hidden()  # the raw diff is folded
        page.get_by_text("原始 JSON 差异").click()
        expect(page.get_by_text("/fields/@short_name/label/zh_CN")).to_be_visible()
        browser.screenshot("revision")

        browser.open(f"/builder/history/{before}")
        page.get_by_role("link", name="恢复到此版本").click()
        expect(page.get_by_role("heading", name="将要进行的更改")).to_be_visible()
        expect(page.get_by_text("修改 对象")).to_be_visible()
        browser.screenshot("revert-plan")
        page.get_by_role("button", name="应用").click()
        expect(page.get_by_text(re.compile(f"已将对象 customer 恢复到版本 {before}"))).to_be_visible()
        with site.loom.read() as conn:
            body = get_document(conn, "object", "customer").body
        assert next(f for f in body["fields"] if f["name"] == "short_name")["label"]["zh_CN"] == "客户简称"

        page.get_by_role("link", name="导出与导入包").click()
        expect(page.get_by_role("link", name="下载 zip")).to_have_attribute(
            "href", "/builder/packages/crm.zip"
        )
        page.get_by_label("包 zip 文件").set_input_files(str(supplier_package(tmp_path / "suppliers.zip")))
        page.get_by_role("button", name="上传并查看计划").click()
        expect(page.get_by_role("heading", name="安装 suppliers 1.0.0")).to_be_visible()
        expect(page.get_by_text("新增 对象")).to_be_visible()
        browser.screenshot("package-plan")
        assert "supplier" not in site.loom.registry.objects
        page.get_by_role("button", name="应用").click()
        expect(page.get_by_text("已应用包 suppliers 1.0.0。")).to_be_visible()
        expect(page.get_by_role("cell", name="suppliers", exact=True)).to_be_visible()
        assert "supplier" in site.loom.registry.objects
        assert browser.errors == []
    finally:
        browser.close()
