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
    writers = model.derive("json_writers", _writers)
    out: dict[str, Any] = {}
    for name, value in record.items():
        write = writers.get(name, _AS_IT_IS)
        out[name] = value if write is None or value is None else write(value)
    return out


Writer = Callable[[Any], Any]
_AS_IT_IS: Writer | None = None


def _writers(model: ObjectModel) -> dict[str, Writer | None]:
    """Each field's JSON writer, and the system moments': a page of 50 records would otherwise look
    up each field's spec and type, and test its kind, 50 times over."""
    writers: dict[str, Writer | None] = {name: _field_writer(model, name) for name in model.fields}
    writers.update(dict.fromkeys(SYSTEM_MOMENTS, moment_json))
    return writers


def _field_writer(model: ObjectModel, name: str) -> Writer:
    spec, field_type = model.fields[name], model.types[name]
    to_json = field_type.to_json
    plain = type(field_type).to_json is FieldType.to_json  # the type sends its values as they are
    result = spec.param("result", "text") if spec.type == "formula" else None

    def write(value: Any) -> Any:
        kind = value.__class__
        if kind is datetime:
            return moment_json(value)
        if plain:  # the usual kinds first, as plain_json would write them
            if kind is str or kind is int or kind is bool:
                return value
            if kind is Decimal:
                return format(value, "f")
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
