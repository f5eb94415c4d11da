"""A Loom instance: one database, its registry, clock, settings and services — no module-level globals."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction, inspect
from sqlalchemy.exc import DBAPIError

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
from engine.schema.built_registries import BuiltRegistries
from engine.schema.registry import Registry
from engine.store.database import open_database
from engine.store.documents import StoredDocument, load_documents, metadata_version
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
        built_registries: BuiltRegistries | None = None,
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
        # Shared with other Looms of this process whose databases hold the same metadata, if given.
        self.built_registries = built_registries
        self._registry_lock = threading.Lock()
        # Within `one_request()`: the registry checked and the read transaction shared by its reads.
        self._request: ContextVar[_Request | None] = ContextVar("loom_request", default=None)
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
        request = self._request.get()
        try:
            with request.writing() if request is not None else self.db.begin() as conn:
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
        """A read-only transaction (on SQLite it does not take the write lock).

        Within `one_request()` the request's reads share one, until a write transaction begins.
        """
        request = self._request.get()
        with request.reading() if request is not None else _read_alone(self.db) as conn:
            yield conn

    def init(self) -> None:
        """Create Loom's own tables if they are missing; safe to run again.

        Every process start runs it: one look at the catalogue, and the write lock only when a table
        is missing (checking the tables one by one cost a statement each).
        """
        with _read_alone(self.db) as conn:
            present = set(inspect(conn).get_table_names())
        if not present.issuperset(system_metadata.tables):
            with self.begin() as conn:
                system_metadata.create_all(conn)

    # -- registry -------------------------------------------------------------------------------

    @contextmanager
    def one_request(self, *, saves: bool = False) -> Iterator[None]:
        """Inside the block (one web request) reads share one read transaction and registry check,
        and reads and writes one connection.

        A write transaction ends the shared read (on PostgreSQL it goes on in it), so what is read
        after it sees the write; it still checks the store's version itself, so it never plans or
        writes against metadata another process has changed. Forgetting the registry ends the
        reuse too. `saves`: the request is there to save at once (an API create, update or
        delete); on SQLite its first transaction then takes the write lock from its start, so the
        save goes on in it and the version read at its start still holds.
        """
        request = _Request(self.db, saves=saves)
        token = self._request.set(request)
        try:
            yield
        finally:
            self._request.reset(token)
            request.close()

    def registry_for(self, conn: Connection) -> Registry:
        """The registry at the store's current version, rebuilt when another process changed metadata."""
        request = self._request.get()
        if request is not None and request.registry is self._registry is not None and request.holds(conn):
            return request.registry
        registry = self._current_registry(conn)
        if request is not None:
            request.registry = registry
            request.checked_on(conn)
        return registry

    def saw_version(self, conn: Connection, version: int) -> None:
        """The store's version as a statement of the request just read it on `conn` (with what it
        read first): the request's registry check, without reading the version again."""
        request = self._request.get()
        if request is not None and request.holds(conn):
            request.registry = self._registry_at(conn, version)
            request.checked_on(conn)

    def _current_registry(self, conn: Connection) -> Registry:
        return self._registry_at(conn, metadata_version(conn))

    def _registry_at(self, conn: Connection, version: int) -> Registry:
        registry = self._registry
        if registry is not None and registry.version == version:
            return registry
        with self._registry_lock:
            if self._registry is None or self._registry.version != version:
                documents = load_documents(conn)
                build, built = partial(self._build_registry, version, documents), self.built_registries
                self._registry = (
                    build() if built is None else built.registry(version, documents, self.field_types, build)
                )
            return self._registry

    def _build_registry(self, version: int, documents: list[StoredDocument]) -> Registry:
        bodies: dict[str, dict[str, dict]] = defaultdict(dict)
        for doc in documents:
            bodies[doc.kind][doc.name] = doc.body

        def specs(kind: str, spec: Any) -> dict[str, Any]:
            return {name: spec.from_json(body) for name, body in bodies[kind].items()}

        return Registry(
            specs("object", ObjectSpec),
            self.field_types,
            version,
            specs("rule", RuleSpec),
            specs("role", RoleSpec),
            specs("flow", FlowSpec),
            forms=specs("form", FormSpec),
            reports=specs("report", ReportSpec),
            layouts=layouts_by_object(list(bodies["package"].values())),
            dashboards=specs("dashboard", DashboardSpec),
        )

    @property
    def registry(self) -> Registry:
        request = self._request.get()
        if request is not None and request.registry is self._registry is not None:
            return request.registry  # checked earlier in this request: no transaction just to look again
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


