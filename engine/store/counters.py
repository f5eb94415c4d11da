"""Counters behind autonumber fields, one per (object, field, period), safe under concurrent saves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Numbering:
    """An autonumber a record's INSERT takes for itself on PostgreSQL: its counter (object, field,
    period) and its text; the field is the column it fills."""

    object: str
    field: str
    period: str
    before: str  # the pattern's text before the counter, dates rendered
    width: int  # the counter's least width, zero-padded
    after: str


def numbering_sql(count: int, quote: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """For `count` numberings: WITH-clause parts that each take their counter's next value (named
    n0, n1 …), and the expressions rendering those numbers as `format_autonumber` does;
    parameters in `numbering_parameters` order. The counter row stays locked until the
    transaction ends, as with `reserve_numbers`, so numbers have no gaps."""
    table = quote(sequences.name)
    keys = ", ".join(quote(column.name) for column in sequences.c)
    value = quote(sequences.c.value.name)
    conflict = ", ".join(quote(column.name) for column in sequences.primary_key)
    takes = [
        f"n{index} AS (INSERT INTO {table} ({keys}) VALUES (%s, %s, %s, 1) ON CONFLICT ({conflict}) "
        f"DO UPDATE SET {value} = {table}.{value} + 1 RETURNING {value})"
        for index in range(count)
    ]
    texts = [
        f"(SELECT %s || lpad({value}::text, greatest(%s, length({value}::text)), '0') || %s FROM n{index})"
        for index in range(count)
    ]
    return takes, texts


def numbering_parameters(numbered: Sequence[Numbering]) -> tuple[list[Any], list[Any]]:
    """The parameters of `numbering_sql`'s WITH parts and of its expressions."""
    takes = [value for n in numbered for value in (n.object, n.field, n.period)]
    texts = [value for n in numbered for value in (n.before, n.width, n.after)]
    return takes, texts
