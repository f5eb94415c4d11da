"""One job queue behind due work and the outbox: claim under a lease, retry with one backoff, dead letter.

A row waits as `pending` until a worker claims it. Claiming marks it with the queue's claimed status,
a lease (`locked_until`) and one more attempt, in one transaction, skipping rows another worker holds
(PostgreSQL's SKIP LOCKED). A worker that dies holding a row leaves its lease to expire, and the row
is claimed again. A failure puts the row back to `pending` after the backoff, until the last allowed
attempt leaves it `failed`: the dead letter, kept with its error for a person to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, Row, Table, select, update


def backoff(attempts: int) -> timedelta:
    """30 s after the first failed attempt, then 1 min, 2 min … capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class JobQueue:
    """A table of jobs with `status`, `attempts`, `locked_until`, `last_error` and a time it is due at."""

    table: Table
    due_column: str  # when a pending row may next be claimed
    claimed_status: str  # what a claimed row says while a worker holds it
    lease: timedelta

    def claim(self, conn: Connection, now: datetime, limit: int) -> list[Row]:
        """Take up to `limit` due rows, oldest first (and rows whose worker died holding them)."""
        table, due = self.table, self._due
        ready = (table.c.status == "pending") | (
            (table.c.status == self.claimed_status) & (table.c.locked_until < now)
        )
        query = select(table).where(ready, due <= now).order_by(due, table.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        if rows:
            conn.execute(
                update(table)
                .where(table.c.id.in_([row.id for row in rows]))
                .values(
                    status=self.claimed_status, locked_until=now + self.lease, attempts=table.c.attempts + 1
                )
            )
        return rows

    def fail(
        self, conn: Connection, row_id: int, attempts: int, max_attempts: int, now: datetime, error: str
    ) -> bool:
        """Record a failed attempt: retry after the backoff, or leave it failed after the last one.

        Returns whether this was the last attempt.
        """
        final = attempts >= max_attempts
        values = {
            "status": "failed" if final else "pending",
            "last_error": error[:2000],
            "locked_until": None,
        }
        if not final:
            values[self.due_column] = now + backoff(attempts)
        conn.execute(update(self.table).where(self.table.c.id == row_id).values(**values))
        return final

    @property
    def _due(self) -> Column:
        return self.table.c[self.due_column]
