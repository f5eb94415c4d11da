"""Unique fields and keys checked before writing, so a clash is a field error, not a database crash."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, tuple_

from engine.base.messages import Message, named
from engine.schema.registry import ObjectModel

CHUNK = 500


class UniqueValues:
    """The object's unique fields and unique keys that a write can set."""

    def __init__(self, model: ObjectModel) -> None:
        self.model = model
        keys = [(spec.name,) for spec in model.stored if spec.unique]
        keys += [tuple(key) for key in model.spec.unique_keys if tuple(key) not in keys]
        # An autonumber is drawn by the system and unique by construction.
        self.keys = [key for key in keys if all(model.fields[f].type != "autonumber" for f in key)]
        self.named = named(model.name, model.spec.label)

    def clashes(
        self, conn: Connection, entries: Sequence[tuple[Mapping[str, Any], int | None]]
    ) -> dict[int, dict[str, list[str]]]:
        """Position → errors for each record whose unique values another record (or earlier row) holds.

        `entries` are (values, the record's own id or None for a new record).
        """
        found: dict[int, dict[str, list[str]]] = {}
        for key in self.keys:
            wanted: dict[tuple[Any, ...], int] = {}
            for position, (record, _) in enumerate(entries):
                value = tuple(map(record.get, key))
                if any(part is None for part in value):
                    continue
                if value in wanted:
                    message = Message("unique_in_earlier_row", value=_shown(value))
                    found.setdefault(position, {}).setdefault(key[0], []).append(message)
                else:
                    wanted[value] = position
            for value, holder, deleted in self._holders(conn, key, list(wanted)):
                position = wanted[value]
                if holder == entries[position][1]:
                    continue
                code = "unique_taken_in_bin" if deleted else "unique_taken"
                message = Message(code, value=_shown(value), object=self.named, id=holder)
                found.setdefault(position, {}).setdefault(key[0], []).append(message)
        return found

    def _holders(self, conn: Connection, key: tuple[str, ...], values: list[tuple[Any, ...]]):  # type: ignore[no-untyped-def]
        table, types, fields = self.model.table, self.model.types, self.model.fields
        columns = [table.c[name] for name in key]
        target = columns[0] if len(key) == 1 else tuple_(*columns)
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            stored = [
                tuple(types[n].to_db(v, fields[n]) for n, v in zip(key, value, strict=True))
                for value in chunk
            ]
            wanted = [value[0] for value in stored] if len(key) == 1 else stored
            query = select(*columns, table.c.id, table.c.deleted_at).where(target.in_(wanted))
            for row in conn.execute(query):
                value = tuple(types[n].from_db(row[i], fields[n]) for i, n in enumerate(key))
                yield value, row.id, row.deleted_at is not None


def _shown(value: tuple[Any, ...]) -> str:
    return " + ".join(str(part) for part in value)
