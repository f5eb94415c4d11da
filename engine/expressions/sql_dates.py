"""SQL forms of the date functions, per dialect, matching the Python ones day for day.

Dates are business dates: a datetime column holds naive UTC, so its date is taken after moving
it into the business time zone, as library._as_date does in Python.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.base.clock import business_date, start_of_day, utc_offset
from engine.base.errors import ExpressionError, NotCompilable
from engine.expressions.sql_types import SqlArg, bind, is_sql, sql_kind

# The most days add_days() moves a date, in Python (library.MAX_DAYS) and in SQL alike.
MAX_DAYS = 1_000_000

if TYPE_CHECKING:
    from engine.expressions.context import SqlContext


def today(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    return sa.literal(business_date(sctx.now, sctx.timezone), sa.Date)


def _date_kind(arg: SqlArg, function: str) -> str:
    kind = sql_kind(arg)
    if kind not in ("date", "datetime"):
        raise NotCompilable(f"{function}() in a filter needs a date or datetime field, got {kind}")
    return kind


def _sqlite_offset_minutes(sctx: SqlContext) -> int:
    # SQLite has no time zone database, so a datetime is shifted by the zone's offset now. That is
    # exact for zones without daylight saving (Asia/Shanghai); for others, a datetime on the far
    # side of a transition from now may land an hour off, on SQLite only.
    return int(utc_offset(sctx.now, sctx.timezone).total_seconds() // 60)


def business_date_of(sctx: SqlContext, arg: SqlArg) -> ColumnElement[Any]:
    """A date as it is, a datetime (naive UTC) as its date in the business time zone: a SQL date."""
    if not is_sql(arg):
        if isinstance(arg, dt.datetime):
            arg = business_date(arg, sctx.timezone)
        return bind(arg, sctx.dialect)
    if sctx.dialect == "postgresql":
        if sql_kind(arg) == "datetime":
            zone = sctx.timezone.key
            if zone is None:
                raise NotCompilable("the business time zone has no IANA name, so SQL cannot use it")
            # (arg AT TIME ZONE 'UTC') AT TIME ZONE <zone>: read as UTC, then the wall time in the
            # zone. The function form needs no parentheses around an `arg` such as `col + interval`.
            utc = sa.func.timezone(sa.literal("UTC", sa.String), arg)
            arg = sa.func.timezone(sa.literal(zone, sa.String), utc)
        return sa.cast(arg, sa.Date)
    minutes = _sqlite_offset_minutes(sctx) if sql_kind(arg) == "datetime" else 0
    if minutes == 0:
        return sa.func.date(arg, type_=sa.Date)
    return sa.func.date(arg, sa.literal(f"{minutes:+d} minutes", sa.String), type_=sa.Date)


def _days_between(sctx: SqlContext, start: SqlArg, end: SqlArg) -> ColumnElement[Any]:
    """Whole calendar days from start to end; a datetime counts by its business date, as in Python."""
    start, end = business_date_of(sctx, start), business_date_of(sctx, end)
    if sctx.dialect == "postgresql":
        return sa.type_coerce(end - start, sa.Integer)
    return sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer)


def days_since(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    _date_kind(args[0], "days_since")
    return _days_between(sctx, args[0], today(sctx, []))


def days_until(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    _date_kind(args[0], "days_until")
    return _days_between(sctx, today(sctx, []), args[0])


def hours_between(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    """Whole hours from the first moment to the second, truncated toward zero, as in Python."""
    for arg in args:
        if sql_kind(arg) != "datetime":
            raise NotCompilable("hours_between() in a filter needs two datetimes")
    start, end = (bind(arg, sctx.dialect) for arg in args)
    if sctx.dialect == "postgresql":
        whole = [sa.type_coerce(sa.func.date_trunc("second", v), sa.DateTime) for v in (start, end)]
        seconds = sa.extract("epoch", whole[1] - whole[0])
        return sa.cast(sa.func.trunc(seconds / 3600), sa.Integer)
    # strftime('%s') reads whole seconds; `//` is SQLite's integer division, toward zero.
    start_s, end_s = (sa.cast(sa.func.strftime("%s", v), sa.Integer) for v in (start, end))
    return sa.type_coerce((end_s - start_s) // 3600, sa.Integer)


def add_days(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value, days = args
    if days is None:
        return sa.null()
    kind = _date_kind(value, "add_days")
    if not is_sql(days) and not (isinstance(days, int) and not isinstance(days, bool)):
        raise NotCompilable("add_days() in a filter needs a whole number of days")
    if not is_sql(days) and abs(days) > MAX_DAYS:
        raise ExpressionError(f"add_days() can add at most {MAX_DAYS} days")  # as in Python
    value = bind(value, sctx.dialect)
    if sctx.dialect == "postgresql":
        if kind == "date":
            # PostgreSQL adds only an integer to a date, and integer fields are bigint columns.
            return sa.type_coerce(value + sa.cast(bind(days, "postgresql"), sa.Integer), sa.Date)
        interval = sa.func.make_interval(0, 0, 0, sa.cast(bind(days, "postgresql"), sa.Integer))
        return sa.type_coerce(value + interval, sa.DateTime)
    modifier = sa.func.printf("%+d days", days) if is_sql(days) else sa.literal(f"{days:+d} days", sa.String)
    if kind == "date":
        return sa.type_coerce(sa.func.date(value, modifier), sa.Date)
    # datetime() drops the microseconds SQLAlchemy stores on SQLite; keep the stored suffix.
    shifted = sa.func.datetime(value, modifier, type_=sa.String).concat(
        sa.func.substr(sa.type_coerce(value, sa.String), 20)
    )
    return sa.type_coerce(shifted, sa.DateTime)


def add_hours(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
    value, hours = args
    if hours is None:
        return sa.null()
    if _date_kind(value, "add_hours") != "datetime":
        raise NotCompilable("add_hours() in a filter needs a datetime")
    if not is_sql(hours) and not (isinstance(hours, int) and not isinstance(hours, bool)):
        raise NotCompilable("add_hours() in a filter needs a whole number of hours")
    if not is_sql(hours) and abs(hours) > MAX_DAYS * 24:
        raise ExpressionError(f"add_hours() can add at most {MAX_DAYS * 24} hours")  # as in Python
    value = bind(value, sctx.dialect)
    if sctx.dialect == "postgresql":
        interval = sa.func.make_interval(0, 0, 0, 0, sa.cast(bind(hours, "postgresql"), sa.Integer))
        return sa.type_coerce(value + interval, sa.DateTime)
    modifier = (
        sa.func.printf("%+d hours", hours) if is_sql(hours) else sa.literal(f"{hours:+d} hours", sa.String)
    )
    shifted = sa.func.datetime(value, modifier, type_=sa.String).concat(
        sa.func.substr(sa.type_coerce(value, sa.String), 20)
    )
    return sa.type_coerce(shifted, sa.DateTime)


def _part(name: str, sqlite_format: str) -> Callable[[SqlContext, list[SqlArg]], ColumnElement[Any]]:
    def compile_part(sctx: SqlContext, args: list[SqlArg]) -> ColumnElement[Any]:
        _date_kind(args[0], name)
        value = business_date_of(sctx, args[0])
        if sctx.dialect == "postgresql":
            return sa.cast(sa.extract(name, value), sa.Integer)
        return sa.cast(sa.func.strftime(sqlite_format, value), sa.Integer)

    return compile_part


year = _part("year", "%Y")
month = _part("month", "%m")
day = _part("day", "%d")


def window_for(
    left: ast.AST, op: str, right: ast.AST, column: Callable[[str], ColumnElement[Any]], sctx: SqlContext
) -> ColumnElement[Any] | None:
    """The index-friendly form of `days_since(name) <op> <whole number>`, or None if it does not apply."""
    if isinstance(right, ast.Call) and not isinstance(left, ast.Call):
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        left, right, op = right, left, flipped.get(op, op)
    if not (
        isinstance(left, ast.Call)
        and left.func.id in ("days_since", "days_until")
        and len(left.args) == 1
        and isinstance(left.args[0], ast.Name)
        and isinstance(right, ast.Constant)
        and type(right.value) is int
        and left.func.id in sctx.functions
    ):
        return None
    builtin = {"days_since": days_since, "days_until": days_until}[left.func.id]
    if sctx.functions.get(left.func.id).sql is not builtin:
        return None  # a plugin replaced the function; its meaning may differ
    return date_window(left.func.id, column(left.args[0].id), op, right.value, sctx)


def date_window(
    function: str, column: ColumnElement[Any], op: str, days: int, sctx: SqlContext
) -> ColumnElement[Any] | None:
    """`days_since(col) > 15` as `col < <cutoff>`, which an index on col can serve; None if not possible.

    days_since(col) = today - date(col) and days_until(col) = date(col) - today, so each
    comparison with a whole number is a range on date(col). For a datetime column, date(col) < D
    is col < the UTC moment D begins in the business time zone. `!=` is left alone: it also
    matches empty values.
    """
    kind = sql_kind(column)
    if kind not in ("date", "datetime") or op not in ("<", "<=", ">", ">=", "=="):
        return None
    today_ = business_date(sctx.now, sctx.timezone)
    if function == "days_since":
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}[op]
        op, target = flipped, _shift(today_, -days)
    else:
        target = _shift(today_, days)
    after = None if target is None else _shift(target, 1)
    if after is None:
        return None
    start, end = _start(target, kind, sctx), _start(after, kind, sctx)
    if start is None or end is None:
        return None
    if op == "<":
        return column < start
    if op == "<=":
        return column < end
    if op == ">":
        return column >= end
    if op == ">=":
        return column >= start
    return sa.and_(column >= start, column < end)


def _shift(day_: dt.date, days: int) -> dt.date | None:
    try:
        return day_ + dt.timedelta(days=days)
    except OverflowError:
        return None


def _start(day_: dt.date, kind: str, sctx: SqlContext) -> ColumnElement[Any] | None:
    """The first value of `kind` on that business date, or None past the range of dates."""
    if kind == "date":
        return sa.literal(day_, sa.Date)
    try:
        if sctx.dialect == "postgresql":
            moment = start_of_day(day_, sctx.timezone)
        else:
            # The same fixed offset business_date_of() uses on SQLite, so both forms agree.
            moment = dt.datetime.combine(day_, dt.time()) - dt.timedelta(minutes=_sqlite_offset_minutes(sctx))
    except OverflowError:
        return None
    return sa.literal(moment, sa.DateTime)


def within_dates(
    column: ColumnElement[Any], first: dt.date, last: dt.date, sctx: SqlContext
) -> ColumnElement[Any]:
    """`column` on a business date from `first` to `last`, both included, as a range an index serves."""
    kind = "datetime" if sql_kind(column) == "datetime" else "date"
    start = _start(first, kind, sctx)
    after = _shift(last, 1)
    end = None if after is None else _start(after, kind, sctx)
    if start is None:
        return sa.false()
    return column >= start if end is None else sa.and_(column >= start, column < end)
