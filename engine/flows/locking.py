"""Record locking: while its approval runs — and once it is granted — a record of a flow that locks
records cannot be changed or deleted, except by administrators and the system (whose changes the
audit log shows like any other). A rejected or withdrawn submission leaves the record editable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.events import RecordEvent
from engine.flows.errors import RecordLocked
from engine.permissions import access_for
from engine.system_tables import flow_instances

if TYPE_CHECKING:
    from engine.loom import Loom

LOCKING_STATUSES = ("running", "approved")


def lock_records(loom: Loom) -> None:
    """Refuse changes to locked records, in the record service's own transaction."""

    def refuse_if_locked(event: RecordEvent) -> None:
        if event.old is None or event.registry is None:
            return  # a new record has no approval yet
        if not event.registry.flows_for(event.object):
            return  # no flow is bound to the object: nothing can lock its records
        if access_for(event.registry, event.actor, event.object).unrestricted:
            return
        row = event.conn.execute(
            select(flow_instances.c.flow, flow_instances.c.status, flow_instances.c.definition)
            .where(flow_instances.c.object == event.object, flow_instances.c.record_id == event.old["id"])
            .order_by(flow_instances.c.id.desc())
            .limit(1)
        ).first()
        if row is None or row.status not in LOCKING_STATUSES:
            return
        if (row.definition or {}).get("lock_record", True):
            flow = event.registry.flows.get(row.flow)
            labels = (event.registry.object(event.object).spec.label, flow.label if flow else None)
            raise RecordLocked(event.object, event.old["id"], row.flow, row.status, labels)

    def has_flows(registry, object_name: str) -> bool:  # type: ignore[no-untyped-def]
        return bool(registry.flows_for(object_name))

    loom.events.subscribe("before_save", refuse_if_locked, has_flows)
    loom.events.subscribe("before_delete", refuse_if_locked, has_flows)
