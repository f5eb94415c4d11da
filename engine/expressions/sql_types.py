"""What the SQL compiler knows about values: the kind of a column or constant, and typed binds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.base.errors import ExpressionError, NotCompilable
from engine.expressions.limits import kind_of

# A SQL argument as function compilers receive it: an expression, or a constant's Python value.
SqlArg = ColumnElement[Any] | Any


def is_sql(arg: SqlArg) -> bool:
    return isinstance(arg, ColumnElement)


def sql_kind(arg: SqlArg) -> str:
    """text, number, integer, boolean, date, datetime, list or unknown (the value kinds of fields)."""
    if not is_sql(arg):
        return _python_kind(arg)
    column_type = arg.type
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Numeric | sa.Float):
        return "number"
    if isinstance(column_type, sa.String):
        return "text"
    if isinstance(column_type, sa.JSON | sa.ARRAY):
        return "list"
    return "unknown"


def _python_kind(value: Any) -> str:
    # As the expression language names kinds, but telling whole numbers apart: SQL types them apart.
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    kind = kind_of(value)
    return kind if kind in _SQL_VALUE_KINDS else "unknown"


_SQL_VALUE_KINDS = frozenset({"empty", "boolean", "number", "text", "datetime", "date", "list"})


def bind(value: Any, dialect: str) -> ColumnElement[Any]:
    """A constant as a typed bound parameter (or a SQL keyword for None and booleans)."""
    if is_sql(value):
        return value
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ExpressionError(f"the number {value} is too large for the database (beyond 64 bits)")
        # BIGINT, not INTEGER: PostgreSQL would otherwise cast the parameter to 32 bits and fail on it.
        return sa.literal(value, sa.BigInteger)
    if isinstance(value, Decimal):
        # The SQLite driver cannot bind Decimal; it stores numerics as REAL anyway.
        if dialect == "sqlite":
            return sa.literal(float(value), sa.Float)
        return sa.literal(value, sa.Numeric)
    if isinstance(value, float):
        return sa.literal(value, sa.Float)
    if isinstance(value, str):
        return sa.literal(value, sa.String)
    if isinstance(value, dt.datetime):
        return sa.literal(value, sa.DateTime)
    if isinstance(value, dt.date):
        return sa.literal(value, sa.Date)
    raise NotCompilable(f"a {_python_kind(value)} value cannot be used here in a filter")


class WideInteger(sa.BigInteger):
    """An integer computed as NUMERIC, so that arithmetic cannot overflow as Python's ints cannot."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return lambda value: None if value is None else int(value)


def widened(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """An integer operand for arithmetic: PostgreSQL's BIGINT raises on overflow, its NUMERIC does not.

    SQLite turns an overflowing integer into a REAL instead of failing, so it is left as it is."""
    if dialect != "postgresql" or sql_kind(value) != "integer":
        return value
    return sa.type_coerce(sa.cast(value, sa.Numeric), WideInteger)


def json_length(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Number of items in a JSON list column."""
    if dialect == "postgresql":
        return sa.func.json_array_length(sa.cast(value, sa.JSON), type_=sa.Integer)
    return sa.func.json_array_length(value, type_=sa.Integer)


def as_datetime(arg: SqlArg, dialect: str) -> SqlArg:
    """A date (column or constant) as the datetime at its midnight, the way Python compares them."""
    if not is_sql(arg):
        return dt.datetime.combine(arg, dt.time()) if _python_kind(arg) == "date" else arg
    if sql_kind(arg) != "date":
        return arg
    if dialect == "postgresql":
        return sa.cast(arg, sa.DateTime)
    # SQLite stores datetimes as text in SQLAlchemy's format; build the same text for midnight.
    return sa.type_coerce(sa.type_coerce(arg, sa.String).concat(" 00:00:00.000000"), sa.DateTime)


def comparable(kinds: set[str]) -> bool:
    """Whether Python can compare values of these kinds without a TypeError."""
    known = kinds - {"unknown", "empty"}
    return len(known) < 2 or known <= {"integer", "number", "boolean"} or known == {"date", "datetime"}


def boolean_as_integer(value: SqlArg, dialect: str) -> SqlArg:
    """A boolean as 0 or 1, the way Python compares True with numbers."""
    if is_sql(value):
        return sa.cast(value, sa.Integer) if sql_kind(value) == "boolean" else value
    return int(value) if isinstance(value, bool) else value
