"""New records as insert rows and as the JSON of their creation audit, a column at a time.

Field by field for each record, a batch costs a Python call per value for its database form and
another for its audit JSON. Column by column, the usual kinds of value (text, decimals, dates,
whole numbers) are written by expressions inside one comprehension per column, and the
conversions each field needs are worked out once per model and dialect (`new_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Dialect

from engine.fieldtypes.base import FieldType
from engine.fieldtypes.lists import ListValuedType
from engine.fieldtypes.numbers import DecimalType, IntegerType
from engine.fieldtypes.temporal import DateTimeType, DateType
from engine.schema.registry import ObjectModel
from engine.store.audit import encode_text, value_json
from metadata.specs import FieldSpec

SYSTEM_VALUES = ("created_at", "created_by", "updated_at", "updated_by", "owner_id", "version")

Column = list[Any]
Fragments = Callable[[Column], list[str]]


def new_rows(model: ObjectModel, dialect: Dialect) -> NewRows:
    """The model's `NewRows` for this dialect, made once."""
    return model.derive(f"new_rows:{dialect.name}", lambda built: NewRows(built, dialect))


class NewRows:
    """How one model's new records become table rows and creation-audit JSON on one dialect."""

    def __init__(self, model: ObjectModel, dialect: Dialect) -> None:
        table = model.table

        def processor(name: str) -> Callable[[Any], Any] | None:
            return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

        self.fields = [spec.name for spec in model.stored]
        self.columns = ["id", *self.fields, *SYSTEM_VALUES]
        self._getters = [itemgetter(name) for name in self.fields]
        self._conversions: list[tuple[int, Callable[[Any], Any]]] = []
        for position, spec in enumerate(model.stored):
            convert = _to_database(spec, model.types[spec.name], processor(spec.name))
            if convert is not None:
                self._conversions.append((position, convert))
        self._stamp = processor("created_at")
        self._audit = [_audit_column(spec, model.types[spec.name]) for spec in model.stored]

    def values(self, records: Sequence[dict[str, Any]]) -> list[Column]:
        """Each stored field's values across `records`, in the engine's form."""
        return [list(map(getter, records)) for getter in self._getters]

    def rows(
        self,
        ids: Sequence[int],
        records: Sequence[dict[str, Any]],
        values: list[Column],
        now: datetime,
        actor_id: int | None,
    ) -> list[tuple[Any, ...]]:
        """One tuple per record in `columns` order, each value in the database's form."""
        columns = list(values)
        for position, convert in self._conversions:
            columns[position] = list(map(convert, columns[position]))
        stamp = self._stamp(now) if self._stamp else now
        owners = [record["owner"] for record in records]
        return list(
            zip(
                ids,
                *columns,
                repeat(stamp),
                repeat(actor_id),
                repeat(stamp),
                repeat(actor_id),
                owners,
                repeat(1),
            )
        )

    def creation_changes(self, records: Sequence[dict[str, Any]], values: list[Column]) -> list[str]:
        """Each record's creation audit as JSON text: [null, value] for each field it sets."""
        columns = [fragments(column) for fragments, column in zip(self._audit, values, strict=True)]
        columns.append([_owner_part(record["owner"]) for record in records])
        return ["{" + ", ".join(filter(None, parts)) + "}" for parts in zip(*columns, strict=True)]

    def creation_pieces(
        self, record: dict[str, Any], values: list[Column], numbered: Sequence[str]
    ) -> list[str]:
        """One record's creation audit as `creation_changes` writes it, cut where the values of its
        `numbered` fields (empty in `values`) go: each piece before a cut ends in `"name": [null, `."""
        parts = [fragments(column)[0] for fragments, column in zip(self._audit, values, strict=True)]
        pieces, current, separator = [], "{", ""
        for name, part in zip([*self.fields, "owner"], [*parts, _owner_part(record["owner"])], strict=True):
            if name in numbered:
                pieces.append(f'{current}{separator}"{name}": [null, ')
                current, separator = "]", ", "
            elif part:
                current, separator = current + separator + part, ", "
        return [*pieces, current + "}"]


def _owner_part(owner: int | None) -> str:
    return "" if owner is None else f'"owner": [null, {int(owner)}]'


def _to_database(
    spec: FieldSpec, field_type: FieldType, process: Callable[[Any], Any] | None
) -> Callable[[Any], Any] | None:
    """The field type's conversion to its column, then the driver's bind conversion; None for neither."""
    if type(field_type).to_db is FieldType.to_db:
        return process
    to_db = field_type.to_db
    if process is None:
        return lambda value: to_db(value, spec)
    return lambda value: process(to_db(value, spec))


def _audit_column(spec: FieldSpec, field_type: FieldType) -> Fragments:
    """A field's part of the creation audit for a column of values: `"name": [null, value]`, or ""
    for a value the record does not set (empty)."""
    prefix = f'"{spec.name}": [null, '
    kind = type(field_type)
    to_json = None if kind.to_json is FieldType.to_json else field_type.to_json

    def one(value: Any) -> str:
        if value is None or value == "" or value == []:
            return ""
        return prefix + value_json(to_json(value, spec) if to_json else value) + "]"

    # The usual kind of each type, written as `one` would write it: text through the string
    # encoder, and yes/no, ids, decimals, dates and whole numbers, whose JSON never needs escaping.
    if to_json is None:
        return lambda column: [
            ""
            if v is None
            else prefix + encode_text(v) + "]"
            if v.__class__ is str and v
            else prefix + "true]"
            if v is True
            else prefix + "false]"
            if v is False
            else prefix + str(v) + "]"
            if v.__class__ is int
            else one(v)
            for v in column
        ]
    if kind.to_json is DecimalType.to_json:
        return lambda column: [
            "" if v is None else prefix + '"' + format(v, "f") + '"]' if v.__class__ is Decimal else one(v)
            for v in column
        ]
    if kind.to_json is DateTimeType.to_json:
        return lambda column: [
            ""
            if v is None
            else prefix + '"' + v.isoformat(timespec="seconds") + 'Z"]'
            if v.__class__ is datetime and v.tzinfo is None and v.year >= 1000
            else one(v)
            for v in column
        ]
    if kind.to_json is DateType.to_json:
        return lambda column: [
            "" if v is None else prefix + '"' + v.isoformat() + '"]' if v.__class__ is date else one(v)
            for v in column
        ]
    if kind.to_json is IntegerType.to_json:
        return lambda column: [
            "" if v is None else prefix + str(v) + "]" if v.__class__ is int else one(v) for v in column
        ]
    if kind.to_json is ListValuedType.to_json:

        def texts(value: Any) -> str:
            if value.__class__ is list and value:
                try:
                    return prefix + "[" + ", ".join(map(encode_text, value)) + "]]"
                except TypeError:  # an item that is no text: the encoder's own way
                    pass
            return one(value)

        return lambda column: ["" if v is None else texts(v) for v in column]
    return lambda column: [one(v) for v in column]
