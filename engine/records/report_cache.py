"""Report results kept in memory, so a dashboard opened by fifty managers runs each report once.

A result is kept under its report, parameter values, extra filter, the reader's effective
scope (their roles, and per object read only what its read scope depends on: nothing for
`all`, the department for `department`, the department's path for `department_and_below`,
the user for `own` or when records are shared with them), the business date (relative
periods move with it), the metadata version and the data version of every object it reads:
the report's object and the objects its group labels come from. A record written, deleted or
restored moves its object's data version once the write commits, so the next run reads
afresh. The cache is per process: a write made by another process is seen when its entries
expire (`ttl` seconds), as are changes no record event announces (a share, a user moved to
another department).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.base.actors import Actor
from engine.base.clock import business_date
from engine.base.errors import UnknownReport
from engine.base.events import RecordEvent
from engine.identity.permissions import access_for, has_shares
from engine.records.report_access import shared_with
from engine.records.reports import ReportResult, run_report
from engine.schema.registry import Registry
from metadata.reports import ReportSpec

if TYPE_CHECKING:
    from engine.loom import Loom

# Connection info keys (one pair per cache): objects written in the open transaction, and in
# transactions committed since the connection was taken from the pool.
TOUCHED = "loom_report_touched"
COMMITTED = "loom_report_committed"
DEFAULT_TTL = 60.0
DEFAULT_SIZE = 1024


class ReportCache:
    """Report results by report, parameters, scope and data version; least recently used go first."""

    def __init__(
        self,
        loom: Loom,
        *,
        ttl: float = DEFAULT_TTL,
        size: int = DEFAULT_SIZE,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loom = loom
        self.ttl = ttl
        self.size = size
        self.timer = timer
        self.hits = 0
        self.misses = 0
        self._versions: dict[str, int] = {}
        self._entries: OrderedDict[tuple, tuple[float, ReportResult]] = OrderedDict()
        self._lock = threading.Lock()
        self._read_objects: tuple[int, frozenset[str]] | None = None
        self._touched_key, self._committed_key = (TOUCHED, id(self)), (COMMITTED, id(self))
        for event in ("after_save", "after_delete", "after_restore"):
            loom.events.subscribe(event, self._touched, self._reads)
        sa.event.listen(loom.db, "commit", self._committed)
        sa.event.listen(loom.db, "rollback", self._rolled_back)
        sa.event.listen(loom.db.pool, "checkin", self._returned)

    def run(
        self,
        report: str,
        actor: Actor,
        *,
        filter: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> ReportResult:
        """The report's result as `run_report` gives it, from memory when nothing it reads has changed."""
        registry = self.loom.registry
        spec = registry.report(report)
        if not shared_with(registry, actor, spec):
            # Before the cache: a reader with the same scope must not be handed another's private report.
            raise UnknownReport(spec.name)
        with self.loom.read() as conn:
            key = self._key(conn, registry, spec, actor, filter, parameters or {})
        now = self.timer()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
        result = run_report(self.loom, report, actor, filter=filter, parameters=parameters)
        with self._lock:
            self.misses += 1
            self._entries[key] = (now, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _key(
        self,
        conn: sa.Connection,
        registry: Registry,
        spec: ReportSpec,
        actor: Actor,
        filter: str | None,
        parameters: Mapping[str, str],
    ) -> tuple:
        today = business_date(self.loom.clock.now(), self.loom.clock.timezone)
        objects = sorted(report_reads(registry, spec))
        scope = scope_key(conn, registry, actor, objects)
        values = set(parameters.values()) | {p.default for p in spec.parameters if p.default}
        if "me" in values:
            scope += (("me", actor.user_id),)
        if values & {"my_team", "mine"}:
            scope += (("team", actor.department_path),)
        with self._lock:
            versions = tuple(self._versions.get(name, 0) for name in objects)
        return (
            registry.version,
            spec.name,
            tuple(sorted(parameters.items())),
            filter,
            scope,
            today,
            versions,
        )

    # -- invalidation -----------------------------------------------------------------------------

    def _reads(self, registry: Any, object_name: str) -> bool:
        """Whether some report reads this object: writes to others need no notice."""
        if registry is None:
            return True
        cached = self._read_objects
        if cached is None or cached[0] != registry.version:
            names: set[str] = set()
            for name in registry.reports():
                names |= report_reads(registry, registry.report(name))
            cached = self._read_objects = (registry.version, frozenset(names))
        return object_name in cached[1]

    def _touched(self, event: RecordEvent) -> None:
        event.conn.info.setdefault(self._touched_key, set()).add(event.object)

    def _committed(self, conn: sa.Connection) -> None:
        # Fired just before the database commits: a reader now would still see the old rows,
        # so the versions move only once the connection is handed back, after the commit.
        if conn.invalidated:
            return  # the commit will fail: nothing was written
        touched = conn.info.pop(self._touched_key, None)
        if touched:
            conn.info.setdefault(self._committed_key, set()).update(touched)

    def _rolled_back(self, conn: sa.Connection) -> None:
        # A connection the server ended (a restart) has lost its info with it; asking for it
        # would raise in place of the database error the caller must see.
        if not conn.invalidated:
            conn.info.pop(self._touched_key, None)

    def _returned(self, dbapi_connection: Any, record: Any) -> None:
        committed = record.info.pop(self._committed_key, None) if record is not None else None
        if committed:
            with self._lock:
                for name in committed:
                    self._versions[name] = self._versions.get(name, 0) + 1


def scope_key(conn: sa.Connection, registry: Registry, actor: Actor, objects: list[str]) -> tuple:
    """What the records and labels a reader sees of these objects depend on, and nothing more:
    two managers of one team with the same roles share it."""
    if actor.is_system:
        return ("system",)
    parts: list[Any] = [tuple(sorted(actor.roles))]
    for name in objects:
        access = access_for(registry, actor, name)
        scope = "all" if access.unrestricted else access.scopes.get("read")
        if scope in (None, "all"):
            parts.append((name, scope))
            continue
        if scope == "own" or actor.department_id is None:
            piece: Any = ("user", actor.user_id)
        elif scope == "department":
            piece = ("department", actor.department_id)
        else:
            piece = ("below", actor.department_path)
        shared = actor.user_id if has_shares(conn, registry.object(name), actor) else None
        parts.append((name, scope, piece, shared))
    return tuple(parts)


def report_reads(registry: Registry, spec: ReportSpec) -> set[str]:
    """The objects a report's figures and labels come from: its own and its lookup groups' targets."""
    names = {spec.object}
    model = registry.objects.get(spec.object)
    if model is None:
        return names
    for group in spec.group_by:
        field = model.fields.get(group.field)
        if field is not None and field.type == "lookup":
            names.add(field.param("target"))
    return names
