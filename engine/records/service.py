"""RecordService: create, read, update, delete and restore records, with validation, audit and events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, update

from engine.base.errors import BulkInvalid, ConflictError, RecordInvalid, RecordNotFound
from engine.base.events import RecordEvent
from engine.base.messages import Message
from engine.fieldtypes.base import Source
from engine.identity.permissions import (
    ObjectAccess,
    PermissionDenied,
    access_for,
    owner_allowed,
    scope_condition,
)
from engine.records.acting import ActingService
from engine.records.sql import inserted_record, record_by_id, row_to_record
from engine.records.writer import RecordWriter
from engine.schema.registry import ObjectModel, Registry
from engine.store.audit import audit_row, record_history, write_audit

if TYPE_CHECKING:
    pass

BULK_BATCH = 1000
HIDDEN_FIELD_ERROR = Message("hidden_field")


def shown(access: ObjectAccess, record: dict[str, Any]) -> dict[str, Any]:
    """The record without the fields hidden from the actor."""
    if not access.hidden:
        return record
    return {name: value for name, value in record.items() if name not in access.hidden}


def visible_errors(access: ObjectAccess, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Field errors with hidden fields folded into one record-level message that does not name them."""
    visible = {
        name: messages
        for name, messages in errors.items()
        if name not in access.hidden or messages == [Message("not_a_field", object=access.named)]
    }
    if len(visible) < len(errors):
        visible.setdefault("_record", []).append(HIDDEN_FIELD_ERROR)
    return visible


