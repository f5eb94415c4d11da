"""The audit log: one row per record change — who, when, and each field's old and new value."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, select

from engine.base.actors import Actor
from engine.store.bulk import insert_rows, insert_statement
from engine.store.counters import Numbering, numbering_parameters, numbering_sql
from engine.store.system_tables import audit_log

# One encoder for every audit row: json.dumps with options builds a new one per call.
_encode_changes = json.JSONEncoder(ensure_ascii=False).encode
encode_text = json.encoder.encode_basestring  # the same encoding of text, without the dispatch
AUDIT_COLUMNS = ("at", "actor_id", "actor_name", "object", "record_id", "action", "changes")


def value_json(value: Any) -> str:
    """One value as audit JSON (text, the usual case, straight through the string encoder)."""
    return encode_text(value) if type(value) is str else _encode_changes(value)


def audit_row(
    actor: Actor, at: datetime, object_name: str, record_id: int, action: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """`changes` maps field → [old, new] in JSON form; a create records [None, value] for each set field."""
    return {
        "at": at,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "object": object_name,
        "record_id": record_id,
        "action": action,
        "changes": changes,
    }


def write_audit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(audit_log.insert(), list(rows))


def write_creation_audit(
    conn: Connection,
    actor: Actor,
    at: datetime,
    object_name: str,
    entries: Sequence[tuple[int, str]],
) -> None:
    """Audit rows for a batch of new records in one driver call; `entries` are (record id, its
    changes as JSON text).

    Bulk creates write one audit row per record; going through the driver with the JSON already
    serialised, and the shared timestamp converted once, keeps the audit from doubling the cost
    of the insert it records.
    """
    at_value = _at_value(conn, at)
    rows = [
        (at_value, actor.user_id, actor.name, object_name, record_id, "create", changes)
        for record_id, changes in entries
    ]
    insert_rows(conn, audit_log.name, AUDIT_COLUMNS, rows)


def insert_created_record(
    conn: Connection,
    actor: Actor,
    at: datetime,
    object_name: str,
    table: str,
    columns: Sequence[str],
    row: Sequence[Any],
    changes: Sequence[str],
    numbered: Sequence[Numbering] = (),
) -> tuple[int, Row | None]:
    """Insert one new record (`row` in `columns` order, its id left to the database) and its
    creation audit row; returns the record's id and, on PostgreSQL, its row as stored.

    On PostgreSQL it is one statement, a round trip to the server fewer for every record created
    one at a time: the audit row takes the id the INSERT returns, and the INSERT takes the
    `numbered` autonumbers itself (their counters then locked a statement later). `changes` is the
    audit JSON, cut where each number goes, `[null, ` before it; one piece when none is.
    """
    if conn.dialect.name != "postgresql":
        # SQLite gives one past every id the table gave (AUTOINCREMENT; one past the largest id
        # taken for a table made before record tables used it): what `allocate_ids` would give.
        [text] = changes
        record_id = conn.exec_driver_sql(insert_statement(conn, table, columns), tuple(row)).lastrowid
        write_creation_audit(conn, actor, at, object_name, [(record_id, text)])
        return record_id, None
    take_values, text_values = numbering_parameters(numbered)
    numbered_columns = tuple(n.field for n in numbered)
    quote = conn.dialect.identifier_preparer.quote
    statement = _created_statement(quote, table, tuple(columns), numbered_columns)
    audit = (_at_value(conn, at), actor.user_id, actor.name, object_name, "create", *changes)
    stored = conn.exec_driver_sql(statement, (*take_values, *row, *text_values, *audit)).one()
    return stored.id, stored


# The audit columns given as parameters (in AUDIT_COLUMNS order): all but the record's id.
_GIVEN = [name for name in AUDIT_COLUMNS if name != "record_id"]


@lru_cache(maxsize=256)
def _created_statement(
    quote: Callable[[str], str], table: str, columns: tuple[str, ...], numbered: tuple[str, ...]
) -> str:
    # Kept per table and columns, as `insert_statement` is: every create of the object runs it.
    takes, texts = numbering_sql(len(numbered), quote)
    # With a counter to wait for, the id is drawn once the first number is taken, so that ids
    # follow numbers when creates wait for each other (WITH parts run in no set order).
    drawn = [f"(SELECT nextval(pg_get_serial_sequence('{quote(table)}', 'id')) FROM n0)"] if numbered else []
    names = ", ".join(quote(name) for name in (*(["id"] if numbered else []), *columns, *numbered))
    values = ", ".join(drawn + ["%s"] * len(columns) + texts)
    made = f"made AS (INSERT INTO {quote(table)} ({names}) VALUES ({values}) RETURNING *)"
    audit_json = " || ".join(
        ["%s", *(f"to_json((SELECT {quote(name)} FROM made))::text || %s" for name in numbered)]
    )
    logged = (
        f"logged AS (INSERT INTO {audit_log.name} ({', '.join(_GIVEN)}, record_id) "
        f"VALUES (%s, %s, %s, %s, %s, ({audit_json})::json, (SELECT id FROM made)))"
    )
    return f"WITH {', '.join([*takes, made, logged])} SELECT * FROM made"


def _at_value(conn: Connection, at: datetime) -> Any:
    """`at` as the driver takes it for the audit's timestamp column (converted once per batch)."""
    process = audit_log.c.at.type.bind_processor(conn.dialect)
    return process(at) if process else at


def record_history(conn: Connection, object_name: str, record_id: int) -> list[dict[str, Any]]:
    """Every audit row of one record, oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.object == object_name, audit_log.c.record_id == record_id)
        .order_by(audit_log.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
