"""Records as the API sends them: each field through its type's JSON form, moments as ISO 8601 UTC.

Decimals, currency and percent values travel as exact strings ("120000.50"), dates as
YYYY-MM-DD, datetimes as 2026-11-26T09:00:00Z, lookups and users as ids. The OpenAPI document
(runtime/web/api/openapi.py) describes exactly these shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.base.errors import LoomError
from engine.schema.registry import ObjectModel

SYSTEM_MOMENTS = ("created_at", "updated_at", "deleted_at")
TITLES_KEY = "_titles"


def moment_json(value: datetime | None) -> str | None:
    # isoformat, not strftime: "%Y" drops the leading zeros of years before 1000 on glibc.
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def record_json(model: ObjectModel, record: Mapping[str, Any]) -> dict[str, Any]:
    """One record as JSON: the keys it has (fields the reader may see and system fields)."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        spec = model.fields.get(name)
        if spec is not None:
            out[name] = _field_json(model, name, value)
        elif name in SYSTEM_MOMENTS:
            out[name] = moment_json(value)
        else:
            out[name] = value
    return out


def _field_json(model: ObjectModel, name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return moment_json(value)
    spec = model.fields[name]
    shown = model.types[name].to_json(value, spec)
    if spec.type == "formula":
        # A formula declares its result; the API keeps to that type whatever the expression returned.
        result = spec.param("result", "text")
        if result == "text" and not isinstance(shown, str):
            return str(shown)
        if result == "boolean" and not isinstance(shown, bool):
            return bool(shown)
    return plain_json(shown)


def plain_json(value: Any) -> Any:
    """Engine values (dates, decimals) nested anywhere, as the API writes them."""
    if isinstance(value, datetime):
        return moment_json(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_json(item) for item in value]
    return value


def add_titles(queries: Any, model: ObjectModel, rows: Iterable[dict[str, Any]]) -> None:
    """Give each row `_titles`: lookup field → the display title of the record it points at.

    One query per target object for all the rows; a target the reader may not see has no titles.
    """
    rows = list(rows)
    lookups = [
        spec for spec in model.spec.fields if spec.type == "lookup" and any(spec.name in row for row in rows)
    ]
    titles: dict[str, dict[int, str]] = {}
    for target in {spec.param("target") for spec in lookups}:
        ids = sorted(
            {row[spec.name] for spec in lookups if spec.param("target") == target for row in rows} - {None}
        )
        try:
            titles[target] = queries.titles(target, ids) if ids else {}
        except LoomError:
            titles[target] = {}
    for row in rows:
        row[TITLES_KEY] = {
            spec.name: titles[spec.param("target")][row[spec.name]]
            for spec in lookups
            if row.get(spec.name) in titles.get(spec.param("target"), {})
        }
