"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL (one parametrized fixture)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from engine.clock import Clock
from engine.database import normalise_url
from engine.loom import Loom
from engine.settings import Settings
from tests.database_templates import DatabaseTemplates, TemplateContent, empty_postgresql_schema

POSTGRES_URL = os.environ.get("LOOM_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
FIXTURES = Path(__file__).parent / "fixtures"


def postgres_or_skip() -> str:
    """The PostgreSQL URL; outside CI a missing server skips with a reason, in CI it fails."""
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI must run the PostgreSQL tests but LOOM_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL variant: set LOOM_TEST_POSTGRES_URL to run it (CI always does)")


def nothing_listening() -> str:
    """A PostgreSQL URL on a loopback port where no server listens: a database that cannot be reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://loom:loom@127.0.0.1:{port}/loom"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_templates: DatabaseTemplates
) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL database of its own.

    A test that uses `loom` gets it with Loom's tables made, and one that uses `crm` with the CRM
    installed too: a copy of a template built once per run, the same as making them again.
    """
    content = _content_needed(request)
    if request.param == "sqlite":
        path = tmp_path / "loom.db"
        if content is not None:
            database_templates.copy_sqlite(content, path)
        yield f"sqlite:///{path}"
        return
    base = normalise_url(postgres_or_skip())
    if content is not None:
        with database_templates.postgresql_copy(base, content) as url:
            yield url
        return
    with empty_postgresql_schema(base) as url:
        yield url


def _content_needed(request: pytest.FixtureRequest) -> TemplateContent | None:
    used = request.fixturenames
    if "loom" not in used:
        return None
    clock = request.getfixturevalue("clock")
    return TemplateContent(crm="crm" in used, now=clock.now(), timezone=str(clock.timezone))


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 26, 9, 0, 0))


@pytest.fixture
def loom(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Loom]:
    # Uploaded files of every test go to its own folder, whichever database it runs on.
    settings = Settings.from_env(files_dir=str(tmp_path / "files"))
    instance = Loom(database_url, clock=clock, settings=settings)
    instance.init()
    yield instance
    instance.close()


@pytest.fixture
def crm(loom: Loom) -> Loom:
    """A database with the standard CRM package installed (copied from the run's template)."""
    return loom


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database, so a CI log shows PostgreSQL really ran."""
    counts = {"sqlite": 0, "postgresql": 0}
    skipped = {"sqlite": 0, "postgresql": 0}
    for outcome, bucket in (("passed", counts), ("failed", counts), ("skipped", skipped)):
        for report in terminalreporter.stats.get(outcome, []):
            for database in bucket:
                if f"[{database}" in report.nodeid or f"-{database}]" in report.nodeid:
                    bucket[database] += 1
    terminalreporter.write_line(
        f"databases: {counts['sqlite']} tests ran on SQLite, {counts['postgresql']} on PostgreSQL "
        f"({skipped['postgresql']} PostgreSQL variants skipped)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "not_on_sqlite(reason): the SQLite variant is not collected; the reason is a documented limit",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out SQLite variants of tests about a documented SQLite limit, instead of skipping them."""
    kept, left_out = [], []
    for item in items:
        limited = item.get_closest_marker("not_on_sqlite") is not None
        (left_out if limited and "sqlite" in item.nodeid.split("[", 1)[-1] else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
