"""SQL forms of the built-in functions (dates live in sql_dates); each matches its Python twin.

Each takes the SqlContext and the arguments (SQL expressions, or Python values for constants).
Calls whose arguments are all constants never get here: the compiler runs the Python version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from engine.base.errors import NotCompilable
from engine.expressions.sql_dates import (
    add_days,
    add_hours,
    day,
    days_since,
    days_until,
    hours_between,
    month,
    today,
    year,
)
from engine.expressions.sql_types import SqlArg, bind, is_sql, json_length, sql_kind

if TYPE_CHECKING:
    from engine.expressions.context import SqlContext

__all__ = [
    "add_days",
    "add_hours",
    "day",
    "days_since",
    "days_until",
    "hours_between",
    "month",
    "today",
    "year",
]


def now(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    return bind(sctx.now, sctx.dialect)


def user(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    return bind(sctx.actor.user_id, sctx.dialect)


def has_role(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    (role,) = args
    if is_sql(role) or not isinstance(role, str):
        raise NotCompilable('has_role() in a filter needs a role name in quotes, such as has_role("sales")')
    return bind(role in sctx.actor.roles, sctx.dialect)


def isblank(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value = bind(args[0], sctx.dialect)
    kind = sql_kind(value)
    if kind == "text":
        return sa.or_(value.is_(None), value == "")
    if kind == "list":
        return sa.or_(value.is_(None), json_length(value, sctx.dialect) == 0)
    return value.is_(None)


def coalesce(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    values = [bind(arg, sctx.dialect) for arg in args]
    typed = next((value.type for value in values if not isinstance(value.type, sa.types.NullType)), None)
    return sa.func.coalesce(*values, type_=typed)


def contains(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    """Case-sensitive substring test for text, membership for a JSON list; never true for empty."""
    haystack, needle = args
    if needle is None or haystack is None:
        return sa.false()
    if sql_kind(haystack) == "list":
        return _list_contains(sctx, haystack, needle)
    if sql_kind(haystack) != "text":
        raise NotCompilable(f"contains() in a filter looks inside text or a list, not {sql_kind(haystack)}")
    if not is_sql(needle) and not isinstance(needle, str):
        raise NotCompilable("contains() on text needs text to look for")
    if sctx.dialect == "postgresql":
        if is_sql(haystack) and not is_sql(needle):
            return haystack.contains(needle, autoescape=True)
        return sa.func.strpos(bind(haystack, "postgresql"), bind(needle, "postgresql")) > 0
    # SQLite's LIKE ignores ASCII case, so it would match rows Python does not: use instr().
    return sa.func.instr(bind(haystack, "sqlite"), bind(needle, "sqlite")) > 0


def _list_contains(sctx: SqlContext, haystack: SqlArg, needle: SqlArg) -> ColumnElement[Any]:
    if is_sql(needle) or not is_sql(haystack) or isinstance(needle, list | tuple):
        raise NotCompilable("contains() on a list field in a filter needs a constant to look for")
    if sctx.dialect == "postgresql":
        wanted = sa.cast(sa.literal(json.dumps([needle], default=str), sa.String), JSONB)
        return sa.cast(haystack, JSONB).op("@>", return_type=sa.Boolean)(wanted)
    items = sa.func.json_each(haystack).table_valued("value")
    return sa.exists(sa.select(1).select_from(items).where(items.c.value == bind(needle, "sqlite")))


def startswith(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value, prefix = args
    if prefix is None or value is None:
        return sa.false()
    if sql_kind(value) != "text" or sql_kind(prefix) != "text":
        raise NotCompilable("startswith() in a filter needs text")
    if is_sql(prefix):
        value = bind(value, sctx.dialect)
        if sctx.dialect == "postgresql":
            return sa.func.starts_with(value, prefix, type_=sa.Boolean)
        return sa.func.substr(value, 1, sa.func.length(prefix)) == prefix
    if sctx.dialect == "postgresql":
        return value.startswith(prefix, autoescape=True)
    if prefix == "":
        return value.is_not(None)
    if prefix[-1] == chr(0x10FFFF):
        return sa.func.substr(value, 1, len(prefix)) == prefix
    # A range on SQLite's binary (code point) order: exact, case-sensitive and index-friendly.
    return sa.and_(value >= prefix, value < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def lower(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    return sa.func.lower(bind(args[0], sctx.dialect), type_=sa.String)


def upper(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    return sa.func.upper(bind(args[0], sctx.dialect), type_=sa.String)


def length(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value = bind(args[0], sctx.dialect)
    if sql_kind(value) == "list":
        return json_length(value, sctx.dialect)
    if sql_kind(value) != "text":
        raise NotCompilable(f"len() in a filter needs text or a list, not {sql_kind(value)}")
    return sa.func.length(value, type_=sa.Integer)


def round_(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value = bind(args[0], sctx.dialect)
    places = args[1] if len(args) > 1 else 0
    if is_sql(places) or not isinstance(places, int) or not 0 <= places <= 12:
        raise NotCompilable("round() in a filter needs a constant number of places from 0 to 12")
    if sctx.dialect == "postgresql":
        # round(double precision, int) does not exist in PostgreSQL; numeric rounds half away from 0.
        value = sa.cast(value, sa.Numeric)
    return sa.func.round(value, places, type_=sa.Numeric)


def abs_(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value = bind(args[0], sctx.dialect)
    return sa.func.abs(value, type_=value.type)


def _extreme(sqlite_name: str, postgres_name: str, function: str) -> Callable[..., ColumnElement[Any]]:
    def compile_extreme(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
        if len(args) < 2:
            raise NotCompilable(f"{function}() of a list cannot be used in a filter")
        if any(arg is None for arg in args):
            return sa.null()
        values = [bind(arg, sctx.dialect) for arg in args]
        typed = next((v.type for v in values if not isinstance(v.type, sa.types.NullType)), None)
        if sctx.dialect == "sqlite":
            # SQLite's many-argument min()/max() are NULL when any argument is NULL, as in Python here.
            return getattr(sa.func, sqlite_name)(*values, type_=typed)
        # PostgreSQL's LEAST/GREATEST skip NULLs; make an empty argument empty the result.
        picked = getattr(sa.func, postgres_name)(*values, type_=typed)
        return sa.case((sa.or_(*(v.is_(None) for v in values)), sa.null()), else_=picked)

    return compile_extreme


min_ = _extreme("min", "least", "min")
max_ = _extreme("max", "greatest", "max")
