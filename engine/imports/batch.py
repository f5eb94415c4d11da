"""One batch of rows in one transaction: validate, find duplicates, then create, update or merge.

Rows are matched against existing records (through the key index) and against the rows before
them in the batch. A row whose duplicate is still being created in this batch, or whose record
another row of this batch is already changing, waits for the next round; rounds repeat inside
the same transaction until every row is settled, so a chain of duplicates applies in file order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.base.messages import Message, named
from engine.identity.permissions import ObjectAccess, scope_condition
from engine.imports.dedupe import CHUNK, FieldKeyIndex, KeyIndex
from engine.imports.options import Counts, ImportOptions, Problem
from engine.imports.report import stored_reasons
from engine.imports.rows import ImportRow, json_cell
from engine.imports.values import LookupCells
from engine.records.service import visible_errors
from engine.records.sql import row_to_record, select_columns
from engine.records.uniqueness import UniqueValues
from engine.records.writer import RecordWriter
from engine.schema.registry import ObjectModel, Registry
from engine.store.bulk import insert_rows
from engine.store.system_tables import import_items, import_problems

if TYPE_CHECKING:
    from engine.loom import Loom


class Item(NamedTuple):
    """A record the import created or updated: enough to revert it (the field values it had before)."""

    record_id: int
    line: int
    action: str  # created, updated
    before: dict[str, Any] | None  # updated: each changed field's value before, in JSON form


@dataclass
class BatchOutcome:
    counts: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


@dataclass
class _Change:
    row: ImportRow
    target: int
    why: str


class BatchImporter:
    """Imports batches of one file into one object as one actor, within the caller's transaction."""

    def __init__(
        self,
        loom: Loom,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        actor: Actor,
        access: ObjectAccess,
        options: ImportOptions,
        import_id: int | None,
        lookups: LookupCells | None = None,
        created_lines: dict[int, int] | None = None,
    ) -> None:
        self.loom, self.conn, self.registry, self.model = loom, conn, registry, model
        self.actor, self.access, self.options, self.import_id = actor, access, options, import_id
        self.lookups = lookups
        # Records this import created, by the line that created them: a later twin names that line.
        # A stored import finds those of earlier batches in its items (`_lines_of`).
        self.created_lines = created_lines if created_lines is not None else {}
        self.ectx, self.sctx = loom.contexts(actor)
        self.writer = RecordWriter(loom, conn, registry, model, actor, self.ectx)
        self.keys = KeyIndex(model)
        self._text_key_fields = {n for n in self.keys.fields if model.types[n].value_kind == "text"}
        self.by_field = FieldKeyIndex(model, options.key) if options.key else None
        self.unique = UniqueValues(model)
        self.versions: dict[int, int] = {}  # each record this batch wrote: its version after the write

    def run(self, rows: Sequence[ImportRow]) -> BatchOutcome:
        outcome = BatchOutcome()
        self.versions = {}
        self._find_named(rows)
        pending = self._keyed(rows, outcome)
        while pending:
            pending = self._round(pending, outcome)
        if self.import_id is not None:
            self._store(outcome, self._settled_versions(outcome.items))
        return outcome

    # -- validating ---------------------------------------------------------------------------------

    def _find_named(self, rows: Sequence[ImportRow]) -> None:
        """Lookup cells that name a record (by title or a unique field) become its id, or the row's error."""
        if self.lookups is None:
            return
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for name, text in row.names.items():
                wanted.setdefault(name, set()).add(text)
        if not wanted:
            return
        self.lookups.resolve(self.conn, wanted)
        for row in rows:
            for name, text in row.names.items():
                found = self.lookups.answer(name, text)
                if isinstance(found, int):
                    row.values[name] = found
                else:
                    row.errors[name] = [found]

    def _keyed(self, rows: Sequence[ImportRow], outcome: BatchOutcome) -> list[ImportRow]:
        """Each row's match keys, from its own cells: a row that updates a record need not be a whole one."""
        keyed = []
        for row in rows:
            if self.by_field is not None:
                try:
                    row.key = self.by_field.key_value(row.values.get(self.by_field.field))
                except ValueError as error:
                    self._invalid(outcome, row, {self.by_field.field: [str(error)]})
                    continue
                row.keys = [(self.by_field.rule, row.key)] if row.key is not None else []
            else:
                row.keys = self.keys.keys(self._match_values(row.values))
            keyed.append(row)
        return keyed

    def _match_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The duplicate-rule fields of a row as their types read them; a bad value matches nothing."""
        found = {}
        texts = self._text_key_fields
        for name in self.keys.fields:
            raw = values.get(name)
            if raw is None:
                continue
            if type(raw) is str and name in texts:
                found[name] = raw  # the normalisers read text as typed; coercing it twice costs
                continue
            try:
                found[name] = self.model.types[name].coerce(raw, self.model.fields[name], "csv")
            except ValueError:
                continue
        return found

    def _validated(self, rows: list[ImportRow]) -> dict[int, dict[str, list[Any]]]:
        """Prepare rows as new records; returns every error of each bad row, by the row's id."""
        prepared: list[ImportRow] = []
        bad: dict[int, dict[str, list[Any]]] = {}
        for row in rows:
            record, errors = self.writer.prepare_new(self._new_values(row), "csv", check_references=False)
            if row.errors:
                errors = {**row.errors, **{n: m for n, m in errors.items() if n not in row.errors}}
            if errors:
                bad[id(row)] = errors
            else:
                row.record = record
                prepared.append(row)
        missing = self.writer.reference_errors([row.record for row in prepared])  # type: ignore[misc]
        for position, errors in missing.items():
            prepared[position].record = None
            bad[id(prepared[position])] = errors
        return bad

    def _new_values(self, row: ImportRow) -> dict[str, Any]:
        if self.by_field is not None and self.by_field.spec.type == "autonumber":
            return {n: v for n, v in row.values.items() if n != self.by_field.field}
        return row.values

    def _invalid(self, outcome: BatchOutcome, row: ImportRow, errors: Mapping[str, list[str]]) -> None:
        outcome.counts.invalid += 1
        reasons = visible_errors(self.access, errors)
        outcome.problems.append(Problem(row.line, "invalid", [json_cell(c) for c in row.cells], reasons))

    def _duplicate(self, outcome: BatchOutcome, row: ImportRow, why: str) -> None:
        outcome.counts.skipped += 1
        outcome.problems.append(
            Problem(row.line, "duplicate", [json_cell(c) for c in row.cells], {"_record": [why]})
        )

    # -- matching -----------------------------------------------------------------------------------

    def _round(self, pending: list[ImportRow], outcome: BatchOutcome) -> list[ImportRow]:
        """Settle every row that does not wait on another; return the rows that wait."""
        existing = self._existing([key for row in pending for key in row.keys])
        unmatched = [r for r in pending if r.record is None and not any(k in existing for k in r.keys)]
        dropped: set[int] = set()
        if self.by_field is not None and self.by_field.spec.type == "autonumber":
            # A number the system draws cannot come from the file: an unknown one matches nothing.
            for row in [r for r in unmatched if r.key is not None]:
                field = self.by_field.field
                message = Message(
                    "no_record_numbered", object=self._named, field=self._field_named(field), key=row.key
                )
                self._invalid(outcome, row, {self.by_field.field: [message]})
                dropped.add(id(row))
            unmatched = [r for r in unmatched if id(r) not in dropped]
        bad = self._validated([r for r in unmatched if id(r) not in dropped])
        pending = [r for r in pending if id(r) not in dropped]
        skip = self.options.on_duplicate == "skip" and self.by_field is None
        waiting: list[ImportRow] = []
        creates: list[ImportRow] = []
        changes: list[_Change] = []
        new_keys: dict[tuple[str, Any], ImportRow] = {}
        claimed: set[int] = set()
        lines = self._lines_of({existing[k] for row in pending for k in row.keys if k in existing})
        # One verdict per row: a row whose twin is an earlier line of the file is a duplicate as surely
        # as one whose twin was already in the database, whether or not its own cells are valid.
        for row in pending:
            target = next(((existing[k], k[0]) for k in row.keys if k in existing), None)
            if target is not None:
                record_id, rule = target
                line = lines.get(record_id)
                if line is not None:
                    why = Message("duplicates_line", line=line, rule=self._rule_label(rule))
                else:
                    why = Message(
                        "duplicates_record", object=self._named, id=record_id, rule=self._rule_label(rule)
                    )
                if skip:
                    self._duplicate(outcome, row, why)
                elif record_id in claimed:
                    waiting.append(row)
                else:
                    claimed.add(record_id)
                    changes.append(_Change(row, record_id, why))
                continue
            twin = next(((new_keys[k], k[0]) for k in row.keys if k in new_keys), None)
            if twin is not None:
                if skip:
                    why = Message("duplicates_line", line=twin[0].line, rule=self._rule_label(twin[1]))
                    self._duplicate(outcome, row, why)
                else:
                    waiting.append(row)
                continue
            if id(row) in bad:
                self._invalid(outcome, row, bad[id(row)])
                continue
            for key in row.keys:
                new_keys[key] = row
            creates.append(row)
        self._create(creates, outcome)
        self._change(changes, outcome)
        return waiting

    def _lines_of(self, record_ids: set[int]) -> dict[int, int]:
        """The file line that created each of these records, for those this import created."""
        found = {i: self.created_lines[i] for i in record_ids if i in self.created_lines}
        missing = [i for i in record_ids if i not in found]
        if self.import_id is None or not missing:
            return found
        for start in range(0, len(missing), CHUNK):
            query = select(import_items.c.record_id, import_items.c.line).where(
                import_items.c.import_id == self.import_id,
                import_items.c.record_id.in_(missing[start : start + CHUNK]),
                import_items.c.action == "created",
            )
            found.update((record_id, line) for record_id, line in self.conn.execute(query))
        return found

    def _rule_label(self, rule: str) -> str:
        """A duplicate rule as people read it: the fields that matched (联系电话相同), not its name."""
        if rule.startswith("key:"):
            return Message("same_key", field=self._field_named(rule[4:]))
        fields = next((r.fields for r in self.keys.rules if r.name == rule), None)
        if not fields:
            return rule
        return Message("same_key", field=[self._field_named(name) for name in fields])

    @property
    def _named(self) -> dict[str, str]:
        return named(self.model.name, self.model.spec.label)

    def _field_named(self, name: str) -> dict[str, str]:
        spec = self.model.fields.get(name)
        return named(name, spec.label if spec else None)

    def _existing(self, keys: list[tuple[str, Any]]) -> dict[tuple[str, Any], int]:
        if not keys:
            return {}
        if self.by_field is None:
            return self.keys.lookup(self.conn, keys)
        found = self.by_field.lookup(self.conn, [value for _, value in keys])
        return {(self.by_field.rule, value): record_id for value, record_id in found.items()}

    # -- writing ------------------------------------------------------------------------------------

    def _create(self, rows: list[ImportRow], outcome: BatchOutcome) -> None:
        clashes = self.unique.clashes(self.conn, [(row.record, None) for row in rows])  # type: ignore[misc]
        for position, errors in clashes.items():
            self._invalid(outcome, rows[position], errors)
        rows = [row for position, row in enumerate(rows) if position not in clashes]
        if not rows:
            return
        records = [row.record for row in rows]
        ids = self.writer.insert(records)  # type: ignore[arg-type]
        if self.by_field is None:
            self.keys.write_keys(
                self.conn, [(record_id, row.keys) for record_id, row in zip(ids, rows, strict=True)]
            )
        outcome.counts.created += len(ids)
        self.created_lines.update((record_id, row.line) for record_id, row in zip(ids, rows, strict=True))
        self.versions.update(dict.fromkeys(ids, 1))
        outcome.items += [
            Item(record_id, row.line, "created", None) for record_id, row in zip(ids, rows, strict=True)
        ]

    def _change(self, changes: list[_Change], outcome: BatchOutcome) -> None:
        if not changes:
            return
        olds, allowed = self._targets([change.target for change in changes])
        merge = self.options.on_duplicate == "merge"
        planned: list[tuple[_Change, dict[str, Any], dict[str, Any]]] = []
        for change in changes:
            old = olds[change.target]
            if change.target not in allowed:
                self._invalid(
                    outcome, change.row, {"_record": [Message("duplicate_not_yours", why=change.why)]}
                )
                continue
            values = self._changed_values(change.row)
            if merge:
                values = {n: v for n, v in values.items() if self.model.types[n].is_empty(old.get(n))}
            if not values:
                outcome.counts.unchanged += 1
                continue
            try:
                new, errors = self.writer.prepare_change(old, values, "csv")
            except LoomError as error:  # a before-save handler refused (e.g. a record locked in approval)
                new, errors = {}, {"_record": [error.message]}
            if errors:
                errors.setdefault("_record", []).insert(0, Message("duplicate_update_failed", why=change.why))
                self._invalid(outcome, change.row, errors)
                continue
            planned.append((change, old, new))
        clashes = self.unique.clashes(self.conn, [(new, old["id"]) for _, old, new in planned])
        for position, errors in clashes.items():
            self._invalid(outcome, planned[position][0].row, errors)
        rekeyed = []
        for position, (change, old, new) in enumerate(planned):
            if position in clashes:
                continue
            before = self._before(old, new)
            if not self.writer.update(old, new):
                outcome.counts.unchanged += 1
                continue
            if merge:
                outcome.counts.merged += 1
            else:
                outcome.counts.updated += 1
            rekeyed.append((old["id"], new))
            self.versions[old["id"]] = old["version"] + 1
            outcome.items.append(Item(old["id"], change.row.line, "updated", before))
        self.keys.write(self.conn, rekeyed)

    def _changed_values(self, row: ImportRow) -> dict[str, Any]:
        return dict(self._new_values(row))

    def _targets(self, ids: list[int]) -> tuple[dict[int, dict[str, Any]], set[int]]:
        """The records rows will change (one query), and which of them the actor may change."""
        table = self.model.table
        query = select(*select_columns(self.model, self.registry, self.sctx)).where(table.c.id.in_(ids))
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=table)
        olds = {row.id: row_to_record(self.model, row, self.ectx) for row in self.conn.execute(query)}
        if self.access.unrestricted:
            return olds, set(olds)
        allowed = select(table.c.id).where(table.c.id.in_(ids))
        for operation in ("update", "import"):
            scope = scope_condition(self.model, self.access, operation, self.actor)
            if scope is not None:
                allowed = allowed.where(scope)
        return olds, set(self.conn.execute(allowed).scalars())

    def _before(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """Each field the change touches, with its value before, in JSON form."""
        before = {}
        for name, spec, ftype in self.writer.to_db:
            if name in self.writer.settable and new[name] != old[name]:
                before[name] = ftype.to_json(old[name], spec) if old[name] is not None else None
        return before

    # -- bookkeeping --------------------------------------------------------------------------------

    def _settled_versions(self, items: list[Item]) -> dict[int, int]:
        """Each touched record's version once the batch (and any rule it fired) is done with it.

        Without after-save handlers nothing but the batch itself wrote the records, so the versions
        it wrote are the answer; a rule may have saved a record again, so then they are read back.
        """
        if not items or not self.writer.after_save:
            return self.versions
        table = self.model.table
        ids = list({item.record_id for item in items})
        return dict(self.conn.execute(select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())

    def _store(self, outcome: BatchOutcome, versions: Mapping[int, int]) -> None:
        encode = json.JSONEncoder(ensure_ascii=False).encode
        insert_rows(
            self.conn,
            import_items.name,
            ("import_id", "record_id", "line", "action", "before", "version_after"),
            [
                (
                    self.import_id,
                    item.record_id,
                    item.line,
                    item.action,
                    None if item.before is None else encode(item.before),
                    versions[item.record_id],
                )
                for item in outcome.items
            ],
        )
        insert_rows(
            self.conn,
            import_problems.name,
            ("import_id", "line", "kind", "cells", "reasons"),
            [
                (self.import_id, p.line, p.kind, encode(p.cells), encode(stored_reasons(p.reasons)))
                for p in outcome.problems
            ],
        )
