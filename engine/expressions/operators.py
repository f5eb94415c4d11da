"""Operator semantics: Python's, bounded in size, with SQL's treatment of empty (None) values.

An ordering comparison with None is False and arithmetic with None gives None, as in a SQL
WHERE clause, so an expression selects the same rows in Python and in the database.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import simpleeval

from engine.base.errors import ExpressionError
from engine.expressions.limits import MAX_INT_BITS, MAX_POWER, check_int, kind_of
from engine.expressions.parsing import ALLOWED_OPERATORS

_NUMBERS = (int, float, Decimal)


def _mixed_numbers(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Decimal and float do not mix in Python; convert the float through its shortest repr."""
    if isinstance(a, Decimal) and isinstance(b, float):
        return a, Decimal(repr(b))
    if isinstance(a, float) and isinstance(b, Decimal):
        return Decimal(repr(a)), b
    return None


def _same_time_kind(a: Any, b: Any) -> tuple[Any, Any] | None:
    """A date meets a datetime as midnight of that date, as SQL compares them."""
    if isinstance(a, dt.datetime) and not isinstance(b, dt.datetime) and isinstance(b, dt.date):
        return a, dt.datetime.combine(b, dt.time())
    if isinstance(b, dt.datetime) and not isinstance(a, dt.datetime) and isinstance(a, dt.date):
        return dt.datetime.combine(a, dt.time()), b
    return None


def _bounded(result: Any) -> Any:
    if result.__class__ is int:
        return check_int(result)
    return result


def _arithmetic(apply: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def evaluate(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        try:
            return _bounded(apply(a, b))
        except TypeError:
            pair = _mixed_numbers(a, b)
            if pair is None:
                raise ExpressionError(f"cannot use {symbol} on {kind_of(a)} and {kind_of(b)}") from None
            return apply(*pair)

    return evaluate


def _multiply(a: Any, b: Any) -> Any:
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        raise ExpressionError("lists cannot be repeated with *")
    # simpleeval's safe_mult bounds repeated text by the (lowered) MAX_STRING_LENGTH global.
    return simpleeval.safe_mult(a, b)


def _modulo(a: Any, b: Any) -> Any:
    # `'%d' % n` is string formatting, which can build huge text: % works on numbers only.
    if not isinstance(a, _NUMBERS) or not isinstance(b, _NUMBERS):
        raise ExpressionError(f"% works on numbers only, got {kind_of(a)} and {kind_of(b)}")
    return a % b


def _power(a: Any, b: Any) -> Any:
    if not isinstance(a, _NUMBERS) or not isinstance(b, _NUMBERS):
        raise ExpressionError(f"** works on numbers only, got {kind_of(a)} and {kind_of(b)}")
    if abs(b) > MAX_POWER:
        raise ExpressionError(f"exponent is larger than {MAX_POWER}")
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:
            return Decimal(a) ** b
        # a ** b has at least (bits(a) - 1) * b bits: refuse before computing a huge number.
        if (abs(a).bit_length() - 1) * b > MAX_INT_BITS:
            raise ExpressionError("number is too large (more than about 300 digits)")
    return a**b


def _negate(a: Any) -> Any:
    if a is None:
        return None
    if not isinstance(a, _NUMBERS):
        raise ExpressionError(f"cannot use - on {kind_of(a)}")
    return -a


def _plus(a: Any) -> Any:
    if a is None:
        return None
    if not isinstance(a, _NUMBERS):
        raise ExpressionError(f"cannot use + on {kind_of(a)}")
    return a


def _ordering(compare: Callable[[Any, Any], bool], symbol: str) -> Callable[[Any, Any], bool]:
    def evaluate(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        try:
            return compare(a, b)
        except TypeError:
            pair = _same_time_kind(a, b)
            if pair is None:
                detail = f"cannot compare {kind_of(a)} with {kind_of(b)} using {symbol}"
                raise ExpressionError(detail) from None
            return compare(*pair)

    return evaluate


def equal(a: Any, b: Any) -> bool:
    if a.__class__ is not b.__class__ and (pair := _same_time_kind(a, b)) is not None:
        return pair[0] == pair[1]
    return a == b


def not_equal(a: Any, b: Any) -> bool:
    return not equal(a, b)


def is_in(item: Any, container: Any) -> bool:
    """`item in container`: substring for text, membership for lists, False for an empty container."""
    if container is None:
        return False
    if isinstance(container, str):
        if item is None:
            return False
        if not isinstance(item, str):
            raise ExpressionError(f"`in` looks for text inside text, got {kind_of(item)}")
        return item in container
    if isinstance(container, list | tuple):
        return item in container
    raise ExpressionError(f"`in` needs a list or text on its right, got {kind_of(container)}")


def is_not_in(item: Any, container: Any) -> bool:
    return not is_in(item, container)


def _add(a: Any, b: Any) -> Any:
    # safe_add bounds the length of joined text and lists by MAX_STRING_LENGTH.
    return simpleeval.safe_add(a, b)


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arithmetic(_add, "+"),
    ast.Sub: _arithmetic(operator.sub, "-"),
    ast.Mult: _arithmetic(_multiply, "*"),
    ast.Div: _arithmetic(operator.truediv, "/"),
    ast.FloorDiv: _arithmetic(operator.floordiv, "//"),
    ast.Mod: _arithmetic(_modulo, "%"),
    ast.Pow: _arithmetic(_power, "**"),
    ast.Not: operator.not_,
    ast.USub: _negate,
    ast.UAdd: _plus,
    ast.Eq: equal,
    ast.NotEq: not_equal,
    ast.Lt: _ordering(operator.lt, "<"),
    ast.LtE: _ordering(operator.le, "<="),
    ast.Gt: _ordering(operator.gt, ">"),
    ast.GtE: _ordering(operator.ge, ">="),
    ast.In: is_in,
    ast.NotIn: is_not_in,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

# The plain comparison under each ordering operator, for a compiled comparison with a constant.
ORDERINGS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}

# simpleeval evaluates and/or itself; every other allowed operator needs semantics here.
assert OPERATORS.keys() == ALLOWED_OPERATORS.keys() - {ast.And, ast.Or}
