"""Record locking: while its approval runs — and once it is granted — a record of a flow that locks
records cannot be changed or deleted, except by administrators and the system (whose changes the
audit log shows like any other). A rejected or withdrawn submission leaves the record editable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.events import GUARD, RecordEvent
from engine.flows.errors import RecordLocked
from engine.identity.permissions import access_for
from engine.store.system_tables import flow_instances

if TYPE_CHECKING:
    from engine.loom import Loom
    from engine.schema.registry import Registry

LOCKING_STATUSES = ("running", "approved")


def lock_records(loom: Loom) -> None:
    """Refuse changes to locked records, in the record service's own transaction."""

    def refuse_if_locked(event: RecordEvent) -> None:
        if event.old is None or event.registry is None:
            return  # a new record has no approval yet
        lock = _lock(event.conn, event.registry, event.actor, event.object, event.old["id"])
        if lock is not None:
            flow = event.registry.flows.get(lock[0])
            labels = (event.registry.object(event.object).spec.label, flow.label if flow else None)
            raise RecordLocked(event.object, event.old["id"], *lock, labels)

    def has_flows(registry, object_name: str) -> bool:  # type: ignore[no-untyped-def]
        return bool(registry.flows_for(object_name))

    loom.events.subscribe("before_save", refuse_if_locked, has_flows, stage=GUARD)
    loom.events.subscribe("before_delete", refuse_if_locked, has_flows, stage=GUARD)


def locking_status(
    conn: Connection, registry: Registry, actor: Actor, object_name: str, record_id: int
) -> str | None:
    """The status of the approval that keeps `actor` from changing the record, or None."""
    lock = _lock(conn, registry, actor, object_name, record_id)
    return lock[1] if lock else None


def _lock(
    conn: Connection, registry: Registry, actor: Actor, object_name: str, record_id: int
) -> tuple[str, str] | None:
    """(flow, status) of the record's latest approval when it locks the record against `actor`."""
    if not registry.flows_for(object_name):
        return None  # no flow is bound to the object: nothing can lock its records
    if access_for(registry, actor, object_name).unrestricted:
        return None
    row = conn.execute(
        select(flow_instances.c.flow, flow_instances.c.status, flow_instances.c.definition)
        .where(flow_instances.c.object == object_name, flow_instances.c.record_id == record_id)
        .order_by(flow_instances.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.status not in LOCKING_STATUSES:
        return None
    if not (row.definition or {}).get("lock_record", True):
        return None
    return row.flow, row.status
