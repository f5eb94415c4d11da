"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL (one parametrized fixture)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule

from engine.base.clock import Clock
from engine.base.settings import Settings
from engine.identity.passwords import CHEAP_HASHES_FOR_TESTS
from engine.loom import Loom
from engine.store.database import normalise_url
from tests.database_templates import BUILT_REGISTRIES, DatabaseTemplates, TemplateContent

# Hundreds of tests create users and sign them in: argon2 at its test profile, not 64 MiB a time.
# The tests of the production profile itself unset it (tests/engine/test_identity_users.py).
os.environ.setdefault(CHEAP_HASHES_FOR_TESTS, "1")


class CompiledTemplates(BytecodeCache):
    """Each page template compiled once a test process, where a thousand web apps are made."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


# A bucket is keyed by the template's name and checked against its source, so a changed template is
# compiled again. Every app's environment is made from these options (Flask.create_jinja_environment).
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": CompiledTemplates()}


def _compiled_url_rules() -> None:
    """Each URL rule compiled once a test process, not once per app (~25 ms an app).

    Compiling parses the rule into parts and converters and generates two builder functions; all
    of it follows from the rule's text, defaults and the map's converter classes. A builder reaches
    the converters only through the rule it is bound to, so only that binding is per rule.
    """
    compile_rule = Rule.compile
    compiled: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def cached(rule: Rule) -> None:
        assert rule.map is not None
        domain = (rule.host if rule.map.host_matching else rule.subdomain) or ""
        defaults = tuple(sorted((str(k), repr(v)) for k, v in (rule.defaults or {}).items()))
        converters = tuple(sorted(rule.map.converters.items()))
        key = (rule.rule, domain, rule.merge_slashes, defaults, converters)
        if key not in compiled:
            compile_rule(rule)
            compiled[key] = (
                rule._parts,
                rule._trace,
                rule._converters,
                rule._build.__func__,  # type: ignore[attr-defined]
                rule._build_unknown.__func__,  # type: ignore[attr-defined]
            )
            return
        parts, trace, converters_of_rule, build, build_unknown = compiled[key]
        rule._parts, rule._trace, rule._converters = list(parts), list(trace), dict(converters_of_rule)
        rule._build = build.__get__(rule, None)
        rule._build_unknown = build_unknown.__get__(rule, None)

    Rule.compile = cached  # type: ignore[method-assign]


_compiled_url_rules()

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
    """A fresh database: a SQLite file, or a PostgreSQL database (or schema, when empty) of its own.

    A test that uses `loom` gets it with Loom's tables made, and one that uses `crm` with the CRM
    installed too: a copy of a template built once per run, the same as making them again.
    """
    with fresh_database(request.param, _content_needed(request), tmp_path, database_templates) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def crm_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_templates: DatabaseTemplates
) -> Iterator[str]:
    """A fresh database with the CRM installed on the real clock, as `loom install` leaves it."""
    with fresh_database(request.param, database_templates.crm_at_start, tmp_path, database_templates) as url:
        yield url


@contextmanager
def fresh_database(
    kind: str, content: TemplateContent | None, tmp_path: Path, templates: DatabaseTemplates
) -> Iterator[str]:
    if kind == "sqlite":
        path = tmp_path / "loom.db"
        if content is not None:
            templates.copy_sqlite(content, path)
        yield f"sqlite:///{path}"
        return
    if content is not None:
        with templates.postgresql_copy(normalise_url(postgres_or_skip()), content) as url:
            yield url
        return
    with postgres_schema() as url:
        yield url


def _content_needed(request: pytest.FixtureRequest) -> TemplateContent | None:
    used = request.fixturenames
    if "loom" not in used:
        return None
    clock = request.getfixturevalue("clock")
    demo = DEMO_COMPANY_CUSTOMERS if "demo_company" in used else 0
    return TemplateContent(
        crm="crm" in used or demo > 0, now=clock.now(), timezone=str(clock.timezone), demo_customers=demo
    )


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a PostgreSQL schema of its own, dropped with everything in it afterwards."""
    base = normalise_url(postgres_or_skip())
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def another_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh, empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'another.db'}"
        return
    with postgres_schema() as url:
        yield url


S3_URL = os.environ.get("LOOM_TEST_S3_URL")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API server: $LOOM_TEST_S3_URL, or a local `moto_server` started for the module."""
    pytest.importorskip("boto3", reason="the S3 store needs boto3 (pip install 'loom-crm[s3]')")
    if S3_URL:
        yield S3_URL
        return
    server = shutil.which("moto_server")
    if server is None:
        pytest.skip("S3 store: set LOOM_TEST_S3_URL or put moto_server on PATH to run it")
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            if found := re.search(r"Running on (http://127\.0\.0\.1:\d+)", line):
                yield found.group(1)
                break
        else:
            pytest.fail("moto_server did not start")
    finally:
        process.terminate()
        process.wait()


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed with the parameters a deployment uses, for tests about those parameters."""
    monkeypatch.delenv(CHEAP_HASHES_FOR_TESTS, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 26, 9, 0, 0))


@pytest.fixture
def loom(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Loom]:
    # Uploaded files of every test go to its own folder, whichever database it runs on.
    settings = Settings.from_env(files_dir=str(tmp_path / "files"))
    instance = Loom(database_url, clock=clock, settings=settings, built_registries=BUILT_REGISTRIES)
    instance.init()
    yield instance
    instance.close()


@pytest.fixture
def crm(loom: Loom) -> Loom:
    """A database with the standard CRM package installed (copied from the run's template)."""
    return loom


# Enough customers for every CRM report to have figures, closed renewals included.
DEMO_COMPANY_CUSTOMERS = 30


@pytest.fixture
def demo_company(crm: Loom) -> Loom:
    """The CRM with the demo company of `DEMO_COMPANY_CUSTOMERS` customers (copied from a template)."""
    return crm


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
        "markers", "serial: runs alone, after the others (`make test` runs these in a second pass)"
    )
    config.addinivalue_line(
        "markers",
        "not_on_sqlite(reason): the SQLite variant is not collected; the reason is a documented limit",
    )
    config.addinivalue_line(
        "markers",
        "both_databases(reason): a page or builder test that also runs on PostgreSQL, for the reason given",
    )


# Pages and the builder are tested for what a browser gets; the engine under them, and the API with
# its filters and sorts, are tested on both databases. Their PostgreSQL variants would test the same
# statements a second time at a quarter of the suite's time, so they run on SQLite unless marked.
PAGE_TESTS = ("tests/builder/", "tests/runtime/test_pages_")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the variants a test does not need, instead of skipping them.

    The SQLite variant of a test about a documented SQLite limit, and the PostgreSQL variant of a
    page or builder test not marked `both_databases`.
    """
    kept, left_out = [], []
    for item in items:
        (left_out if _variant_not_needed(item) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def _variant_not_needed(item: pytest.Item) -> bool:
    parameters = item.nodeid.split("[", 1)[-1] if "[" in item.nodeid else ""
    if "sqlite" in parameters:
        return item.get_closest_marker("not_on_sqlite") is not None
    if "postgresql" in parameters and item.nodeid.startswith(PAGE_TESTS):
        return item.get_closest_marker("both_databases") is None
    return False
