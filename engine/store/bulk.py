"""Many rows into one table in a single driver call: executemany on SQLite, COPY on PostgreSQL.

Rows are plain tuples already in database form (each column's bind conversion applied by the
caller). On PostgreSQL a statement per row, even pipelined, costs several times the rows' own
insert; COPY streams them in the same transaction, and a constraint a row breaks still fails the
whole statement. A few rows go as one statement: starting a COPY costs more than they do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.store.writes import saw_write

COPY_FROM_ROWS = 20


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` within the connection's transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        _copy(conn, f"COPY {quote(table)} ({names}) FROM STDIN", rows)
        return
    conn.exec_driver_sql(insert_statement(conn, table, columns), list(rows))


def insert_statement(conn: Connection, table: str, columns: Sequence[str]) -> str:
    """INSERT INTO the table's columns, with the driver's own parameter markers."""
    return _insert_text(conn.dialect.name, conn.dialect.identifier_preparer.quote, table, tuple(columns))


@lru_cache(maxsize=1024)
def _insert_text(dialect: str, quote: Callable[[str], str], table: str, columns: tuple[str, ...]) -> str:
    # Kept per table and columns: every save writes its record and audit rows through it.
    names = ", ".join(quote(name) for name in columns)
    marker = "?" if dialect == "sqlite" else "%s"
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join([marker] * len(columns))})"


def _copy(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    saw_write(conn)  # past the engine's statements, so counted here
    driver = conn.connection.driver_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi_error as error:
        # Raised as SQLAlchemy raises a statement's error, so callers and the web layer's handler
        # (a lost server is a 503, not a 500) see it the same whichever way the rows went.
        lost = conn.dialect.is_disconnect(error, driver, None)
        raise DBAPIError.instance(
            statement, None, error, dbapi_error, connection_invalidated=lost, dialect=conn.dialect
        ) from error
