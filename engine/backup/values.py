"""Column values in a backup: each column has a kind, and each kind one JSON form that reads back exactly.

A row is a JSON array in the order of its table's columns. Decimals are text (no float ever
touches them), moments ISO 8601 (with their offset when they have one), bytes base64, JSON columns
their JSON. A table's checksum is over each row's canonical text (JSON object keys sorted) and does
not depend on row order, so SQLite and PostgreSQL — whose sort orders of text differ — agree on it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric, String, Time
from sqlalchemy.types import TypeEngine

KINDS = ("integer", "boolean", "decimal", "float", "datetime", "date", "time", "json", "text", "binary")

# The first match wins: Float is a Numeric, and Boolean is tested before anything SQLite may call integer.
_KIND_OF: tuple[tuple[type, str], ...] = (
    (Boolean, "boolean"),
    (Integer, "integer"),
    (Float, "float"),
    (Numeric, "decimal"),
    (DateTime, "datetime"),
    (Date, "date"),
    (Time, "time"),
    (JSON, "json"),
    (LargeBinary, "binary"),
    (String, "text"),
)


class UnsupportedColumn(TypeError):
    """A column whose type has no portable form in a backup."""


def column_kind(column_type: TypeEngine[Any]) -> str:
    """The portable kind of a column type (engine-defined or reflected from the database)."""
    for sql_type, kind in _KIND_OF:
        if isinstance(column_type, sql_type):
            return kind
    raise UnsupportedColumn(f"no portable form for a column of type {column_type!r}")


def _decimal_text(value: Any) -> str:
    """A decimal as plain text without exponent or trailing zeros: 12.50 and 12.5 are one value."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_ENCODE: dict[str, Callable[[Any], Any]] = {
    "integer": int,
    "boolean": bool,
    "decimal": _decimal_text,
    "float": float,
    "datetime": lambda value: value.isoformat(),
    "date": lambda value: value.isoformat(),
    "time": lambda value: value.isoformat(),
    "json": lambda value: value,
    "text": str,
    "binary": lambda value: base64.b64encode(bytes(value)).decode("ascii"),
}

_DECODE: dict[str, Callable[[Any], Any]] = {
    "integer": int,
    "boolean": bool,
    "decimal": Decimal,
    "float": float,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "json": lambda value: value,
    "text": str,
    "binary": base64.b64decode,
}


class RowCodec:
    """Turns rows of one table into backup lines and back, for its columns' kinds."""

    def __init__(self, kinds: Sequence[str]) -> None:
        unknown = [kind for kind in kinds if kind not in _ENCODE]
        if unknown:
            raise UnsupportedColumn(f"unknown column kind(s) {', '.join(unknown)}")
        self.kinds = tuple(kinds)
        self._encoders = [_ENCODE[kind] for kind in kinds]
        self._decoders = [_DECODE[kind] for kind in kinds]

    def encode(self, row: Sequence[Any]) -> list[Any]:
        return [
            None if value is None else encode(value)
            for encode, value in zip(self._encoders, row, strict=True)
        ]

    def decode(self, values: Sequence[Any]) -> list[Any]:
        if len(values) != len(self._decoders):
            raise ValueError(f"a row has {len(values)} values, the table {len(self._decoders)} columns")
        return [
            None if value is None else decode(value)
            for decode, value in zip(self._decoders, values, strict=True)
        ]


def line(values: Sequence[Any]) -> str:
    """One row as it is written to the archive (JSON object keys in their stored order)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical(values: Sequence[Any]) -> bytes:
    """One row as the checksum reads it: JSON object keys sorted, since JSONB reorders them."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return text.encode("utf-8")


class TableDigest:
    """Row count and an order-independent checksum (the sum of each row's SHA-256, modulo 2²⁵⁶)."""

    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, encoded: Sequence[Any]) -> None:
        self.rows += 1
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(canonical(encoded)).digest(), "big")) % (
            1 << 256
        )

    @property
    def checksum(self) -> str:
        return f"{self._sum:064x}"
