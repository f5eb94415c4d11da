"""Driver-level executemany for the import's own bookkeeping rows (keys, items).

An import writes a key row per duplicate rule and an item row for every record it touches;
going through SQLAlchemy's per-row parameter processing for those would cost more than the
records themselves, so the values are passed to the driver as plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

CHUNK = 500


def insert_tuples(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in `columns` order; values must already be in database form."""
    if not rows:
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(columns)
    one = f"({', '.join([marker] * len(columns))})"
    if conn.dialect.name == "postgresql":
        # One multi-row INSERT per chunk: a network round trip per row would dominate.
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            flat = tuple(value for row in chunk for value in row)
            conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) VALUES {', '.join([one] * len(chunk))}", flat
            )
    else:
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES {one}", list(rows))
