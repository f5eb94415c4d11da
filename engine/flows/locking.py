"""Record locking: while its approval runs — and once it is granted — a record of a flow that locks
records cannot be changed or deleted, except by administrators and the system (whose changes the
audit log shows like any other). A flow may lock only some fields (`"lock_record": {"fields": […]}`);
the others stay editable. An approver may change the fields their node makes editable while their
task is open. A rejected or withdrawn submission leaves the record editable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import RecordInvalid
from engine.base.events import GUARD, RecordEvent
from engine.base.messages import Message
from engine.flows.errors import RecordLocked
from engine.flows.field_access import editable_by
from engine.identity.permissions import access_for
from engine.store.system_tables import flow_instances

if TYPE_CHECKING:
    from engine.loom import Loom
    from engine.schema.registry import Registry

LOCKING_STATUSES = ("running", "approved")


@dataclass(frozen=True)
class Lock:
    """The latest approval of a record, locking it against one actor."""

    flow: str
    status: str  # running, approved
    instance_id: int
    definition: dict
    fields: frozenset[str] | None  # None: the whole record


def lock_records(loom: Loom) -> None:
    """Refuse changes to locked records, in the record service's own transaction."""

    def refuse_locked_change(event: RecordEvent) -> None:
        if event.old is None or event.registry is None:
            return  # a new record has no approval yet
        lock = _lock(event.conn, event.registry, event.actor, event.object, event.old["id"])
        if lock is None:
            return
        changed = set(event.changed) if lock.fields is None else set(event.changed) & lock.fields
        if lock.fields is not None and not changed:
            return
        if lock.status == "running":
            editable = editable_by(event.conn, event.actor, lock.instance_id, lock.definition)
            if editable and changed <= editable:
                return  # the approver changes only what their node lets them
            changed -= editable
        if lock.fields is None:
            _refuse(event, lock)
        code = "locked_field_in_approval" if lock.status == "running" else "locked_field_approved"
        raise RecordInvalid(event.object, {name: [Message(code)] for name in sorted(changed)})

    def refuse_locked_delete(event: RecordEvent) -> None:
        if event.old is None or event.registry is None:
            return
        lock = _lock(event.conn, event.registry, event.actor, event.object, event.old["id"])
        if lock is not None:
            _refuse(event, lock)

    def has_flows(registry, object_name: str) -> bool:  # type: ignore[no-untyped-def]
        return bool(registry.flows_for(object_name))

    loom.events.subscribe("before_save", refuse_locked_change, has_flows, stage=GUARD)
    loom.events.subscribe("before_delete", refuse_locked_delete, has_flows, stage=GUARD)


def _refuse(event: RecordEvent, lock: Lock) -> None:
    flow = event.registry.flows.get(lock.flow)
    labels = (event.registry.object(event.object).spec.label, flow.label if flow else None)
    raise RecordLocked(event.object, event.old["id"], lock.flow, lock.status, labels)  # type: ignore[index]


def locking_status(
    conn: Connection, registry: Registry, actor: Actor, object_name: str, record_id: int
) -> str | None:
    """The status of the approval that keeps `actor` from changing the whole record, or None."""
    lock = _lock(conn, registry, actor, object_name, record_id)
    return lock.status if lock is not None and lock.fields is None else None


def locked_fields(
    conn: Connection, registry: Registry, actor: Actor, object_name: str, record_id: int
) -> frozenset[str]:
    """The fields `actor` may not change because of the record's approval (every field: the whole
    record is locked), less those their open task makes editable."""
    lock = _lock(conn, registry, actor, object_name, record_id)
    if lock is None:
        return frozenset()
    fields = lock.fields if lock.fields is not None else frozenset(registry.object(object_name).fields)
    if lock.status == "running":
        fields -= editable_by(conn, actor, lock.instance_id, lock.definition)
    return frozenset(fields)


def _lock(
    conn: Connection, registry: Registry, actor: Actor, object_name: str, record_id: int
) -> Lock | None:
    """The record's latest approval when it locks the record (or some of its fields) against `actor`."""
    if not registry.flows_for(object_name):
        return None  # no flow is bound to the object: nothing can lock its records
    if access_for(registry, actor, object_name).unrestricted:
        return None
    row = conn.execute(
        select(
            flow_instances.c.id, flow_instances.c.flow, flow_instances.c.status, flow_instances.c.definition
        )
        .where(flow_instances.c.object == object_name, flow_instances.c.record_id == record_id)
        .order_by(flow_instances.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.status not in LOCKING_STATUSES:
        return None
    definition = row.definition or {}
    setting = definition.get("lock_record", True)
    if not setting:
        return None
    fields = frozenset(setting.get("fields", ())) if isinstance(setting, dict) else None
    return Lock(row.flow, row.status, row.id, definition, fields)
