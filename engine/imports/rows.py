"""A file row on its way to becoming a record: its cells, the values it maps to, and its JSON form."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from engine.base.messages import Message
from engine.imports.dates import AmbiguousDate, DateReader
from engine.imports.normalise import cell_cleaner
from engine.imports.sources import SourceRow
from engine.imports.values import CHOICE_TYPES, PLACEHOLDERS, ChoiceCells, LookupCells, text_key
from engine.schema.registry import ObjectModel

# Texts whose placeholder test is remembered: option values and the few words a file repeats.
_PLACEHOLDER_MEMO = 4096


@dataclass
class ImportRow:
    line: int
    cells: list[Any]
    values: dict[str, Any]  # field → cell value, cleaned; empty cells left out
    key: Any = None  # update by key: the row's key value
    record: dict[str, Any] | None = None  # the prepared new record
    keys: list[tuple[str, Any]] = field(default_factory=list)
    errors: dict[str, list[Any]] = field(default_factory=dict)  # cells refused before the record is built
    names: dict[str, str] = field(default_factory=dict)  # lookup field → the record's name, to look up


@dataclass(frozen=True)
class CellReaders:
    """How one import reads cells beyond the light cleaning: dates, options and record names."""

    dates: DateReader
    choices: ChoiceCells
    lookups: LookupCells


class RowMapper:
    """Turns file rows into field values, through the column mapping and the light cleaning."""

    def __init__(
        self,
        model: ObjectModel,
        header: list[str],
        mapping: Mapping[str, str],
        normalise: bool,
        readers: CellReaders | None = None,
    ):
        position = {column: index for index, column in enumerate(header)}
        self.readers = readers
        self._placeholders: dict[str, bool] = {}
        lookups = readers.lookups if readers is not None else None
        self.columns = [
            (
                position[column],
                name,
                _cleaner(model.fields[name].type, normalise),
                self._reader(model, name),
                # A lookup cell may name its record; the others need not be asked, cell by cell.
                lookups if lookups is not None and name in lookups.targets else None,
            )
            for column, name in mapping.items()
        ]

    def _reader(self, model: ObjectModel, name: str) -> Callable[[Any], Any] | None:
        readers = self.readers
        if readers is None:
            return None
        kind = model.fields[name].type
        if kind == "date":
            return readers.dates.read_date
        if kind == "datetime":
            return readers.dates.read_datetime
        if kind in CHOICE_TYPES:
            read = readers.choices.reader(name)
            return lambda text: read(text) if type(text) is str else text
        return None

    def _is_placeholder(self, text: str) -> bool:
        # Asked of every option value a select cell reads as: each distinct text is worked out once.
        known = self._placeholders.get(text)
        if known is None:
            known = text_key(text) in PLACEHOLDERS
            if len(self._placeholders) < _PLACEHOLDER_MEMO:
                self._placeholders[text] = known
        return known

    def row(self, source: SourceRow) -> ImportRow:
        cells = source.cells
        width = len(cells)
        values: dict[str, Any] = {}
        row = ImportRow(source.line, cells, values)
        for index, field_name, clean, read, lookups in self.columns:
            value = cells[index] if index < width else None
            if type(value) is str:
                if "\x00" in value:  # only a CSV can hold one; no database column keeps it
                    row.errors[field_name] = [Message("holds_nul")]
                    continue
                value = clean(value)
                if not value:
                    continue
            elif value is None:
                continue
            if read is not None:
                try:
                    value = read(value)
                except AmbiguousDate as ambiguous:
                    row.errors[field_name] = [ambiguous.message]
                    continue
                # A cell read returns as text only when it is no value: "-" or 无 leave the field empty.
                if value is None or (type(value) is str and self._is_placeholder(value)):
                    continue
            elif lookups is not None and lookups.wanted(field_name, value):
                row.names[field_name] = value.strip()
                continue
            values[field_name] = value
        return row


def _cleaner(field_type: str, normalise: bool) -> Callable[[str], str]:
    """How a text cell of a field is cleaned: the light cleaning, or only trimmed when asked not to."""
    return cell_cleaner(field_type) if normalise else str.strip


def json_cell(value: Any) -> Any:
    """A cell as stored in the problem report: JSON's own types, dates as ISO text, blank as null."""
    if value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # inf, nan: JSON has no such number
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
