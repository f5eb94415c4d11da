"""Due work: rows in Loom's own table saying what must happen when (rule schedules, date offsets,
reminders, flow deadlines). Written in the transaction that made the work due; claimed and run
by the worker; visible to anyone who reads the table. Nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.rules.runlog import RunEntry, watch_failures
from engine.store.system_tables import due_work
from engine.work.queue import JobQueue

if TYPE_CHECKING:
    from engine.loom import Loom

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
QUEUE = JobQueue(due_work, due_column="due_at", claimed_status="running", lease=LEASE)


@dataclass(frozen=True)
class DueItem:
    id: int
    key: str
    kind: str
    ref: Mapping[str, Any]
    due_at: datetime
    attempts: int


Handler = Callable[["Loom", DueItem], None]


def schedule(
    conn: Connection, key: str, kind: str, ref: Mapping[str, Any], due_at: datetime, now: datetime
) -> None:
    """Make `key` due at `due_at` (pending), replacing whatever was due under that key."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = {
        "key": key,
        "kind": kind,
        "ref": dict(ref),
        "due_at": due_at,
        "status": "pending",
        "attempts": 0,
        "locked_until": None,
        "last_error": None,
        "created_at": now,
        "finished_at": None,
    }
    statement = insert(due_work).values(**values)
    changed = {
        name: statement.excluded[name]
        for name in (
            "kind",
            "ref",
            "due_at",
            "status",
            "attempts",
            "locked_until",
            "last_error",
            "finished_at",
        )
    }
    conn.execute(statement.on_conflict_do_update(index_elements=[due_work.c.key], set_=changed))


def cancel(conn: Connection, key: str) -> None:
    conn.execute(delete(due_work).where(due_work.c.key == key, due_work.c.status != "running"))


def cancel_prefix(conn: Connection, prefix: str) -> None:
    conn.execute(delete(due_work).where(due_work.c.key.startswith(prefix, autoescape=True)))


def claim(conn: Connection, now: datetime, limit: int = 100) -> list[DueItem]:
    """Take due rows (and rows whose worker died holding them) for this worker, oldest first."""
    rows = QUEUE.claim(conn, now, limit)
    return [DueItem(row.id, row.key, row.kind, row.ref, row.due_at, row.attempts + 1) for row in rows]


def finish(conn: Connection, item: DueItem, now: datetime) -> None:
    """Mark done — unless the work was re-scheduled under the same key while it ran."""
    conn.execute(
        update(due_work)
        .where(due_work.c.id == item.id, due_work.c.status == "running", due_work.c.due_at == item.due_at)
        .values(status="done", finished_at=now, locked_until=None)
    )


def fail(conn: Connection, item: DueItem, now: datetime, error: str) -> None:
    """Retry after the queue's backoff, up to MAX_ATTEMPTS; then leave it failed for a person to look at."""
    QUEUE.fail(conn, item.id, item.attempts, MAX_ATTEMPTS, now, error)


@dataclass
class DueReport:
    """What one call of `run_due` did: items run, items that raised, and rule runs that failed or
    were stopped as a loop (a scheduled rule logs those and carries on with its other records)."""

    ran: int = 0
    errors: list[tuple[DueItem, str]] = field(default_factory=list)
    rule_failures: list[RunEntry] = field(default_factory=list)

    @property
    def failed(self) -> list[RunEntry]:
        return [entry for entry in self.rule_failures if entry.status == "failed"]

    @property
    def stopped(self) -> list[RunEntry]:
        return [entry for entry in self.rule_failures if entry.status == "stopped"]


def run_due(
    loom: Loom, handlers: Mapping[str, Handler], limit: int = 100, report: DueReport | None = None
) -> int:
    """Claim due work and run each item; returns how many ran, and fills `report` if given.

    A handler calls `finish` itself, in the same transaction as its last effect, so a worker
    that dies in between leaves work that runs again rather than work that is lost or doubled.
    """
    report = report if report is not None else DueReport()
    with loom.begin() as conn:
        items = claim(conn, loom.clock.now(), limit)
    with watch_failures() as failures:
        for item in items:
            handler = handlers.get(item.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for due work of kind {item.kind!r}")
                handler(loom, item)
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                report.errors.append((item, message))
                with loom.begin() as conn:
                    fail(conn, item, loom.clock.now(), message)
    report.ran += len(items)
    report.rule_failures.extend(failures)
    return len(items)
