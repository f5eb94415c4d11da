"""A Loom instance: one database, its registry, clock, settings and services — no module-level globals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from engine.actors import SYSTEM, Actor
from engine.clock import Clock
from engine.database import open_database
from engine.events import EventBus
from engine.expressions import EvalContext, FunctionRegistry, SqlContext, default_functions
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.metadata_store import load_documents, metadata_version
from engine.plugin_api import PluginContext, load_plugins
from engine.registry import Registry
from engine.system_tables import system_metadata
from metadata.specs import ObjectSpec


class Loom:
    """Everything an engine call needs hangs off this object and is passed down explicitly."""

    def __init__(self, database_url: str, *, clock: Clock | None = None, echo: bool = False) -> None:
        self.database_url = database_url
        self.db: Engine = open_database(database_url, echo=echo)
        self.clock = clock or Clock()
        self.events = EventBus()
        self.field_types = FieldTypeRegistry()
        self.functions: FunctionRegistry = default_functions()
        self.plugins = load_plugins(PluginContext(self.field_types, self.functions))
        self._registry: Registry | None = None
        self._registry_lock = threading.Lock()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all."""
        with self.db.begin() as conn:
            yield conn

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

    def registry_for(self, conn: Connection) -> Registry:
        """The registry at the store's current version, rebuilt when another process changed metadata."""
        version = metadata_version(conn)
        registry = self._registry
        if registry is not None and registry.version == version:
            return registry
        with self._registry_lock:
            if self._registry is None or self._registry.version != version:
                objects = {doc.name: ObjectSpec.from_json(doc.body) for doc in load_documents(conn, "object")}
                self._registry = Registry(objects, self.field_types, version)
            return self._registry

    @property
    def registry(self) -> Registry:
        with self.read() as conn:
            return self.registry_for(conn)

    def forget_registry(self) -> None:
        self._registry = None

    def contexts(self, actor: Actor = SYSTEM) -> tuple[EvalContext, SqlContext]:
        """Evaluation and SQL contexts for one call: the same moment, actor and functions in both."""
        now = self.clock.now()
        return (
            EvalContext(now=now, actor=actor, functions=self.functions),
            SqlContext(now=now, actor=actor, functions=self.functions, dialect=self.db.dialect.name),
        )

    # -- services ---------------------------------------------------------------------------------

    def records(self, actor: Actor = SYSTEM, conn: Connection | None = None):  # type: ignore[no-untyped-def]
        from engine.records import RecordService

        return RecordService(self, actor, conn)

    def queries(self, actor: Actor = SYSTEM, conn: Connection | None = None):  # type: ignore[no-untyped-def]
        from engine.queries import QueryService

        return QueryService(self, actor, conn)

    def close(self) -> None:
        self.db.dispose()
