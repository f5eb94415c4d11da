"""Counters behind autonumber fields, one per (object, field, period), safe under concurrent saves."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.system_tables import sequences


def reserve_numbers(conn: Connection, object_name: str, field: str, period: str, count: int = 1) -> range:
    """Reserve `count` consecutive counter values and return them; the row lock serialises writers."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(sequences)
        .values(object=object_name, field=field, period=period, value=count)
        .on_conflict_do_update(
            index_elements=[sequences.c.object, sequences.c.field, sequences.c.period],
            set_={"value": sequences.c.value + count},
        )
        .returning(sequences.c.value)
    )
    last = conn.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)