class _Request:
    """One request's connection, used in turn by its reads (one read transaction for all of them, until
    a write) and its writes; and the registry it checked."""

    def __init__(self, engine: Engine, *, saves: bool = False) -> None:
        self.registry: Registry | None = None
        self._engine = engine
        self._connection: Connection | None = None
        # SQLite: the next transaction opened takes the write lock at once (BEGIN IMMEDIATE).
        self._lock_first = saves and engine.dialect.name == "sqlite"
        self._locked = False  # the open transaction has held the write lock since it began
        self._checked_here = False  # the open transaction read the store's version for the request
        self._read_open = False  # a read transaction is open on the connection
        self._depth = 0  # read blocks inside it now
        self._stale = False  # a write began since it opened: end it once no block uses it
        self._failed = False  # a statement of it failed: roll it back
        self._writing = 0  # write transactions open now, on the connection or not

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        if not self._read_open and self._writing:
            # A snapshot taken while a write is open would not see that write once it commits.
            with _read_alone(self._engine) as conn:
                yield conn
            return
        if not self._read_open:
            self._connected().execution_options(loom_readonly=not self._lock_first).begin()
            self._read_open, self._stale, self._failed = True, False, False
            self._locked, self._checked_here = self._lock_first, False
        self._depth += 1
        try:
            yield self._connected()
        except BaseException:
            # On PostgreSQL a failed statement spoils the whole transaction: start afresh after it.
            self._stale = self._failed = True
            raise
        finally:
            self._depth -= 1
            if self._depth == 0 and self._stale:
                self._end_read()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        # What is read once the write commits must see it: the snapshot read so far would not.
        self._stale = True
        self._lock_first = False  # reads after the save need no lock
        self._writing += 1
        try:
            if self._depth and self._locked:
                # Inside a read block that holds SQLite's write lock: a connection of its own would
                # wait for it. The write commits with that block's transaction.
                conn = self._connected()
                with conn.begin_nested():
                    yield conn
                return
            if self._depth or self._writing > 1:
                # Inside a read block, or beside another write: a connection of its own.
                with self._engine.begin() as conn:
                    yield conn
                return
            continued = self._continued_read()
            if continued is None:
                self._end_read()
            try:
                conn = self._connected().execution_options(loom_readonly=False)
                with continued if continued is not None else conn.begin():
                    yield conn
                self._locked = self._checked_here = False
            except BaseException:
                self.close()  # rolled back; if the server went away, the next use connects afresh
                raise
        finally:
            self._writing -= 1

    def holds(self, conn: Connection) -> bool:
        """Whether `conn` reads the store's version as this request checked it: a read of the
        request's; its transaction that has held SQLite's write lock since it began; or, on
        PostgreSQL, the read transaction a write goes on in, where the version was read (at READ
        COMMITTED reading it again would narrow, not close, the moment in which another process
        can change metadata before the write, as reading it once in a request does)."""
        if conn.get_execution_options().get("loom_readonly", False):
            return True
        return (self._locked or self._checked_here) and conn is self._connection

    def checked_on(self, conn: Connection) -> None:
        """The request read the store's version on `conn`."""
        self._checked_here = conn is self._connection and self._read_open

    def _continued_read(self) -> RootTransaction | None:
        """The open read transaction, for a write to continue, where that shows the write nothing
        older than a transaction of its own would: PostgreSQL at READ COMMITTED takes a snapshot
        per statement, and a SQLite transaction that took the write lock at its start saw every
        commit before it. It spares a COMMIT and a BEGIN (two round trips on PostgreSQL)."""
        if not self._read_open:  # a read that failed has ended already
            return None
        dialect = self._engine.dialect
        per_statement = dialect.name == "postgresql" and dialect.default_isolation_level == "READ COMMITTED"
        if not (per_statement or self._locked):
            return None
        self._read_open = False
        return self._connected().get_transaction()

    def close(self) -> None:
        try:
            self._end_read()
        except DBAPIError:
            pass  # the server went away after the last read: nothing is lost, the pool drops it
        finally:
            connection, self._connection = self._connection, None
            self._read_open = self._locked = self._checked_here = False
            if connection is not None:
                connection.close()

    def _connected(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _end_read(self) -> None:
        if self._read_open and self._connection is not None:
            # A read transaction: committing it changes nothing, and unlike a rollback it keeps
            # the statements psycopg has prepared on the connection (a rollback forgets them all,
            # so on PostgreSQL every statement would be planned afresh in every request).
            if self._failed:
                self._connection.rollback()
            else:
                self._connection.commit()
        self._read_open = self._locked = self._checked_here = False


@contextmanager
def _read_alone(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as raw:
        conn = raw.execution_options(loom_readonly=True)
        with conn.begin():
            yield conn
