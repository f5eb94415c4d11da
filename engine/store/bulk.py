"""Many rows into one table in a single driver call: executemany on SQLite, COPY on PostgreSQL.

Rows are plain tuples already in database form (each column's bind conversion applied by the
caller). On PostgreSQL a statement per row, even pipelined, costs several times the rows' own
insert; COPY streams them in the same transaction, and a constraint a row breaks still fails the
whole statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` within the connection's transaction."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    markers = ", ".join([marker] * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {quote(table)} ({names}) VALUES ({markers})", list(rows))
