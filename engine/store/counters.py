"""Counters behind autonumber fields, one per (object, field, period), safe under concurrent saves."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.store.system_tables import sequences


def reserve_numbers(conn: Connection, object_name: str, field: str, period: str, count: int = 1) -> range:
    """Reserve `count` consecutive counter values and return them; the row lock serialises writers."""
    values = {"object": object_name, "field": field, "period": period, "count": count, "step": count}
    last = conn.execute(_reserve_statement(conn.dialect.name), values).scalar_one()
    return range(last - count + 1, last + 1)


@cache
def _reserve_statement(dialect: str) -> Any:
    # Built once per database kind: every save of an object with an autonumber runs it.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(sequences)
        .values(
            object=bindparam("object"),
            field=bindparam("field"),
            period=bindparam("period"),
            value=bindparam("count"),
        )
        .on_conflict_do_update(
            index_elements=[sequences.c.object, sequences.c.field, sequences.c.period],
            set_={"value": sequences.c.value + bindparam("step")},
        )
        .returning(sequences.c.value)
    )
