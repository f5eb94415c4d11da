"""Reverting an import as a whole: records it created go to the recycle bin, records it changed get
their values from before the import back.

A record someone (or a rule) changed after the import is not overwritten: by default revert
refuses and names those records, and writes nothing; with `skip_changed` it reverts everything
else and leaves them as they are. Either way the whole revert is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import LoomError
from engine.base.events import RecordEvent
from engine.identity.permissions import PermissionDenied, access_for
from engine.imports.dedupe import KeyIndex
from engine.imports.options import ImportRefused
from engine.imports.store import finish, get_import
from engine.records.sql import row_to_record, select_columns
from engine.records.writer import RecordWriter
from engine.schema.registry import ObjectModel, Registry
from engine.store.audit import audit_row, write_audit
from engine.store.system_tables import import_items

if TYPE_CHECKING:
    from engine.loom import Loom

CHUNK = 1000


class RevertRefused(LoomError):
    """Records the import wrote were changed since; nothing was reverted."""

    code = "conflict"

    def __init__(self, import_id: int, record_ids: list[int]) -> None:
        self.record_ids = record_ids
        shown = ", ".join(str(i) for i in record_ids[:20]) + ("…" if len(record_ids) > 20 else "")
        super().__init__(
            f"import {import_id}: {len(record_ids)} record(s) changed since the import ({shown}); "
            "nothing was reverted. Revert with skip_changed to leave those records as they are."
        )


@dataclass
class RevertResult:
    import_id: int
    deleted: int = 0
    restored: int = 0
    skipped: list[int] = field(default_factory=list)  # changed since the import, left alone


def revert_import(
    loom: Loom, import_id: int, actor: Actor = SYSTEM, *, skip_changed: bool = False
) -> RevertResult:
    """Undo every create and update of an import in one transaction (see the module's note on conflicts)."""
    with loom.begin() as conn:
        row = get_import(conn, import_id)
        if row["status"] == "reverted":
            raise ImportRefused([f"import {import_id} was already reverted"])
        registry = loom.registry_for(conn)
        model = registry.object(row["object"])
        access = access_for(registry, actor, model.name)
        access.require("import")
        if not access.unrestricted and actor.user_id != row["created_by"]:
            raise PermissionDenied(f"import {import_id} was started by someone else")
        reverter = _Reverter(loom, conn, registry, model, actor, import_id)
        changed = [record_id for chunk in reverter.chunks() for record_id in reverter.changed(chunk)]
        if changed and not skip_changed:
            raise RevertRefused(import_id, changed)
        result = RevertResult(import_id, skipped=changed)
        skip = set(changed)
        for chunk in reverter.chunks():
            reverter.undo(chunk, skip, result)
        finish(conn, import_id, "reverted", loom.clock.now())
        return result


class _Reverter:
    def __init__(
        self,
        loom: Loom,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        actor: Actor,
        import_id: int,
    ) -> None:
        self.loom, self.conn, self.registry, self.model, self.actor = loom, conn, registry, model, actor
        self.import_id = import_id
        self.ectx, self.sctx = loom.contexts(actor)
        self.writer = RecordWriter(loom, conn, registry, model, actor, self.ectx)
        self.keys = KeyIndex(model)

    def chunks(self) -> Iterator[list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
        """(current record or None, the import's items for it, oldest first), a chunk of records at a time."""
        last = 0
        table = self.model.table
        while True:
            ids = list(
                self.conn.execute(
                    select(import_items.c.record_id)
                    .where(import_items.c.import_id == self.import_id, import_items.c.record_id > last)
                    .group_by(import_items.c.record_id)
                    .order_by(import_items.c.record_id)
                    .limit(CHUNK)
                ).scalars()
            )
            if not ids:
                return
            last = ids[-1]
            items = self.conn.execute(
                select(import_items)
                .where(import_items.c.import_id == self.import_id, import_items.c.record_id.in_(ids))
                .order_by(import_items.c.record_id, import_items.c.id)
            )
            query = select(*select_columns(self.model, self.registry, self.sctx)).where(table.c.id.in_(ids))
            if self.conn.dialect.name == "postgresql":
                query = query.with_for_update(of=table)
            current = {r.id: row_to_record(self.model, r, self.ectx) for r in self.conn.execute(query)}
            yield [
                (current.get(record_id), [dict(item._mapping) for item in group])
                for record_id, group in groupby(items, key=lambda item: item.record_id)
            ]

    def changed(self, chunk: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]]) -> list[int]:
        """Records moved on since the import last wrote them (edited, deleted, or gone)."""
        return [
            items[0]["record_id"]
            for record, items in chunk
            if record is None
            or record["deleted_at"] is not None
            or record["version"] != items[-1]["version_after"]
        ]

    def undo(
        self,
        chunk: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]],
        skip: set[int],
        result: RevertResult,
    ) -> None:
        created, restored = [], []
        for record, items in chunk:
            if record is None or record["id"] in skip:
                continue
            if items[0]["action"] == "created":
                created.append(record)
            else:
                restored.append((record, items[0]["before"] or {}))
        self._delete(created)
        rekeyed = []
        for record, before in restored:
            values = self._restored(record, before)
            self.writer.update(record, values)
            rekeyed.append((record["id"], values))
        self.keys.write(self.conn, rekeyed)
        result.deleted += len(created)
        result.restored += len(restored)

    def _restored(self, record: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
        values = dict(record)
        for name, value in before.items():
            if name in self.model.fields:
                spec = self.model.fields[name]
                values[name] = None if value is None else self.model.types[name].coerce(value, spec, "json")
        return values

    def _delete(self, records: list[dict[str, Any]]) -> None:
        """Move records to the recycle bin, with the same events and audit rows as a delete."""
        if not records:
            return
        events = self.loom.events
        name, registry, actor = self.model.name, self.registry, self.actor
        for record in records if events.has_handlers("before_delete") else ():
            events.emit(
                "before_delete", RecordEvent(name, record, record, actor, self.conn, registry=registry)
            )
        now, table = self.loom.clock.now(), self.model.table
        ids = [record["id"] for record in records]
        self.conn.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(deleted_at=now, version=table.c.version + 1, updated_at=now, updated_by=actor.user_id)
        )
        batch = f"import:{self.import_id}"
        write_audit(
            self.conn, [{**audit_row(actor, now, name, i, "delete", {}), "batch": batch} for i in ids]
        )
        self.keys.forget(self.conn, ids)
        for record in records if events.has_handlers("after_delete") else ():
            deleted = {**record, "deleted_at": now, "version": record["version"] + 1}
            events.emit(
                "after_delete", RecordEvent(name, deleted, record, actor, self.conn, registry=registry)
            )
