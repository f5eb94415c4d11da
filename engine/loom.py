"""A Loom instance: one database, its registry, clock, settings and services — no module-level globals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine

from engine.base.actors import SYSTEM, Actor
from engine.base.clock import Clock
from engine.base.errors import LoomError
from engine.base.events import EventBus
from engine.base.settings import Settings
from engine.expressions import EvalContext, FunctionRegistry, SqlContext
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.files import FileService
from engine.flows import FlowEngine
from engine.plugin_api import loaded_registries
from engine.records.report_cache import ReportCache
from engine.rules.actions import ActionRegistry
from engine.rules.engine import RulesEngine
from engine.schema.registry import Registry
from engine.store.database import open_database
from engine.store.documents import load_documents, metadata_version
from engine.store.system_tables import system_metadata
from engine.work.due_work import Handler
from engine.work.outbox import ChannelRegistry
from metadata.dashboards import DashboardSpec
from metadata.extension_layout import layouts_by_object
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec


class Loom:
    """Everything an engine call needs hangs off this object and is passed down explicitly."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        echo: bool = False,
    ) -> None:
        self.database_url = database_url
        self.db: Engine = open_database(database_url, echo=echo)
        self.clock = clock or Clock()
        self.settings = settings or Settings.from_env()
        self.events = EventBus()
        self.registries = loaded_registries()
        self.field_types: FieldTypeRegistry = self.registries.field_types
        self.functions: FunctionRegistry = self.registries.functions
        self.actions: ActionRegistry = self.registries.actions
        self.channels: ChannelRegistry = self.registries.channels
        # Each channel's own settings (SMTP server, webhook signing), read once from the environment.
        self.channel_settings: dict[str, Any] = {
            name: kind.from_env() for name in self.channels if (kind := self.channels.get(name).settings)
        }
        # Kinds of due work → the function that runs one item (rules, flow deadlines, reminders).
        self.due_handlers: dict[str, Handler] = {}
        self._registry: Registry | None = None
        self._registry_lock = threading.Lock()
        # Within `one_registry_check()`: the registry already checked against the store, if any.
        self._checked: ContextVar[list[Registry] | None] = ContextVar("loom_checked_registry", default=None)
        self.rules = RulesEngine(self)
        self.flows = FlowEngine(self, listener=self.rules)
        self.files = FileService(self)
        # Report results by report, parameters, reader's scope and data version (dashboards).
        self.reports = ReportCache(self)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all.

        An error may carry `after_rollback` effects (a rule's run-log entry explaining why the
        change was refused): they are written in a transaction of their own once the change
        has rolled back, so the explanation survives the failure it explains.
        """
        try:
            with self.db.begin() as conn:
                yield conn
        except LoomError as error:
            effects = getattr(error, "after_rollback", ())
            error.after_rollback = []  # type: ignore[attr-defined]
            for effect in effects:
                with self.db.begin() as conn:
                    effect(conn)
            raise

    @contextmanager
    def rehearsal(self) -> Iterator[Connection]:
        """A write transaction that is always rolled back: work done for real, to see what it does.

        On PostgreSQL it reads one snapshot, so rows others commit meanwhile are not taken for its own.
        """
        with self.db.connect() as raw:
            conn = raw
            if raw.dialect.name == "postgresql":
                conn = raw.execution_options(isolation_level="REPEATABLE READ")
            transaction = conn.begin()
            try:
                yield conn
            finally:
                transaction.rollback()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite it does not take the write lock)."""
        with self.db.connect() as raw:
            conn = raw.execution_options(loom_readonly=True)
            with conn.begin():
                yield conn

    def init(self) -> None:
        """Create Loom's own tables if they are missing; safe to run again."""
        with self.begin() as conn:
            system_metadata.create_all(conn)

    # -- registry -------------------------------------------------------------------------------

    @contextmanager
    def one_registry_check(self) -> Iterator[None]:
        """Inside the block (one web request) read transactions reuse the registry checked first.

        A write transaction still checks the store's version itself, so it never plans or writes
        against metadata another process has changed; forgetting the registry ends the reuse too.
        """
        token = self._checked.set([])
        try:
            yield
        finally:
            self._checked.reset(token)

    def registry_for(self, conn: Connection) -> Registry:
        """The registry at the store's current version, rebuilt when another process changed metadata."""
        checked = self._checked.get()
        reading = conn.get_execution_options().get("loom_readonly", False)
        if checked and reading and checked[0] is self._registry:
            return checked[0]
        registry = self._current_registry(conn)
        if checked is not None:
            checked[:] = [registry]
        return registry

    def _current_registry(self, conn: Connection) -> Registry:
        version = metadata_version(conn)
        registry = self._registry
        if registry is not None and registry.version == version:
            return registry
        with self._registry_lock:
            if self._registry is None or self._registry.version != version:
                objects = {doc.name: ObjectSpec.from_json(doc.body) for doc in load_documents(conn, "object")}
                rules = {doc.name: RuleSpec.from_json(doc.body) for doc in load_documents(conn, "rule")}
                roles = {doc.name: RoleSpec.from_json(doc.body) for doc in load_documents(conn, "role")}
                flows = {doc.name: FlowSpec.from_json(doc.body) for doc in load_documents(conn, "flow")}
                forms = {doc.name: FormSpec.from_json(doc.body) for doc in load_documents(conn, "form")}
                reports = {doc.name: ReportSpec.from_json(doc.body) for doc in load_documents(conn, "report")}
                dashboards = {
                    doc.name: DashboardSpec.from_json(doc.body) for doc in load_documents(conn, "dashboard")
                }
                packages = [doc.body for doc in load_documents(conn, "package")]
                self._registry = Registry(
                    objects,
                    self.field_types,
                    version,
                    rules,
                    roles,
                    flows,
                    forms=forms,
                    reports=reports,
                    layouts=layouts_by_object(packages),
                    dashboards=dashboards,
                )
            return self._registry

    @property
    def registry(self) -> Registry:
        checked = self._checked.get()
        if checked and checked[0] is self._registry:
            return checked[0]  # checked earlier in this request: no transaction just to look again
        with self.read() as conn:
            return self.registry_for(conn)

    def forget_registry(self) -> None:
        self._registry = None

    def contexts(self, actor: Actor = SYSTEM) -> tuple[EvalContext, SqlContext]:
        """Evaluation and SQL contexts for one call: the same moment, actor and functions in both."""
        now = self.clock.now()
        return (
            EvalContext(now=now, actor=actor, functions=self.functions, timezone=self.clock.timezone),
            SqlContext(
                now=now,
                actor=actor,
                functions=self.functions,
                dialect=self.db.dialect.name,
                timezone=self.clock.timezone,
            ),
        )

    # -- services ---------------------------------------------------------------------------------

    def records(self, actor: Actor = SYSTEM, conn: Connection | None = None):  # type: ignore[no-untyped-def]
        from engine.records.service import RecordService

        return RecordService(self, actor, conn)

    def queries(self, actor: Actor = SYSTEM, conn: Connection | None = None):  # type: ignore[no-untyped-def]
        from engine.records.queries import QueryService

        return QueryService(self, actor, conn)

    def close(self) -> None:
        self.db.dispose()
