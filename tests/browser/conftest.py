"""Browser tests: the app served by werkzeug in a thread against a SQLite file with the CRM installed,
driven by Python Playwright through Debian's Chromium.

Outside CI a machine without /usr/bin/chromium skips these tests; in CI (CI=true) a missing
Chromium fails them, as a missing PostgreSQL does (see tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import builder_ui
from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from runtime.web.app import create_app
from tests.conftest import IN_CI
from tests.database_templates import BUILT_REGISTRIES, DatabaseTemplates

CHROMIUM = Path(os.environ.get("LOOM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a-long-browser-password"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}


def chromium_or_skip() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if IN_CI:
        pytest.fail(f"CI must run the browser tests but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (CI always runs them)")


@dataclass
class Site:
    """The running app: its address, its Loom, and the people who can sign in."""

    url: str
    loom: Loom
    users: dict[str, int] = field(default_factory=dict)
    customer_id: int = 0

    def actor(self, username: str):  # type: ignore[no-untyped-def]
        return identity.actor_for(self.loom, self.users[username])


def build_company(loom: Loom) -> Site:
    """A sales department (manager 张经理, rep 王芳), and one customer of 王芳's."""
    site = Site("", loom)
    sales = identity.create_department(loom, "销售部", actor=SYSTEM)["id"]
    for username, name, roles in (
        ("zhang.jingli", "张经理", ["sales_manager"]),
        ("wang.fang", "王芳", ["sales_rep"]),
    ):
        user = identity.create_user(
            loom, username, name, PASSWORD, roles=roles, department_id=sales, actor=SYSTEM
        )
        site.users[username] = user["id"]
    identity.set_head(loom, sales, site.users["zhang.jingli"], actor=SYSTEM)
    records = loom.records()  # as the system: a rep may not set a customer's level
    owner = site.users["wang.fang"]
    customers = [
        ("苏州精工机械有限公司", "key", "prospect", "east", "manufacturing"),
        ("深圳云帆电子科技有限公司", "vip", "customer", "south", "electronics"),
        ("北京数智教育咨询有限公司", "normal", "lead", "north", "education"),
    ]
    for name, level, lifecycle, region, industry in customers:
        values = {
            "name": name,
            "level": level,
            "lifecycle": lifecycle,
            "region": region,
            "industry": industry,
        }
        found = records.create("customer", {**values, "owner": owner})
        site.customer_id = site.customer_id or found["id"]
    records.create(
        "contact", {"name": "李建国", "customer": site.customer_id, "title": "采购总监", "owner": owner}
    )
    records.create(
        "followup",
        {
            "subject": "电话沟通采购需求",
            "type": "call",
            "followup_at": "2026-11-20T02:00:00Z",
            "content": "客户计划明年一季度更新两条产线，希望下周看方案。",
            "customer": site.customer_id,
            "owner": owner,
        },
    )
    return site


@contextmanager
def serving(site: Site) -> Iterator[Site]:
    """The site's Loom served on a free local port in a thread, until the block ends."""
    app = create_app(site.loom, config={"SECRET_KEY": "browser-test-secret"})
    if "builder" not in app.blueprints:
        # A checkout not (re)installed since the builder's entry point was added lacks it.
        builder_ui.register(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield site
    finally:
        server.shutdown()
        thread.join()
        site.loom.close()


@pytest.fixture
def site(tmp_path: Path, database_templates: DatabaseTemplates) -> Iterator[Site]:
    database_templates.copy_sqlite(database_templates.crm_at_start, tmp_path / "loom.db")
    loom = Loom(f"sqlite:///{tmp_path / 'loom.db'}", built_registries=BUILT_REGISTRIES)
    loom.init()
    with serving(build_company(loom)) as company:
        yield company


@pytest.fixture
def builder_site(tmp_path: Path, database_templates: DatabaseTemplates) -> Iterator[Site]:
    """The company with an administrator, guan.li, who may use the builder."""
    database_templates.copy_sqlite(database_templates.crm_at_start, tmp_path / "loom.db")
    loom = Loom(f"sqlite:///{tmp_path / 'loom.db'}", built_registries=BUILT_REGISTRIES)
    loom.init()
    site = build_company(loom)
    admin = identity.create_user(loom, "guan.li", "管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
    site.users["guan.li"] = admin["id"]
    with serving(site) as company:
        yield company


@pytest.fixture(scope="session")
def chromium() -> Iterator:  # type: ignore[type-arg]
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Browser:
    """One user's browser tab: console errors collected, screenshots saved under test-artifacts/."""

    def __init__(self, chromium, site: Site, name: str, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        self.site = site
        self.name = name
        self.context = chromium.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str):  # type: ignore[no-untyped-def]
        """Go to a path of the site; returns the response (its status tells a refusal)."""
        return self.page.goto(self.site.url + path)

    def sign_in(self, username: str) -> None:
        self.open("/login")
        self.page.get_by_label(re.compile("用户名|Username")).fill(username)
        self.page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
        self.page.get_by_label(re.compile("密码|Password")).press("Enter")  # forms submit by keyboard
        self.page.wait_for_url(self.site.url + "/")

    def sign_out(self) -> None:
        self.page.get_by_role("button", name=re.compile("退出登录|Sign out")).click()
        self.page.wait_for_url(re.compile(r"/login"))

    def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def browser(chromium, site: Site, request: pytest.FixtureRequest) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    tab = Browser(chromium, site, _short(request), DESKTOP)
    yield tab
    tab.close()


@pytest.fixture
def open_browser(chromium, site: Site, request: pytest.FixtureRequest) -> Iterator:  # type: ignore[type-arg]
    """Open more tabs (another user, a phone-sized screen); all closed at the end."""
    tabs: list[Browser] = []

    def open_tab(label: str, viewport: dict[str, int] = DESKTOP) -> Browser:
        tab = Browser(chromium, site, f"{_short(request)}-{label}", viewport)
        tabs.append(tab)
        return tab

    yield open_tab
    for tab in tabs:
        tab.close()


def _short(request: pytest.FixtureRequest) -> str:
    """A screenshot's name: the test's, without its prefix, cut to a readable length."""
    return request.node.originalname.removeprefix("test_")[:48]
