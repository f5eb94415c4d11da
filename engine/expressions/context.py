"""What an expression runs against besides its names: the clock, the actor, the functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from engine.base.actors import SYSTEM, Actor
from engine.base.clock import UTC_ZONE
from engine.expressions.functions import FunctionRegistry
from engine.expressions.library import default_functions

# Built once: contexts that do not name a registry share it, so building a context stays cheap.
DEFAULT_FUNCTIONS = default_functions()


@dataclass(frozen=True, slots=True)
class EvalContext:
    """Context for Python evaluation; `old` holds the stored record while a save is checked.

    `now` is naive UTC; `timezone` is the business time zone whose calendar today() and the
    date functions follow.
    """

    now: dt.datetime
    actor: Actor = SYSTEM
    old: Mapping[str, Any] | None = None
    functions: FunctionRegistry = DEFAULT_FUNCTIONS
    timezone: ZoneInfo = UTC_ZONE


@dataclass(frozen=True, slots=True)
class SqlContext:
    """Context for compiling to SQL; today(), now() and user() become bound values from it."""

    now: dt.datetime
    actor: Actor
    functions: FunctionRegistry
    dialect: Literal["sqlite", "postgresql"]
    timezone: ZoneInfo = UTC_ZONE
