"""Driver-level writes of the import's own bookkeeping rows (keys, items).

An import writes a key row per duplicate rule and an item row for every record it touches;
going through SQLAlchemy's per-row parameter processing for those would cost more than the
records themselves, so the values go to the driver as plain tuples, the way the records do
(`engine.store.bulk`): COPY on PostgreSQL, where a multi-row INSERT of 500 rows spent most of
its time in psycopg splitting the statement's thousands of placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from engine.store.bulk import insert_rows


def insert_tuples(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in `columns` order; values must already be in database form."""
    insert_rows(conn, table.name, columns, rows)
