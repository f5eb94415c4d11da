"""The autonumber field type and its patterns, such as "HT-{YYYY}-{0000}" → "HT-2026-0001".

Tokens: {YYYY} {YY} {MM} {DD} for the date, and exactly one counter of 1 to 12 zeros giving its
minimum width. The counter restarts for each distinct date part, so {YYYY} numbers restart yearly.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec, ObjectSpec

_COLUMN_LENGTH = 255
_TOKEN = re.compile(r"\{([^{}]*)\}")
_COUNTER = re.compile(r"0{1,12}")
_DATE_TOKENS = ("YYYY", "YY", "MM", "DD")


class _Pattern:
    """A parsed pattern: literal text and tokens in order, plus what is wrong with it."""

    __slots__ = ("counters", "parts", "problems")

    def __init__(self, pattern: str) -> None:
        self.parts: list[tuple[str, str | int]] = []  # ("text", s) | ("date", token) | ("counter", width)
        self.problems: list[str] = []
        self.counters = 0
        end = 0
        for match in _TOKEN.finditer(pattern):
            self._literal(pattern[end : match.start()])
            token = match[1]
            if token in _DATE_TOKENS:
                self.parts.append(("date", token))
            elif _COUNTER.fullmatch(token):
                self.parts.append(("counter", len(token)))
                self.counters += 1
            else:
                self.problems.append(f"pattern has an unknown token {{{token}}}")
            end = match.end()
        self._literal(pattern[end:])
        if self.counters != 1:
            self.problems.append(f"pattern needs exactly one counter like {{0000}} (found {self.counters})")

    def _literal(self, text: str) -> None:
        if "{" in text or "}" in text:
            self.problems.append("pattern has a brace that does not belong to a token")
        if text:
            self.parts.append(("text", text))


@lru_cache(maxsize=256)
def _parsed(pattern: str) -> _Pattern:
    return _Pattern(pattern)


def _render_date(token: str, now: datetime) -> str:
    if token == "YYYY":
        return f"{now.year:04d}"
    if token == "YY":
        return f"{now.year % 100:02d}"
    return f"{now.month:02d}" if token == "MM" else f"{now.day:02d}"


def autonumber_period(pattern: str, now: datetime) -> str:
    """The rendered date part of `pattern` at `now` ("2026" for {YYYY}); the counter restarts per value."""
    return "".join(_render_date(token, now) for kind, token in _parsed(pattern).parts if kind == "date")


def format_autonumber(pattern: str, now: datetime, counter: int) -> str:
    """Render `pattern` for the `counter`-th number at `now`; the counter is zero-padded, never cut."""
    before, width, after = autonumber_frame(pattern, now)
    return f"{before}{counter:0{width}d}{after}"


def autonumber_frame(pattern: str, now: datetime) -> tuple[str, int, str]:
    """`pattern` rendered at `now` around its counter: the text before it, its width, the text after."""
    parsed = _parsed(pattern)
    if parsed.problems:
        raise ValueError(f"invalid autonumber pattern {pattern!r}: {parsed.problems[0]}")
    rendered: list[str] = []
    frame: list[str | int] = []
    for kind, part in parsed.parts:
        if kind == "counter":
            frame += ["".join(rendered), part]
            rendered = []
        else:
            rendered.append(part if kind == "text" else _render_date(str(part), now))
    before, width = frame
    return str(before), int(width), "".join(rendered)


class AutonumberType(FieldType):
    """A number the engine gives each new record from the field's `pattern`; people cannot type one."""

    name = "autonumber"
    value_kind = "text"
    params_schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string", "minLength": 1, "maxLength": 200}},
        "required": ["pattern"],
        "additionalProperties": False,
    }

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return String(_COLUMN_LENGTH)

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None or value == "":
            return None
        raise FieldValueError(Message("autonumbered", got=shown(value)))

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        pattern = field.params.get("pattern")
        if not isinstance(pattern, str):
            return ["needs a pattern such as HT-{YYYY}-{0000}"]
        problems = list(_parsed(pattern).problems)
        if not problems:
            longest = format_autonumber(pattern, datetime(2000, 12, 31), 10**12 - 1)
            if len(longest) > _COLUMN_LENGTH:
                problems.append(f"pattern renders numbers longer than {_COLUMN_LENGTH} characters")
        return problems
