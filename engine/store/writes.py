"""A count, per connection, of the statements that may have written: whether anything was
written on it since a moment, without asking the database."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, event

_KEY = "loom_writes"


def count_writes(engine: Engine) -> None:
    """Count, on each connection, every statement that is not a plain SELECT (conservatively: a
    SAVEPOINT or a WITH … SELECT counts too)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _counted(conn, _cursor, statement, _parameters, _context, _executemany):  # type: ignore[no-untyped-def]
        if not statement.startswith("SELECT"):
            saw_write(conn)


def writes_seen(conn: Connection) -> int:
    """How many statements that may write ran on this connection (compare two readings)."""
    return conn.info.get(_KEY, 0)


def saw_write(conn: Connection) -> None:
    """Count a write made past the engine's statements (COPY through the driver)."""
    conn.info[_KEY] = conn.info.get(_KEY, 0) + 1
