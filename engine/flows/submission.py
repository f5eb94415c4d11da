"""Submitting a record: choose its flow, check it may go, keep the definition and a snapshot, start.

The instance stores the definition it starts with (and its metadata revision), so publishing a
changed flow never changes an approval already under way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ExpressionError
from engine.base.messages import Message, named
from engine.expressions import EvalContext, evaluate
from engine.flows.errors import FlowConflict, FlowError, FlowNotFound
from engine.flows.instances import Instance, insert_instance, latest_instance
from engine.flows.record_status import keep_status
from engine.flows.routing import enter
from engine.flows.runs import Run
from engine.identity.permissions import PermissionDenied, access_for, scope_condition
from engine.rules.runlog import json_safe
from engine.schema.registry import Registry
from engine.store.system_tables import metadata_revisions, users
from metadata.flows import FlowSpec

if TYPE_CHECKING:
    from engine.loom import Loom


def start_instance(
    loom: Loom,
    conn: Connection,
    object_name: str,
    record_id: int,
    flow_name: str | None,
    actor: Actor,
    *,
    chosen_approvers: Mapping[str, Iterable[int | str]] | None = None,
    comment: str | None = None,
    definition: FlowSpec | None = None,
) -> Instance:
    """Start an approval of the record as `actor` (the submitter), in the caller's transaction.

    `definition` runs a flow not yet published (a simulation does, in a transaction it rolls back).
    """
    registry = loom.registry_for(conn)
    model = registry.object(object_name)
    table = model.table
    lock = select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
    if conn.dialect.name == "postgresql":
        lock = lock.with_for_update()  # two submissions of one record queue up here
    if conn.execute(lock).first() is None:
        raise FlowNotFound(f"{object_name} {record_id} does not exist")
    running = latest_instance(conn, object_name, record_id)
    if running is not None and running.running:
        raise FlowConflict(
            f"{object_name} {record_id} is already being approved ({running.flow}, approval {running.id})"
        )
    record = loom.records(SYSTEM, conn).get(object_name, record_id)
    now = loom.clock.now()
    ectx = EvalContext(now=now, actor=actor, functions=loom.functions, timezone=loom.clock.timezone)
    flow = definition or choose_flow(registry, object_name, flow_name, record, ectx)
    if flow.submit_when and not _holds(flow, flow.submit_when, record, ectx):
        raise FlowError(
            f"{object_name} {record_id} cannot be submitted to {flow.name}: {flow.submit_when} does not hold"
        )
    chosen = _chosen(conn, flow, chosen_approvers or {})
    instance = insert_instance(
        conn,
        {
            "flow": flow.name,
            # A definition not yet published has no revision: naming the published one would run
            # the instance on the published definition, cached by revision.
            "flow_revision": _revision(conn, flow.name) if definition is None else None,
            "definition": flow.to_json(),
            "object": object_name,
            "record_id": record_id,
            "status": "running",
            "submitter_id": actor.user_id,
            "started_at": now,
            "snapshot": json_safe(record),
            "active_nodes": [],
            "state": {"chosen": chosen} if chosen else {},
        },
    )
    run = Run.of(loom, conn, instance, actor)
    run.note("submit", comment=comment, snapshot=record, detail={"flow": flow.name})
    keep_status(run, "running")
    loom.flows.listener.fire_flow_event(conn, object_name, record_id, "on_submit", actor)
    enter(run, run.flow.start, [])
    run.save()
    return run.instance


def require_submit_right(
    loom: Loom, conn: Connection, actor: Actor, object_name: str, record_id: int
) -> None:
    """Only someone who may change a record may send it for approval."""
    loom.records(actor, conn).get(object_name, record_id)  # not found unless they may see it
    registry = loom.registry_for(conn)
    model = registry.object(object_name)
    access = access_for(registry, actor, object_name)
    scope = scope_condition(model, access, "update", actor) if access.allows("update") else None
    allowed = access.allows("update") and (
        scope is None
        or conn.execute(select(model.table.c.id).where(model.table.c.id == record_id, scope)).first()
        is not None
    )
    if not allowed:
        raise PermissionDenied(Message("may_see_not_submit", object=named(object_name, model.spec.label)))


def choose_flow(
    registry: Registry, object_name: str, flow_name: str | None, record: Mapping[str, Any], ectx: EvalContext
) -> FlowSpec:
    """The named flow, or the object's only active flow (or the only one whose submit_when holds)."""
    if flow_name is not None:
        flow = registry.flows.get(flow_name)
        if flow is None or flow.object != object_name:
            raise FlowNotFound(f"there is no approval flow {flow_name!r} for {object_name}")
        if not flow.active:
            raise FlowError(Message("flow_inactive", flow=named(repr(flow_name), flow.label)))
        return flow
    active = [flow for flow in registry.flows_for(object_name) if flow.active]
    if not active:
        raise FlowNotFound(f"{object_name} has no active approval flow")
    if len(active) == 1:
        return active[0]
    fitting = [f for f in active if not f.submit_when or _holds(f, f.submit_when, record, ectx)]
    if len(fitting) == 1:
        return fitting[0]
    names = ", ".join(flow.name for flow in fitting or active)
    raise FlowError(f"{object_name} has several approval flows that apply ({names}); name the one to use")


def _holds(flow: FlowSpec, text: str, record: Mapping[str, Any], ectx: EvalContext) -> bool:
    try:
        return bool(evaluate(text, record, ectx))
    except ExpressionError as error:
        raise FlowError(f"flow {flow.name!r}: submit_when could not be evaluated: {error.message}") from None


def _chosen(
    conn: Connection, flow: FlowSpec, given: Mapping[str, Iterable[int | str]]
) -> dict[str, list[int]]:
    """The approvers the submitter chose, by node, as active user ids."""
    choosing = {
        name
        for name, node in flow.nodes.items()
        if any(spec.kind == "chosen_by_submitter" for spec in node.approvers)
    }
    chosen: dict[str, list[int]] = {}
    for node, people in given.items():
        if node not in choosing:
            where = ", ".join(sorted(choosing)) or "none of its nodes"
            raise FlowError(
                f"the submitter cannot choose approvers for {node!r}; "
                f"flow {flow.name} lets them choose for {where}"
            )
        people = [people] if isinstance(people, int | str) else list(people)
        chosen[node] = [_user_id(conn, person) for person in people]
    return chosen


def _user_id(conn: Connection, person: int | str) -> int:
    column = users.c.id if isinstance(person, int) else users.c.username
    value = person if isinstance(person, int) else str(person).strip().lower()
    row = conn.execute(select(users.c.id, users.c.active, users.c.username).where(column == value)).first()
    if row is None:
        raise FlowError(Message("no_such_approver", user=repr(person)))
    if not row.active:
        raise FlowError(Message("approver_disabled", user=repr(row.username)))
    return int(row.id)


def _revision(conn: Connection, flow_name: str) -> int | None:
    return conn.execute(
        select(func.max(metadata_revisions.c.id)).where(
            metadata_revisions.c.kind == "flow", metadata_revisions.c.name == flow_name
        )
    ).scalar()
