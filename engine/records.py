"""RecordService: create, read, update, delete and restore records, with validation, audit and events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from engine.actors import Actor
from engine.audit import audit_row, record_history, write_audit
from engine.errors import BulkInvalid, ConflictError, RecordInvalid, RecordNotFound
from engine.events import RecordEvent
from engine.expressions import EvalContext, SqlContext
from engine.fieldtypes.base import Source
from engine.record_sql import row_to_record, select_columns
from engine.record_writer import RecordWriter
from engine.registry import ObjectModel, Registry

if TYPE_CHECKING:
    from engine.loom import Loom

BULK_BATCH = 1000


class RecordService:
    """Every record write and single-record read goes through here, as one actor, in one transaction."""

    def __init__(self, loom: Loom, actor: Actor, conn: Connection | None = None) -> None:
        self.loom = loom
        self.actor = actor
        self.conn = conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self.conn is not None:
            yield self.conn
        else:
            with self.loom.begin() as conn:
                yield conn

    def _contexts(self) -> tuple[EvalContext, SqlContext]:
        return self.loom.contexts(self.actor)

    # -- reads ------------------------------------------------------------------------------------

    def get(self, object_name: str, record_id: int, *, include_deleted: bool = False) -> dict[str, Any]:
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            return self._get(conn, registry, registry.object(object_name), record_id, include_deleted)

    def _get(
        self,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        record_id: int,
        include_deleted: bool = False,
    ) -> dict[str, Any]:
        ectx, sctx = self._contexts()
        query = select(*select_columns(model, registry, sctx)).where(model.table.c.id == record_id)
        if not include_deleted:
            query = query.where(model.table.c.deleted_at.is_(None))
        row = conn.execute(query).first()
        if row is None:
            raise RecordNotFound(model.name, record_id)
        return row_to_record(model, row, ectx)

    def history(self, object_name: str, record_id: int) -> list[dict[str, Any]]:
        """The record's audit trail, oldest first."""
        with self._transaction() as conn:
            return record_history(conn, object_name, record_id)

    # -- writes -----------------------------------------------------------------------------------

    def create(
        self, object_name: str, values: Mapping[str, Any], *, source: Source = "json"
    ) -> dict[str, Any]:
        """Validate and insert one record; every field error is reported at once."""
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            writer = self._writer(conn, registry, model)
            prepared, errors = writer.prepare_new(values, source)
            if errors:
                raise RecordInvalid(object_name, errors)
            [record_id] = writer.insert([prepared])
            return self._get(conn, registry, model, record_id)

    def bulk_create(
        self, object_name: str, rows: Iterable[Mapping[str, Any]], *, source: Source = "json"
    ) -> list[int]:
        """Insert many records in one transaction: all of them, or — if any row is invalid — none."""
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            writer = self._writer(conn, registry, model)
            ids: list[int] = []
            failures: dict[int, dict[str, list[str]]] = {}
            offset = 0
            iterator = iter(rows)
            while batch := list(islice(iterator, BULK_BATCH)):
                prepared: list[tuple[int, dict[str, Any]]] = []
                for index, values in enumerate(batch, start=offset):
                    record, errors = writer.prepare_new(values, source, check_references=False)
                    if errors:
                        failures[index] = errors
                    else:
                        prepared.append((index, record))
                offset += len(batch)
                missing = writer.reference_errors([record for _, record in prepared])
                for position, errors in missing.items():
                    failures[prepared[position][0]] = errors
                if not failures:
                    ids += writer.insert([record for _, record in prepared])
            if failures:
                raise BulkInvalid(object_name, failures)
            return ids

    def update(
        self,
        object_name: str,
        record_id: int,
        changes: Mapping[str, Any],
        *,
        version: int | None = None,
        source: Source = "json",
    ) -> dict[str, Any]:
        """Apply changes; with `version`, refuse if someone else saved the record since it was read."""
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            old = self._locked(conn, registry, model, record_id)
            if version is not None and old["version"] != version:
                raise ConflictError(object_name, record_id, version, old["version"])
            writer = self._writer(conn, registry, model)
            new, errors = writer.prepare_change(old, changes, source)
            if errors:
                raise RecordInvalid(object_name, errors)
            writer.update(old, new)
            return self._get(conn, registry, model, record_id)

    def delete(self, object_name: str, record_id: int, *, version: int | None = None) -> None:
        """Move a record to the recycle bin; `restore` brings it back unchanged."""
        self._set_deleted(object_name, record_id, version, deleted=True)

    def restore(self, object_name: str, record_id: int) -> dict[str, Any]:
        return self._set_deleted(object_name, record_id, None, deleted=False)

    def _set_deleted(
        self, object_name: str, record_id: int, version: int | None, *, deleted: bool
    ) -> dict[str, Any]:
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            old = self._locked(conn, registry, model, record_id, include_deleted=True)
            if (old["deleted_at"] is not None) != (not deleted):
                raise RecordNotFound(object_name, record_id)
            if version is not None and old["version"] != version:
                raise ConflictError(object_name, record_id, version, old["version"])
            now = self.loom.clock.now()
            table = model.table
            result = conn.execute(
                update(table)
                .where(table.c.id == record_id, table.c.version == old["version"])
                .values(
                    deleted_at=now if deleted else None,
                    version=old["version"] + 1,
                    updated_at=now,
                    updated_by=self.actor.user_id,
                )
            )
            if result.rowcount != 1:
                raise ConflictError(object_name, record_id, old["version"], None)
            action = "delete" if deleted else "restore"
            write_audit(conn, [audit_row(self.actor, now, object_name, record_id, action, {})])
            record = self._get(conn, registry, model, record_id, include_deleted=True)
            event = "after_delete" if deleted else "after_restore"
            self.loom.events.emit(
                event, RecordEvent(object_name, record, old, self.actor, conn, registry=registry)
            )
            return record

    def _locked(
        self,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        record_id: int,
        include_deleted: bool = False,
    ) -> dict[str, Any]:
        """Read a record and hold its row lock (PostgreSQL) until the transaction ends."""
        ectx, sctx = self._contexts()
        query = select(*select_columns(model, registry, sctx)).where(model.table.c.id == record_id)
        if not include_deleted:
            query = query.where(model.table.c.deleted_at.is_(None))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=model.table)
        row = conn.execute(query).first()
        if row is None:
            raise RecordNotFound(model.name, record_id)
        return row_to_record(model, row, ectx)

    def _writer(self, conn: Connection, registry: Registry, model: ObjectModel) -> RecordWriter:
        ectx, _ = self._contexts()
        return RecordWriter(self.loom, conn, registry, model, self.actor, ectx)
