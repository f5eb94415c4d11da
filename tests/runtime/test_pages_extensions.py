"""Fields the industry packages add to the CRM's customer appear on its form, record page and list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine import CRM_PACKAGE, SYSTEM, Loom, apply_objects, identity, install_package
from metadata.specs import ObjectSpec
from tests.examples.conftest import EXAMPLES
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text

CRM_OBJECTS = {path.stem for path in (CRM_PACKAGE / "objects").glob("*.json")}


@pytest.fixture
def team(crm: Loom) -> Team:
    install_package(crm, EXAMPLES / "manufacturing_service")
    install_package(crm, EXAMPLES / "saas_subscriptions")
    return build_team(crm)


def test_the_customer_form_offers_the_industry_fields_in_their_sections(team: Team) -> None:
    page = text(team.client("wang.fang").get("/app/customer/new"))
    basics = page[
        page.index(">基本信息</legend>") : page.index("</fieldset>", page.index(">基本信息</legend>"))
    ]
    assert 'name="service_level"' in basics  # put into the CRM's own section
    after_sales = page[
        page.index(">售后服务</legend>") : page.index("</fieldset>", page.index(">售后服务</legend>"))
    ]
    assert "在用设备" in after_sales and "未完成现场工单" in after_sales
    assert ">订阅</legend>" in page and "月经常性收入合计" in page


def test_an_industry_field_entered_in_the_form_shows_on_the_record_page(team: Team) -> None:
    client = team.client("wang.fang")
    form = {
        "csrf_token": csrf(client, "/app/customer/new"),
        "name": "无锡精密机床",
        "service_level": "platinum",
    }
    sent = client.post("/app/customer/new", data=form)
    assert sent.status_code == 302, text(sent)
    [customer] = team.loom.queries().find("customer", filter="name == '无锡精密机床'").records
    assert customer["service_level"] == "platinum"
    page = text(client.get(sent.headers["Location"]))
    assert "服务等级" in page and "白金" in page
    assert ">售后服务</h2>" in page and ">订阅</h2>" in page and "生效订阅数" in page


def test_the_customer_list_shows_the_industry_columns(team: Team) -> None:
    team.customer("常州重工", service_level="gold")
    page = text(team.client("wang.fang").get("/app/customer"))
    head = page[page.index("<thead") : page.index("</thead>")]
    assert "服务等级" in head and "月经常性收入合计" in head
    assert "金牌" in page


def test_a_field_no_section_places_gets_a_section_named_after_its_package(team: Team, tmp_path: Path) -> None:
    package = tmp_path / "trade_fairs"
    (package / "objects").mkdir(parents=True)
    manifest = {
        "name": "trade_fairs",
        "version": "1.0.0",
        "label": {"zh_CN": "展会获客", "en": "Trade fairs"},
        "depends": {"crm": ">=1.0,<2"},
    }
    extension = {
        "extends": "customer",
        "fields": [{"name": "booth_no", "type": "text", "label": {"zh_CN": "展位号", "en": "Booth"}}],
    }
    (package / "package.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (package / "objects" / "customer.json").write_text(json.dumps(extension, ensure_ascii=False), "utf-8")
    install_package(team.loom, package)
    customer = team.customer("宁波展贸", booth_no="A-118")
    client = team.client("wang.fang")
    form = text(client.get("/app/customer/new"))
    assert ">展会获客</legend>" in form and 'name="booth_no"' in form
    page = text(client.get(f"/app/customer/{customer['id']}"))
    assert ">展会获客</h2>" in page and "A-118" in page


def test_the_navigation_groups_objects_and_follows_each_objects_nav_order_and_then_names(team: Team) -> None:
    user = identity.create_user(team.loom, "guan.li", "管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
    team.ids["guan.li"] = user["id"]

    def navigation() -> list[tuple[str, list[str]]]:
        page = text(team.client("guan.li").get("/"))
        sections = re.findall(
            r'<p class="nav-heading"[^>]*>([^<]+)</p>\s*<ul class="nav-objects"[^>]*>(.*?)</ul>', page, re.S
        )
        return [(label, re.findall(r'href="/app/(\w+)"', body)) for label, body in sections]

    sections = dict(navigation())
    assert list(sections)[:4] == ["销售", "交易", "服务", "产品"]  # each section where its first object sits
    assert sections["销售"][:4] == ["lead", "customer", "contact", "opportunity"]  # the CRM's nav_order
    assert sections["服务"] == ["service_ticket"]
    industry = sections["设备服务"] + sections["订阅"]
    assert set(industry) == set(team.loom.registry.objects) - CRM_OBJECTS
    assert sections["设备服务"] == sorted(sections["设备服务"])  # no nav_order: by name
    task = ObjectSpec.from_json({**team.loom.registry.object("task").spec.to_json(), "nav_order": 1})
    apply_objects(team.loom, [task])
    assert navigation()[0] == ("销售", ["task", "lead", "customer", "contact", "opportunity", "followup"])
