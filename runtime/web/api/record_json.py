"""Records as the API sends them: each field through its type's JSON form, moments as ISO 8601 UTC.

Decimals, currency and percent values travel as exact strings ("120000.50"), dates as
YYYY-MM-DD, datetimes as 2026-11-26T09:00:00Z, lookups and users as ids. The OpenAPI document
(runtime/web/api/openapi.py) describes exactly these shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.base.errors import LoomError
from engine.fieldtypes.base import FieldType
from engine.schema.registry import ObjectModel

SYSTEM_MOMENTS = ("created_at", "updated_at", "deleted_at")
TITLES_KEY = "_titles"


def moment_json(value: datetime | None) -> str | None:
    # isoformat, not strftime: "%Y" drops the leading zeros of years before 1000 on glibc.
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def record_json(model: ObjectModel, record: Mapping[str, Any]) -> dict[str, Any]:
    """One record as JSON: the keys it has (fields the reader may see and system fields)."""
    out = dict(record)
    for name, write in model.derive("json_writers", _writers):
        value = out.get(name)
        if value is not None:
            out[name] = write(value)
    return out


Writer = Callable[[Any], Any]


def _writers(model: ObjectModel) -> tuple[tuple[str, Writer], ...]:
    """The writers of the fields whose values need one, and the system moments'. A type that keeps
    its values as they are (text, choices, yes/no, ids) is sent as read, and the response's JSON
    encoder writes any engine value among them as `plain_json` would: a page of 50 records
    would otherwise call a writer for each of forty fields 50 times over."""
    writers = [(name, _field_writer(model, name)) for name in model.fields if not _plain(model, name)]
    return (*writers, *((name, moment_json) for name in SYSTEM_MOMENTS))


def _plain(model: ObjectModel, name: str) -> bool:
    return type(model.types[name]).to_json is FieldType.to_json


def _field_writer(model: ObjectModel, name: str) -> Writer:
    spec, to_json = model.fields[name], model.types[name].to_json
    result = spec.param("result", "text") if spec.type == "formula" else None

    def write(value: Any) -> Any:
        if value.__class__ is datetime:
            return moment_json(value)
        shown = to_json(value, spec)
        # A formula declares its result; the API keeps to that type whatever the expression returned.
        if result == "text" and not isinstance(shown, str):
            return str(shown)
        if result == "boolean" and not isinstance(shown, bool):
            return bool(shown)
        return plain_json(shown)

    return write


def plain_json(value: Any) -> Any:
    """Engine values (dates, decimals) nested anywhere, as the API writes them."""
    kind = value.__class__
    if kind is str or kind is int or kind is bool or value is None:
        return value
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
