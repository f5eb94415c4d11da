"""A file row on its way to becoming a record: its cells, the values it maps to, and its JSON form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from engine.imports.normalise import cell_cleaner
from engine.imports.sources import SourceRow
from engine.schema.registry import ObjectModel


@dataclass
class ImportRow:
    line: int
    cells: list[Any]
    values: dict[str, Any]  # field → cell value, cleaned; empty cells left out
    key: Any = None  # update by key: the row's key value
    record: dict[str, Any] | None = None  # the prepared new record
    keys: list[tuple[str, Any]] = field(default_factory=list)


class RowMapper:
    """Turns file rows into field values, through the column mapping and the light cleaning."""

    def __init__(self, model: ObjectModel, header: list[str], mapping: Mapping[str, str], normalise: bool):
        position = {column: index for index, column in enumerate(header)}
        self.columns = [
            (position[column], field, _cleaner(model.fields[field].type, normalise))
            for column, field in mapping.items()
        ]

    def row(self, source: SourceRow) -> ImportRow:
        cells = source.cells
        width = len(cells)
        values: dict[str, Any] = {}
        for index, field_name, clean in self.columns:
            value = cells[index] if index < width else None
            if type(value) is str:
                value = clean(value)
                if value:
                    values[field_name] = value
            elif value is not None:
                values[field_name] = value
        return ImportRow(source.line, cells, values)


def _cleaner(field_type: str, normalise: bool) -> Callable[[str], str]:
    """How a text cell of a field is cleaned: the light cleaning, or only trimmed when asked not to."""
    return cell_cleaner(field_type) if normalise else str.strip


def json_cell(value: Any) -> Any:
    """A cell as stored in the problem report: JSON's own types, dates as ISO text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
