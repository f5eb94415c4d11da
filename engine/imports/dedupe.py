"""Finding the record a row duplicates, in batches, through indexed keys — never a query per row.

An object's duplicate rules ("same phone", "same company and contact") compare normalised values,
which no column index can serve, so every record's normalised keys live in `loom_match_keys`.
The table is brought up to date from the records' `updated_at` index before each import (a
catch-up that reads only what changed since the last one), and an import writes the keys of
the records it creates or changes in the same transaction as the records themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from engine.imports.normalise import NORMALISERS, match_key, trim_key
from engine.schema.registry import ObjectModel
from engine.store.bulk import insert_rows
from engine.store.system_tables import match_keys, state

# Writes stamped before a catch-up may commit after it (a long transaction on PostgreSQL), so
# each catch-up reads again what changed in the minutes before the previous one.
CATCH_UP_MARGIN = timedelta(minutes=10)
CHUNK = 2000

Key = tuple[str, int]  # (rule name, digest)


@dataclass(frozen=True)
class RuleMatcher:
    """One duplicate rule: records are duplicates when all its fields match once normalised."""

    name: str
    fields: tuple[str, ...]
    normalisers: tuple[Callable[[str], str], ...]

    def key(self, record: Mapping[str, Any]) -> int | None:
        return match_key(self.name, [record.get(name) for name in self.fields], self.normalisers)


def rule_matchers(model: ObjectModel) -> list[RuleMatcher]:
    """The object's duplicate rules, in declaration order (the first one that matches wins)."""
    matchers = []
    for rule in model.spec.duplicate_rules:
        normalize = rule.get("normalize", {})
        fields = tuple(rule["match"])
        matchers.append(
            RuleMatcher(
                rule["name"], fields, tuple(NORMALISERS.get(normalize.get(f), trim_key) for f in fields)
            )
        )
    return matchers


