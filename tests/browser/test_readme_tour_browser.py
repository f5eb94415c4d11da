"""The README's five-minute tour, followed as written: a vehicle created in the browser gets its
metadata defaults and its service reminder."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from engine import identity
from engine.actors import SYSTEM
from engine.clock import Clock
from engine.loom import Loom
from engine.packages import CRM_PACKAGE, install_package
from runtime.app import create_app
from runtime.worker import run_pass
from tests.browser.conftest import PASSWORD, Browser, Site

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
    site = Site("", loom)
    app = create_app(loom, config={"SECRET_KEY": "tour-secret"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_port}"
    yield site
    server.shutdown()
    thread.join()
    loom.close()


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
