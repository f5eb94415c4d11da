"""The README's five-minute tour, followed as written: a vehicle created in the browser gets its
metadata defaults and its service reminder; on the demo CRM a rep submits a draft contract and
the manager approves it from the inbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.clock import Clock
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from runtime.demo.data import DEFAULT_CUSTOMERS, DEFAULT_SEED, load_demo_data
from runtime.worker import run_pass
from tests.browser.conftest import PASSWORD, Browser, Site, serving

README = Path(__file__).resolve().parents[2] / "README.md"
NOW = datetime(2026, 11, 26, 1, 0)  # 09:00 in Shanghai


def fleet_package(folder: Path) -> Path:
    """The tour's `fleet` package, exactly as the README writes it: manifest, vehicle, rule."""
    readme = README.read_text(encoding="utf-8")
    files = dict(re.findall(r"cat > (fleet/[\w/.]+) <<'JSON'\n(.*?)\nJSON", readme, re.S))
    rule = re.search(r"Create `fleet/rules/service_due_soon.json`:\n\n```json\n(.*?)\n```", readme, re.S)
    assert rule is not None and "fleet/objects/vehicle.json" in files, "the README's tour has moved"
    files["fleet/rules/service_due_soon.json"] = rule.group(1)
    for name, body in files.items():
        json.loads(body)  # the README's documents are valid JSON
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    return folder / "fleet"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Site]:
    loom = Loom(f"sqlite:///{tmp_path / 'loom.db'}", clock=Clock(NOW))
    loom.init()
    with serving(Site("", loom)) as site:
        yield site


def test_a_vehicle_created_in_the_browser_gets_its_defaults_and_its_service_reminder(
    served: Site, chromium, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    loom = served.loom
    install_package(loom, CRM_PACKAGE)  # the tour builds on the database `make run` made
    install_package(loom, fleet_package(tmp_path))
    served.users["fleet.admin"] = identity.create_user(
        loom, "fleet.admin", "车队管理员", PASSWORD, roles=["admin"], actor=SYSTEM
    )["id"]
    tab = Browser(chromium, served, "tour-vehicle", {"width": 1280, "height": 860})
    try:
        tab.sign_in("fleet.admin")
        tab.open("/app/vehicle/new")
        page = tab.page
        service_day = date(2026, 11, 26) + timedelta(days=180)
        expect(page.locator("#field-mileage")).to_have_value("0")
        expect(page.locator("#field-status")).to_have_value("in_service")
        expect(page.locator("#field-next_service")).to_have_value(service_day.isoformat())
        page.locator("#field-plate").fill("沪A·12345")
        page.get_by_role("button", name="保存").click()
        expect(page.locator("h1")).to_contain_text("沪A·12345")
        expect(page.locator(".detail-main")).to_contain_text("在用")
        [vehicle] = loom.queries().find("vehicle").records
        assert (vehicle["status"], vehicle["mileage"], vehicle["next_service"]) == (
            "in_service",
            0,
            service_day,
        )

        loom.clock.set(
            datetime.combine(service_day - timedelta(days=7), datetime.min.time()) + timedelta(hours=1)
        )
        run_pass(loom)
        tab.open("/notifications")
        expect(page.locator("main")).to_contain_text("保养提醒：沪A·12345")
        assert tab.errors == []
    finally:
        tab.close()


def test_the_tour_contract_is_submitted_by_a_rep_and_approved_by_the_manager(served: Site, chromium) -> None:  # type: ignore[no-untyped-def]
    loom = served.loom
    install_package(loom, CRM_PACKAGE)
    report = load_demo_data(
        loom, seed=DEFAULT_SEED, customers=DEFAULT_CUSTOMERS, password=PASSWORD
    )  # as `make run`
    logins = {login.username: login for login in report.logins}
    assert {"sales1", "manager1"} <= set(logins)
    rep = identity.actor_for(loom, identity.user_by_username(loom, "sales1")["id"])
    drafts = loom.queries(rep).find("contract", filter="status == 'draft'", operation="update").records
    assert drafts, "the demo gives sales1 draft contracts to submit"
    draft = drafts[0]
    assert loom.flows.instance_of("contract", draft["id"]) is None, "a draft is not in approval yet"

    tab = Browser(chromium, served, "tour-contract-rep", {"width": 1280, "height": 860})
    manager = Browser(chromium, served, "tour-contract-manager", {"width": 1280, "height": 860})
    try:
        tab.sign_in("sales1")
        tab.open("/app/contract")
        tab.page.get_by_role("link", name=draft["name"]).first.click()
        tab.page.get_by_role("button", name="提交审批").click()
        expect(tab.page.get_by_text("已提交审批")).to_be_visible()
        expect(tab.page.locator("h1")).to_contain_text("审批中")
        expect(tab.page.get_by_role("link", name="编辑")).to_have_count(0)

        manager.sign_in("manager1")
        manager.open("/approvals")
        card = manager.page.locator("li.inbox-item", has=manager.page.get_by_role("link", name=draft["name"]))
        expect(card).to_be_visible()
        card.get_by_role("button", name="同意").click()
        expect(manager.page).to_have_url(re.compile(r"/approvals"))
        instance = loom.flows.instance_of("contract", draft["id"])
        manager_id = identity.user_by_username(loom, "manager1")["id"]
        decided = [t for t in loom.flows.tasks(instance.id) if t.assignee_id == manager_id]
        assert instance.status in ("running", "approved") and [t.status for t in decided] == ["approved"]
        assert tab.errors == [] and manager.errors == []
    finally:
        tab.close()
        manager.close()