def _as_id(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class RecordService(ActingService):
    """Every record write and single-record read goes through here, as one actor, in one transaction."""

    # -- reads ------------------------------------------------------------------------------------

    def get(self, object_name: str, record_id: int, *, include_deleted: bool = False) -> dict[str, Any]:
        """One record the actor may read, without the fields hidden from them."""
        return self.read(object_name, record_id, include_deleted=include_deleted)[1]

    def read(
        self, object_name: str, record_id: int, *, include_deleted: bool = False
    ) -> tuple[ObjectAccess, dict[str, Any]]:
        """`get` with the access the actor reads the record with (their role's, or their open
        approval task's), in one read."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access, record = self._read(conn, registry, model, record_id, include_deleted)
            return access, shown(access, record)

    def read_access(self, object_name: str, record_id: int) -> ObjectAccess:
        """The access the actor reads this record with: their role's, or their open approval task's."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            return self._read(conn, registry, registry.object(object_name), record_id, True)[0]

    def _read(
        self, conn: Connection, registry: Registry, model: ObjectModel, record_id: int, include_deleted: bool
    ) -> tuple[ObjectAccess, dict[str, Any]]:
        access = access_for(registry, self.actor, model.name)
        try:
            access.require("read")
            return access, self._get(conn, registry, model, record_id, include_deleted, access=access)
        except (PermissionDenied, RecordNotFound):
            # An approver reads the record their open task is about, without what the node hides.
            task_access = self._task_access(conn, registry, model, record_id, access, writing=False)
            if task_access is None:
                raise
            return task_access, self._get(conn, registry, model, record_id, include_deleted)

    def _get(
        self,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        record_id: int,
        include_deleted: bool = False,
        *,
        access: ObjectAccess | None = None,
        operation: str = "read",
    ) -> dict[str, Any]:
        row = self._row(conn, registry, model, record_id, include_deleted, access, operation, lock=False)
        if row is None:
            raise RecordNotFound(model.name, record_id)
        return row_to_record(model, row, self._contexts()[0])

    def _row(self, conn, registry, model, record_id, include_deleted, access, operation, *, lock):  # type: ignore[no-untyped-def]
        """One record's row, limited to the actor's scope for `operation` when `access` is given."""
        _, sctx = self._contexts()
        query = record_by_id(model, registry, sctx, live=not include_deleted)
        if (
            access is not None
            and (scope := scope_condition(model, access, operation, self.actor)) is not None
        ):
            query = query.where(scope)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update(of=model.table)
        return conn.execute(query, {"record_id": record_id}).first()

    def history(self, object_name: str, record_id: int) -> list[dict[str, Any]]:
        """The record's audit trail, oldest first, without the changes of fields hidden from the actor."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access, _record = self._read(conn, registry, model, record_id, True)
            rows = record_history(conn, object_name, record_id)
            for row in rows:
                row["changes"] = {
                    name: change for name, change in row["changes"].items() if access.visible(name)
                }
            return rows

    def _task_access(
        self,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        record_id: int,
        access: ObjectAccess,
        *,
        writing: bool,
    ) -> ObjectAccess | None:
        """The actor's access to one record through their open approval task, or None without one.

        Reading: the record less the fields the node hides and those the role hides (editable ones
        shown). Writing: the node's editable fields, added to what the role lets them change of a
        record in their scope, or alone when the task is all that gives them the record.
        """
        if not registry.flows_for(model.name):
            return None
        grant = self.loom.flows.task_grant(conn, self.actor, model.name, record_id)
        if grant is None or (writing and not grant.editable):
            return None
        if writing and access.allows("update") and self._in_scope(conn, registry, model, record_id, access):
            return replace(
                access, read_only=access.read_only - grant.editable, hidden=access.hidden - grant.editable
            )
        hidden = (access.hidden | grant.hidden) - grant.editable
        read_only = frozenset(model.fields) - grant.editable - hidden if writing else access.read_only
        return replace(access, hidden=hidden, read_only=read_only)

    def _in_scope(
        self, conn: Connection, registry: Registry, model: ObjectModel, record_id: int, access: ObjectAccess
    ) -> bool:
        row = self._row(conn, registry, model, record_id, False, access, "update", lock=False)
        return row is not None

    def _access(self, registry: Registry, model: ObjectModel, operation: str) -> ObjectAccess:
        access = access_for(registry, self.actor, model.name)
        access.require(operation)
        return access

    # -- writes -----------------------------------------------------------------------------------

    def create(
        self, object_name: str, values: Mapping[str, Any], *, source: Source = "json"
    ) -> dict[str, Any]:
        """Validate and insert one record; every field error is reported at once."""
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, "create")
            values, refused = self._permitted(conn, access, model, values)
            writer = self._writer(conn, registry, model)
            prepared, errors = writer.prepare_new(values, source)
            if errors or refused:
                raise RecordInvalid(object_name, visible_errors(access, {**errors, **refused}))
            [record_id] = writer.insert([prepared])
            if writer.inserted_row is None:
                return shown(access, self._get(conn, registry, model, record_id))
            ectx, sctx = self._contexts()
            return shown(access, inserted_record(conn, model, registry, sctx, writer.inserted_row, ectx))

    def defaults(
        self, object_name: str, values: Mapping[str, Any] | None = None, *, source: Source = "json"
    ) -> dict[str, Any]:
        """What a new record would be given by its fields' defaults, for a form to show before saving."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, "create")
            given, _refused = self._permitted(conn, access, model, values or {})
            return shown(access, self._writer(conn, registry, model).defaults_for(given, source))

    def bulk_create(
        self, object_name: str, rows: Iterable[Mapping[str, Any]], *, source: Source = "json"
    ) -> list[int]:
        """Insert many records in one transaction: all of them, or — if any row is invalid — none."""
        with self._transaction() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, "create")
            writer = self._writer(conn, registry, model)
            ids: list[int] = []
            failures: dict[int, dict[str, list[str]]] = {}
            offset = 0
            iterator = iter(rows)
            while batch := list(islice(iterator, BULK_BATCH)):
                prepared: list[tuple[int, dict[str, Any]]] = []
                for index, raw in enumerate(batch, start=offset):
                    values, refused = self._permitted(conn, access, model, raw)
                    record, errors = writer.prepare_new(values, source, check_references=False)
                    if errors or refused:
                        failures[index] = visible_errors(access, {**errors, **refused})
                    else:
                        prepared.append((index, record))
                offset += len(batch)
                missing = writer.reference_errors([record for _, record in prepared])
                if writer.unique.keys:
                    clashes = writer.unique.clashes(conn, [(record, None) for _, record in prepared])
                    for position, errors in clashes.items():
                        missing.setdefault(position, {}).update(errors)
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
            access = access_for(registry, self.actor, model.name)
            try:
                access.require("update")
                old = self._locked(conn, registry, model, record_id, access=access, operation="update")
                if not access.unrestricted and (set(changes) & (access.read_only | access.hidden)):
                    access = (
                        self._task_access(conn, registry, model, record_id, access, writing=True) or access
                    )
            except (PermissionDenied, RecordNotFound):
                # An approver changes the fields their open task's node makes editable, and nothing else.
                task_access = self._task_access(conn, registry, model, record_id, access, writing=True)
                if task_access is None:
                    raise
                access = task_access
                old = self._locked(conn, registry, model, record_id)
            if version is not None and old["version"] != version:
                raise ConflictError(object_name, record_id, version, old["version"])
            changes, refused = self._permitted(conn, access, model, changes)
            writer = self._writer(conn, registry, model)
            new, errors = writer.prepare_change(old, changes, source)
            if errors or refused:
                raise RecordInvalid(object_name, visible_errors(access, {**errors, **refused}))
            writer.update(old, new)
            return shown(access, self._get(conn, registry, model, record_id))

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
            access = self._access(registry, model, "delete")
            old = self._locked(
                conn, registry, model, record_id, include_deleted=True, access=access, operation="delete"
            )
            if (old["deleted_at"] is not None) != (not deleted):
                raise RecordNotFound(object_name, record_id)
            if version is not None and old["version"] != version:
                raise ConflictError(object_name, record_id, version, old["version"])
            if deleted and self.loom.events.has_handlers("before_delete"):
                self.loom.events.emit(
                    "before_delete", RecordEvent(object_name, old, old, self.actor, conn, registry=registry)
                )
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
            return shown(access, record)

    def _locked(
        self,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        record_id: int,
        include_deleted: bool = False,
        *,
        access: ObjectAccess | None = None,
        operation: str = "update",
    ) -> dict[str, Any]:
        """Read a record in the actor's scope for `operation` and hold its row lock (PostgreSQL)."""
        row = self._row(conn, registry, model, record_id, include_deleted, access, operation, lock=True)
        if row is None:
            if access is not None and operation != "read":
                # Readable but not changeable says so; invisible stays invisible.
                self._get(conn, registry, model, record_id, include_deleted, access=access)
                raise PermissionDenied(Message(f"may_see_not_{operation}", object=access.named))
            raise RecordNotFound(model.name, record_id)
        return row_to_record(model, row, self._contexts()[0])

    def _permitted(
        self, conn: Connection, access: ObjectAccess, model: ObjectModel, values: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The values the actor may set, and an error for each one they may not."""
        if access.unrestricted:
            return dict(values), {}
        allowed, refused = {}, {}
        for name, value in values.items():
            if name in access.hidden:
                refused[name] = [Message("not_a_field", object=access.named)]
            elif name in access.read_only:
                refused[name] = [Message("read_only")]
            elif name == "owner" and not owner_allowed(conn, access, self.actor, _as_id(value)):
                refused[name] = [Message("owner_refused")]
            else:
                allowed[name] = value
        return allowed, refused

    def _writer(self, conn: Connection, registry: Registry, model: ObjectModel) -> RecordWriter:
        ectx, _ = self._contexts()
        return RecordWriter(self.loom, conn, registry, model, self.actor, ectx)
