"""Resource limits for expressions: user-written expressions are untrusted input.

simpleeval keeps its limits in module globals, so they apply to the whole process. They are set
once here, at import, to values smaller than simpleeval's defaults: Loom is the only user of
simpleeval in the process, and a CRM formula never needs a 100,000-character string or a
4,000,000 exponent, while those defaults let one expression burn seconds of CPU or hundreds of MB.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import simpleeval

from engine.base.errors import ExpressionError

MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 50
MAX_STRING_LENGTH = 10_000
MAX_LIST_LENGTH = 10_000
MAX_POWER = 1000
# About 1e308, the float range: a CRM number beyond it is a mistake or an attack.
MAX_INT_BITS = 1024

simpleeval.MAX_STRING_LENGTH = MAX_STRING_LENGTH
simpleeval.MAX_COMPREHENSION_LENGTH = 1000
simpleeval.MAX_POWER = MAX_POWER
simpleeval.MAX_SHIFT = 64


def kind_of(value: Any) -> str:
    """The expression-language word for a value's type, used in error messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def check_int(value: int) -> int:
    """Refuse integers beyond MAX_INT_BITS so later arithmetic stays cheap."""
    if value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number is too large (more than about 300 digits)")
    return value


def check_text(value: str, what: str) -> str:
    """Refuse text longer than MAX_STRING_LENGTH where a function would build a new string."""
    if len(value) > MAX_STRING_LENGTH:
        raise ExpressionError(f"{what} is longer than {MAX_STRING_LENGTH} characters")
    return value


def check_sequence(value: list | tuple, what: str) -> list | tuple:
    """Refuse lists longer than MAX_LIST_LENGTH."""
    if len(value) > MAX_LIST_LENGTH:
        raise ExpressionError(f"{what} has more than {MAX_LIST_LENGTH} items")
    return value
