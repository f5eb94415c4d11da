"""Databases built once per test run and copied for each test: Loom's tables, and the CRM installed.

Installing the CRM takes one to two seconds and hundreds of tests start from it (loading the demo
company, several more); copying a SQLite file or creating a PostgreSQL database from a template
takes a few hundredths.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from engine.base.clock import Clock
from engine.base.settings import Settings
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.schema.built_registries import BuiltRegistries
from runtime.demo.data import load_demo_data

# Most tests start from a copy of one of these templates: each registry is built once a test process.
BUILT_REGISTRIES = BuiltRegistries()


@dataclass(frozen=True)
class TemplateContent:
    """What a template holds: Loom's tables, the CRM if `crm`, made at the test clock's moment.

    With `demo_customers`, the CRM also holds the demo company of that many customers.
    """

    crm: bool
    now: datetime
    timezone: str
    demo_customers: int = 0


class DatabaseTemplates:
    """The run's templates, made on first use: SQLite files in `folder`, PostgreSQL databases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        clock = Clock()
        # For tests on the real clock (served pages): the CRM as installed when the run began.
        self.crm_at_start = TemplateContent(crm=True, now=clock.now(), timezone=str(clock.timezone))
        self.run = uuid.uuid4().hex[:8]
        self.sqlite_files: dict[TemplateContent, Path] = {}
        self.templates: dict[tuple[str, TemplateContent], str] = {}
        self.ahead: dict[tuple[str, TemplateContent], list[Future[str]]] = {}
        # One thread: templates are made and copied in order, never two CREATE DATABASE at once.
        self.background = ThreadPoolExecutor(1)
        self.admins: dict[str, Engine] = {}

    def copy_sqlite(self, content: TemplateContent, path: Path) -> None:
        if content not in self.sqlite_files:
            template = self.folder / f"template_{len(self.sqlite_files)}.db"
            fill(f"sqlite:///{template}", content, self.folder)
            # Closing the last connection checkpoints the write-ahead log into the file.
            assert not template.with_name(template.name + "-wal").exists()
            self.sqlite_files[content] = template
        shutil.copyfile(self.sqlite_files[content], path)

    @contextmanager
    def postgresql_copy(self, base: str, content: TemplateContent) -> Iterator[str]:
        """A database of its own created from the template, dropped after the test.

        The next copy is made in the background while this test runs, and this one is dropped in
        the background after it: the server does that work while the test's process does its own.
        """
        key = (base, content)
        if not self.ahead.get(key):
            self.ahead.setdefault(key, []).append(self.background.submit(self._create_copy, key))
        name = self.ahead[key].pop(0).result()
        self.ahead[key].append(self.background.submit(self._create_copy, key))
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            self.background.submit(self._drop, base, name)

    def drop_all(self) -> None:
        for (base, _content), copies in self.ahead.items():
            for copy in copies:
                self._drop(base, copy.result())
        self.background.shutdown(wait=True)
        for (base, _content), name in self.templates.items():
            self._drop(base, name)
        for admin in self.admins.values():
            admin.dispose()

    def _create_copy(self, key: tuple[str, TemplateContent]) -> str:
        base, content = key
        template = self._postgresql_template(base, content)
        name = f"{make_url(base).database}_{self.run}_{uuid.uuid4().hex[:10]}"
        # Made ahead in the background, a copy may be asked for while one test restarts the server.
        for attempt in range(30):
            try:
                with self._admin(base).connect() as conn:
                    strategy = _copy_strategy(conn)
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}'))
                return name
            except OperationalError:
                if attempt == 29:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")

    def _drop(self, base: str, name: str) -> None:
        with self._admin(base).connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _postgresql_template(self, base: str, content: TemplateContent) -> str:
        key = (base, content)
        if key not in self.templates:
            name = f"{make_url(base).database}_{self.run}_template_{len(self.templates)}"
            with self._admin(base).connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            self.templates[key] = name
            fill(
                make_url(base).set(database=name).render_as_string(hide_password=False), content, self.folder
            )
        return self.templates[key]

    def _admin(self, base: str) -> Engine:
        if base not in self.admins:
            # CREATE and DROP DATABASE cannot run inside a transaction. No pooled connection: one
            # test restarts the server, and a kept connection would be dead for the next copy.
            self.admins[base] = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        return self.admins[base]


def _copy_strategy(conn: Connection) -> str:
    # From PostgreSQL 15 a copy is written through the log by default; copying the template's files
    # is faster for a database this small.
    return " STRATEGY FILE_COPY" if conn.dialect.server_version_info >= (15,) else ""


def fill(url: str, content: TemplateContent, folder: Path) -> None:
    settings = Settings.from_env(files_dir=str(folder / "files"))
    loom = Loom(url, clock=Clock(content.now, timezone=content.timezone), settings=settings)
    try:
        loom.init()
        if content.crm:
            install_package(loom, CRM_PACKAGE)
        if content.demo_customers:
            load_demo_data(loom, customers=content.demo_customers)
    finally:
        loom.close()
