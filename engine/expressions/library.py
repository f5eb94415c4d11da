"""The built-in function library: Python implementations, each paired with its SQL form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.base.clock import business_date
from engine.base.errors import ExpressionError
from engine.expressions import sql_functions as sql
from engine.expressions.functions import Function, FunctionRegistry
from engine.expressions.limits import check_sequence, check_text, kind_of

if TYPE_CHECKING:
    from engine.expressions.context import EvalContext

MAX_DAYS = 1_000_000
MAX_ROUND_DIGITS = 12


def _as_date(ctx: EvalContext, value: Any, function: str) -> dt.date:
    """A date as it is; a datetime (naive UTC) as its date in the business time zone."""
    if isinstance(value, dt.datetime):
        try:
            return business_date(value, ctx.timezone)
        except OverflowError:
            raise ExpressionError(f"{function}() got a datetime at the edge of the range of dates") from None
    if isinstance(value, dt.date):
        return value
    raise ExpressionError(f"{function}() expects a date, got {kind_of(value)}")


def _as_whole_number(value: Any, function: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    raise ExpressionError(f"{function}() expects a whole number, got {kind_of(value)}")


def _number(value: Any, function: str) -> Any:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    raise ExpressionError(f"{function}() expects a number, got {kind_of(value)}")


def _text(value: Any, function: str) -> str:
    if isinstance(value, str):
        return value
    raise ExpressionError(f"{function}() expects text, got {kind_of(value)}")


def today(ctx: EvalContext) -> dt.date:
    """Today in the business time zone: at 01:30 in Beijing the date has turned, though not in UTC."""
    return business_date(ctx.now, ctx.timezone)


def now(ctx: EvalContext) -> dt.datetime:
    return ctx.now


def days_since(ctx: EvalContext, value: Any) -> int | None:
    """Whole calendar days from `value` to today; a datetime counts by its business date."""
    return None if value is None else (today(ctx) - _as_date(ctx, value, "days_since")).days


def days_until(ctx: EvalContext, value: Any) -> int | None:
    return None if value is None else (_as_date(ctx, value, "days_until") - today(ctx)).days


def hours_between(ctx: EvalContext, start: Any, end: Any) -> int | None:
    """Whole hours from one moment to a later one (negative when `end` comes first), to the second."""
    if start is None or end is None:
        return None
    for value in (start, end):
        if not isinstance(value, dt.datetime):
            raise ExpressionError(f"hours_between() expects two datetimes, got {kind_of(value)}")
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ExpressionError("hours_between() cannot compare a moment with a time zone to one without")
    # Whole seconds of each moment, as the SQL form reads them, so both count the same hours.
    seconds = int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())
    hours = abs(seconds) // 3600
    return hours if seconds >= 0 else -hours


def add_days(ctx: EvalContext, value: Any, days: Any) -> dt.date | None:
    if value is None or days is None:
        return None
    if not isinstance(value, dt.date):
        raise ExpressionError(f"add_days() expects a date, got {kind_of(value)}")
    count = _as_whole_number(days, "add_days")
    if abs(count) > MAX_DAYS:
        raise ExpressionError(f"add_days() can add at most {MAX_DAYS} days")
    try:
        return value + dt.timedelta(days=count)
    except OverflowError:
        raise ExpressionError("add_days() went past the range of dates") from None


def add_hours(ctx: EvalContext, value: Any, hours: Any) -> dt.datetime | None:
    """The moment n hours after a datetime; a date counts from its midnight."""
    if value is None or hours is None:
        return None
    if not isinstance(value, dt.date):
        raise ExpressionError(f"add_hours() expects a datetime, got {kind_of(value)}")
    count = _as_whole_number(hours, "add_hours")
    if abs(count) > MAX_DAYS * 24:
        raise ExpressionError(f"add_hours() can add at most {MAX_DAYS * 24} hours")
    start = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    try:
        return start + dt.timedelta(hours=count)
    except OverflowError:
        raise ExpressionError("add_hours() went past the range of dates") from None


def isblank(ctx: EvalContext, value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)


def coalesce(ctx: EvalContext, *values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def contains(ctx: EvalContext, haystack: Any, needle: Any) -> bool:
    """Substring test for text, membership for lists; False when the haystack is empty."""
    if haystack is None:
        return False
    if isinstance(haystack, str):
        return needle is not None and _text(needle, "contains") in haystack
    if isinstance(haystack, list | tuple):
        return needle in haystack
    raise ExpressionError(f"contains() looks inside text or a list, got {kind_of(haystack)}")


def startswith(ctx: EvalContext, value: Any, prefix: Any) -> bool:
    if value is None or prefix is None:
        return False
    return _text(value, "startswith").startswith(_text(prefix, "startswith"))


def lower(ctx: EvalContext, value: Any) -> str | None:
    return None if value is None else check_text(_text(value, "lower"), "lower()'s text").lower()


def upper(ctx: EvalContext, value: Any) -> str | None:
    return None if value is None else check_text(_text(value, "upper"), "upper()'s text").upper()


def length(ctx: EvalContext, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str | list | tuple):
        return len(value)
    raise ExpressionError(f"len() expects text or a list, got {kind_of(value)}")


def round_(ctx: EvalContext, value: Any, digits: Any = 0) -> Any:
    """Round half away from zero, as SQL does (Python's round() rounds half to even)."""
    if value is None or digits is None:
        return None
    places = _as_whole_number(digits, "round")
    if not 0 <= places <= MAX_ROUND_DIGITS:
        raise ExpressionError(f"round() keeps 0 to {MAX_ROUND_DIGITS} decimal places, not {places}")
    number = _number(value, "round")
    if isinstance(number, int):
        return number
    exact = number if isinstance(number, Decimal) else Decimal(repr(number))
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if places == 0:
        return int(rounded)
    return rounded if isinstance(number, Decimal) else float(rounded)


def abs_(ctx: EvalContext, value: Any) -> Any:
    return None if value is None else abs(_number(value, "abs"))


def _extreme(pick: Any, name: str, values: tuple[Any, ...]) -> Any:
    if len(values) == 1:
        if not isinstance(values[0], list | tuple):
            raise ExpressionError(f"{name}() needs two or more values, or one list")
        values = tuple(check_sequence(values[0], f"{name}()'s list"))
        if not values:
            return None
    # Like SQL (and like arithmetic here), an empty value makes the result empty.
    if any(value is None for value in values):
        return None
    try:
        return pick(values)
    except TypeError:
        kinds = " and ".join(sorted({kind_of(value) for value in values}))
        raise ExpressionError(f"{name}() cannot compare {kinds}") from None


def min_(ctx: EvalContext, *values: Any) -> Any:
    return _extreme(min, "min", values)


def max_(ctx: EvalContext, *values: Any) -> Any:
    return _extreme(max, "max", values)


def year(ctx: EvalContext, value: Any) -> int | None:
    return None if value is None else _as_date(ctx, value, "year").year


def month(ctx: EvalContext, value: Any) -> int | None:
    return None if value is None else _as_date(ctx, value, "month").month


def day(ctx: EvalContext, value: Any) -> int | None:
    return None if value is None else _as_date(ctx, value, "day").day


def changed(ctx: EvalContext, names: Mapping[str, Any], field: Any) -> bool:
    """True while saving when the field's new value differs from the stored one."""
    name = _text(field, "changed")
    if ctx.old is None:
        return False
    if name not in names:
        raise ExpressionError(f"changed(): unknown field '{name}'")
    return names[name] != ctx.old.get(name)


def old(ctx: EvalContext, field: Any) -> Any:
    name = _text(field, "old")
    return None if ctx.old is None else ctx.old.get(name)


def user(ctx: EvalContext) -> int | None:
    return ctx.actor.user_id


def has_role(ctx: EvalContext, role: Any) -> bool:
    return _text(role, "has_role") in ctx.actor.roles


def get(ctx: EvalContext, container: Any, key: Any, default: Any = None) -> Any:
    """One entry of a mapping (an inbound webhook's payload) or list, or `default` when absent."""
    if container is None:
        return default
    if isinstance(container, Mapping):
        if not isinstance(key, str):
            raise ExpressionError(f"get() on a mapping expects a text key, got {kind_of(key)}")
        value = container.get(key, default)
    elif isinstance(container, list | tuple):
        index = _as_whole_number(key, "get")
        value = container[index] if -len(container) <= index < len(container) else default
    else:
        raise ExpressionError(f"get() expects a mapping or a list, got {kind_of(container)}")
    return _readonly(value)


def _readonly(value: Any) -> Any:
    # What an expression gets back must not let it change the payload it was handed.
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    if isinstance(value, list):
        return tuple(value)
    return value


def text(ctx: EvalContext, value: Any) -> str:
    """A value as text: numbers without float noise, dates as ISO, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, int | float | str):
        return check_text(str(value), "text()")
    raise ExpressionError(f"text() cannot show {kind_of(value)}")


def default_functions() -> FunctionRegistry:
    """A new registry holding the built-in functions; callers may add their own to it."""
    registry = FunctionRegistry()
    for function in (
        Function("today", today, 0, 0, sql.today, "Today's date in the business time zone.", "date"),
        Function("now", now, 0, 0, sql.now, "The current moment (naive UTC).", "datetime"),
        Function("days_since", days_since, 1, 1, sql.days_since, "Whole days from d to today.", "number"),
        Function("days_until", days_until, 1, 1, sql.days_until, "Whole days from today to d.", "number"),
        Function(
            "hours_between", hours_between, 2, 2, sql.hours_between, "Whole hours from t1 to t2.", "number"
        ),
        Function("add_days", add_days, 2, 2, sql.add_days, "The date n days after d.", "date"),
        Function("add_hours", add_hours, 2, 2, sql.add_hours, "The datetime n hours after t.", "datetime"),
        Function("isblank", isblank, 1, 1, sql.isblank, "True for empty, '' or [].", "boolean"),
        Function("coalesce", coalesce, 1, None, sql.coalesce, "The first non-empty value."),
        Function("contains", contains, 2, 2, sql.contains, "Substring or list membership.", "boolean"),
        Function("startswith", startswith, 2, 2, sql.startswith, "Text starts with a prefix.", "boolean"),
        Function("lower", lower, 1, 1, sql.lower, "Text in lower case.", "text"),
        Function("upper", upper, 1, 1, sql.upper, "Text in upper case.", "text"),
        Function("len", length, 1, 1, sql.length, "Length of text or a list.", "number"),
        Function("round", round_, 1, 2, sql.round_, "Round half away from zero to n places.", "number"),
        Function("abs", abs_, 1, 1, sql.abs_, "Absolute value.", "number"),
        Function("min", min_, 1, None, sql.min_, "The smallest value; empty if any is empty."),
        Function("max", max_, 1, None, sql.max_, "The largest value; empty if any is empty."),
        Function("year", year, 1, 1, sql.year, "The year of a date.", "number"),
        Function("month", month, 1, 1, sql.month, "The month (1-12) of a date.", "number"),
        Function("day", day, 1, 1, sql.day, "The day of the month of a date.", "number"),
        Function("user", user, 0, 0, sql.user, "The acting user's id.", "id"),
        Function("has_role", has_role, 1, 1, sql.has_role, "Whether the actor has a role.", "boolean"),
        Function("old", old, 1, 1, None, "The stored value of a field while saving.", field_name_arg=True),
        Function("get", get, 2, 3, None, "An entry of a mapping or list, e.g. get(payload, 'phone')."),
        Function("text", text, 1, 1, None, "A value as text, e.g. 'score: ' + text(score).", "text"),
        Function(
            "changed",
            changed,
            1,
            1,
            None,
            "Whether a field changed in this save.",
            "boolean",
            field_name_arg=True,
            reads_record=True,
        ),
    ):
        registry.register(function)
    return registry