class KeyIndex:
    """The normalised duplicate-rule keys of one object's records."""

    def __init__(self, model: ObjectModel) -> None:
        self.model = model
        self.rules = rule_matchers(model)
        self.fields = sorted({name for rule in self.rules for name in rule.fields})
        self.fingerprint = hashlib.sha256(
            json.dumps(
                [[r.name, list(r.fields), [n.__name__ for n in r.normalisers]] for r in self.rules]
            ).encode()
        ).hexdigest()[:16]
        self._state_key = f"match_keys:{model.name}"

    def keys(self, record: Mapping[str, Any]) -> list[Key]:
        found = []
        for rule in self.rules:
            digest = rule.key(record)
            if digest is not None:
                found.append((rule.name, digest))
        return found

    # -- keeping the keys current -----------------------------------------------------------------

    def catch_up(self, conn: Connection, now: datetime) -> int:
        """Re-key the records saved since the last catch-up (all of them the first time); returns how many."""
        if not self.rules:
            return 0
        saved = conn.execute(select(state.c.value).where(state.c.key == self._state_key)).scalar()
        since = None
        if saved is not None:
            doc = json.loads(saved)
            if doc.get("rules") == self.fingerprint and doc.get("since"):
                since = datetime.fromisoformat(doc["since"])
        if since is None:
            conn.execute(delete(match_keys).where(match_keys.c.object == self.model.name))
        table = self.model.table
        query = select(table.c.id, table.c.deleted_at, *(table.c[name] for name in self.fields))
        if since is not None:
            query = query.where(table.c.updated_at >= since)
        seen = 0
        result = conn.execute(query, execution_options={"stream_results": True, "yield_per": CHUNK})
        for rows in result.partitions():
            live = [(row.id, self._record(row)) for row in rows if row.deleted_at is None]
            self.forget(conn, [row.id for row in rows])
            self.write(conn, live, forget=False)
            seen += len(rows)
        value = json.dumps({"rules": self.fingerprint, "since": (now - CATCH_UP_MARGIN).isoformat()})
        if saved is None:
            conn.execute(state.insert().values(key=self._state_key, value=value))
        else:
            conn.execute(state.update().where(state.c.key == self._state_key).values(value=value))
        return seen

    def _record(self, row: Any) -> dict[str, Any]:
        data = row._mapping
        types, fields = self.model.types, self.model.fields
        return {name: types[name].from_db(data[name], fields[name]) for name in self.fields}

    def write(
        self, conn: Connection, records: Sequence[tuple[int, Mapping[str, Any]]], *, forget: bool = True
    ) -> None:
        """Store the keys of records just created or changed (replacing their old keys)."""
        if not self.rules or not records:
            return
        if forget:
            self.forget(conn, [record_id for record_id, _ in records])
        self.write_keys(conn, [(record_id, self.keys(record)) for record_id, record in records])

    def write_keys(self, conn: Connection, keyed: Sequence[tuple[int, Sequence[Key]]]) -> None:
        """Store keys already computed for new records (they have none to replace)."""
        name = self.model.name
        rows = [(name, record_id, digest) for record_id, keys in keyed for _, digest in keys]
        insert_rows(conn, match_keys.name, ("object", "record_id", "key"), rows)

    def forget(self, conn: Connection, record_ids: Iterable[int]) -> None:
        ids = list(record_ids)
        for start in range(0, len(ids), CHUNK):
            conn.execute(
                delete(match_keys).where(
                    match_keys.c.object == self.model.name,
                    match_keys.c.record_id.in_(ids[start : start + CHUNK]),
                )
            )

    # -- finding duplicates -----------------------------------------------------------------------

    def lookup(self, conn: Connection, wanted: Iterable[Key]) -> dict[Key, int]:
        """The oldest live record holding each key: one indexed query per chunk of the whole batch."""
        rules = {digest: rule for rule, digest in wanted}  # the rule is part of the digest
        digests = list(rules)
        found: dict[Key, int] = {}
        for start in range(0, len(digests), CHUNK):
            for digest, record_id in self._holders(conn, digests[start : start + CHUNK]):
                key = (rules[digest], digest)
                current = found.get(key)
                if current is None or record_id < current:
                    found[key] = record_id
        return found

    def _holders(self, conn: Connection, digests: list[int]) -> list[tuple[int, int]]:
        """(digest, record id) of live records holding one of `digests`.

        Written for the driver: SQLAlchemy renders an expanding IN list one parameter at a time,
        which costs more than the indexed lookup itself.
        """
        quote = conn.dialect.identifier_preparer.quote
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        key, object_ = quote("key"), quote("object")
        # PostgreSQL takes the digests as one array (what it makes of an IN list anyway); psycopg
        # would otherwise split a statement text of 2,000 placeholders, costlier than the lookup.
        postgres = conn.dialect.name == "postgresql"
        wanted = f"= ANY({marker})" if postgres else f"IN ({', '.join([marker] * len(digests))})"
        query = (
            f"SELECT k.{key}, k.record_id FROM {quote(match_keys.name)} k"
            f" JOIN {quote(self.model.table.name)} r ON r.id = k.record_id"
            f" WHERE k.{object_} = {marker} AND k.{key} {wanted} AND r.deleted_at IS NULL"
        )
        parameters = (self.model.name, digests) if postgres else (self.model.name, *digests)
        return conn.exec_driver_sql(query, parameters).all()


class FieldKeyIndex:
    """Update by key: rows match records on one unique field, looked up through its unique index."""

    def __init__(self, model: ObjectModel, field: str) -> None:
        self.model = model
        self.field = field
        self.rule = f"key:{field}"
        self.spec = model.fields[field]
        self.type = model.types[field]

    def key_value(self, raw: Any) -> Any:
        """The key as stored: coerced by the field's type when it has one that accepts input."""
        if raw is None or raw == "":
            return None
        if self.spec.type == "autonumber":
            return str(raw).strip() or None
        return self.type.coerce(raw, self.spec, "csv")

    def lookup(self, conn: Connection, values: Iterable[Any]) -> dict[Any, int]:
        wanted = list({value for value in values if value is not None})
        column = self.model.table.c[self.field]
        found: dict[Any, int] = {}
        for start in range(0, len(wanted), CHUNK):
            query = select(column, self.model.table.c.id).where(
                column.in_([self.type.to_db(v, self.spec) for v in wanted[start : start + CHUNK]]),
                self.model.table.c.deleted_at.is_(None),
            )
            for value, record_id in conn.execute(query):
                found[self.type.from_db(value, self.spec)] = record_id
        return found
