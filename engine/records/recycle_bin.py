"""The recycle bin: the deleted records an actor may restore, and purging them for good (admins only).

Deleting (RecordService.delete) only marks a record; it keeps its files and history, and
`restore` brings it back unchanged. Purging removes the row, its shares and duplicate keys and
its files; the audit log keeps what happened to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from engine.base.actors import Actor
from engine.base.errors import RecordNotFound
from engine.identity.permissions import PermissionDenied, access_for
from engine.records.queries import Page
from engine.schema.ids import make_keep_ids
from engine.store.audit import audit_row, write_audit
from engine.store.system_tables import match_keys, record_shares

if TYPE_CHECKING:
    from engine.loom import Loom

DELETED = "deleted_at != None"


def deleted_records(
    loom: Loom, actor: Actor, object_name: str, *, limit: int = 50, cursor: str | None = None
) -> Page:
    """Records of the object in the recycle bin that the actor may restore, most recently deleted first."""
    return loom.queries(actor).find(
        object_name,
        filter=DELETED,
        sort="-deleted_at",
        limit=limit,
        cursor=cursor,
        include_deleted=True,
        operation="delete",
    )


def may_purge(loom: Loom, actor: Actor, object_name: str) -> bool:
    return access_for(loom.registry, actor, object_name).unrestricted


def purge(loom: Loom, actor: Actor, object_name: str, record_id: int) -> None:
    """Remove a record in the recycle bin for good, with its files; only administrators may."""
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        if not access_for(registry, actor, object_name).unrestricted:
            raise PermissionDenied("only an administrator may purge records from the recycle bin")
        table = model.table
        row = conn.execute(
            select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_not(None))
        ).first()
        if row is None:
            raise RecordNotFound(object_name, record_id)
        # Without it SQLite would give the purged id to the next record, and this one's history,
        # shares and approvals would name that one.
        make_keep_ids(conn, object_name, table.name)
        conn.execute(delete(table).where(table.c.id == record_id))
        conn.execute(
            delete(record_shares).where(
                record_shares.c.object == object_name, record_shares.c.record_id == record_id
            )
        )
        conn.execute(
            delete(match_keys).where(match_keys.c.object == object_name, match_keys.c.record_id == record_id)
        )
        keys = loom.files.forget_record(conn, object_name, record_id)
        write_audit(conn, [audit_row(actor, loom.clock.now(), object_name, record_id, "purge", {})])
    # Only once the purge has committed: a rolled-back purge must still find its files.
    loom.files.delete_stored(keys)
