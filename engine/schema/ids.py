"""Record ids are never given twice: a table made again for an object whose records were archived (or
are still named by approvals, history, shares, files) starts its ids past every id that object used.

Old references (an approval, an audit entry, a share) then name no record of the new table instead of
an unrelated new one. On SQLite every record table uses AUTOINCREMENT for the same reason: without
it SQLite gives the largest id plus one, so purging the newest record would free its id.
"""

from __future__ import annotations

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy import column as light_column
from sqlalchemy import table as light_table

from engine.store.system_tables import (
    archived_tables,
    audit_log,
    files,
    flow_instances,
    match_keys,
    notifications,
    record_shares,
    rule_runs,
)

# Loom's own tables that name records by (object, record_id).
REFERRING: tuple[Table, ...] = (
    flow_instances,
    audit_log,
    record_shares,
    files,
    notifications,
    rule_runs,
    match_keys,
)


def last_used_id(conn: Connection, object_name: str) -> int:
    """The largest id the object's records ever had: in its archived tables and in what refers to them."""
    found = [0]
    names = conn.execute(select(archived_tables.c.table_name).where(archived_tables.c.object == object_name))
    live = set(inspect(conn).get_table_names())
    for (name,) in names:
        if name in live:
            found.append(
                conn.execute(select(func.max(light_column("id"))).select_from(light_table(name))).scalar()
            )
    for table in REFERRING:
        query = select(func.max(table.c.record_id)).where(table.c.object == object_name)
        found.append(conn.execute(query).scalar())
    return max(int(value or 0) for value in found)


def continue_ids(conn: Connection, table_name: str, last: int) -> None:
    """Make the next id of a new, empty table `last + 1` (SQLite: its table must use AUTOINCREMENT)."""
    if last <= 0:
        return
    if conn.dialect.name == "postgresql":
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f'"{table_name}"'}
        ).scalar()
        conn.execute(text("SELECT setval(:s, :n, true)"), {"s": sequence, "n": last})
    else:
        conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table_name})
        conn.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)"), {"t": table_name, "n": last}
        )


def keeps_ids(conn: Connection, table_name: str) -> bool:
    """Whether the table never gives an id twice: always on PostgreSQL (sequences), on SQLite only
    with AUTOINCREMENT."""
    if conn.dialect.name == "postgresql":
        return True
    made = conn.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table_name}
    ).scalar()
    return "AUTOINCREMENT" in (made or "").upper()


def make_keep_ids(conn: Connection, object_name: str, table_name: str) -> None:
    """Remake a SQLite record table made before tables kept their ids, with AUTOINCREMENT and every
    row, column and index it has, its sequence past every id the object used; before a purge."""
    if keeps_ids(conn, table_name):
        return
    last = last_used_id(conn, object_name)
    ops = Operations(MigrationContext.configure(conn))
    with ops.batch_alter_table(table_name, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass
    newest = conn.execute(select(func.max(light_column("id"))).select_from(light_table(table_name))).scalar()
    continue_ids(conn, table_name, max(last, newest or 0))
