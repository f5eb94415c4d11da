"""The pool (公海): records nobody owns, which reps claim for themselves and release back.

An object takes part through a boolean flag field (in the pool or not) and a datetime field
recording when the record entered it; its metadata may rename them and cap how many records a
rep may hold:

    "pool": {"flag": "in_pool", "entered_at": "pool_entered_at", "claim_cap": 50,
             "cap_filter": "status in ['new', 'contacted']"}

The cap counts the records of the object a rep owns that are out of the pool and match
`cap_filter` (when given): leads already converted need not count against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, false, func, or_, select

from engine.actors import Actor
from engine.errors import ExpressionError, LoomError
from engine.expressions import to_sql
from engine.messages import Message, named
from engine.record_sql import name_resolver
from engine.registry import ObjectModel, Registry
from engine.rules.actions import Action, ActionContext
from engine.rules.record_actions import RECORD_PHASES, change_record, to_json
from engine.system_tables import users
from metadata.rules import ActionSpec
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom

DEFAULT_FLAG = "in_pool"
DEFAULT_ENTERED_AT = "pool_entered_at"


class PoolRefused(LoomError):
    """A claim or release could not be done as asked; nothing was changed."""

    code = "pool_refused"


@dataclass(frozen=True)
class PoolSettings:
    flag: str = DEFAULT_FLAG
    entered_at: str = DEFAULT_ENTERED_AT
    claim_cap: int | None = None
    cap_filter: str | None = None


def pool_settings(spec: ObjectSpec, overrides: Mapping[str, Any] | None = None) -> PoolSettings:
    """The object's pool settings (its "pool" metadata key), with an action's own field names on top."""
    doc = {**dict(spec.extra.get("pool") or {}), **{k: v for k, v in (overrides or {}).items() if v}}
    return PoolSettings(
        flag=doc.get("flag", DEFAULT_FLAG),
        entered_at=doc.get("entered_at", DEFAULT_ENTERED_AT),
        claim_cap=doc.get("claim_cap"),
        cap_filter=doc.get("cap_filter"),
    )


def pool_problems(spec: ObjectSpec, settings: PoolSettings) -> list[str]:
    """What stops the settings working on this object: missing fields or fields of the wrong type."""
    problems = []
    for name, wanted, role in (
        (settings.flag, ("boolean",), "marks records in the pool"),
        (settings.entered_at, ("datetime",), "records when a record entered the pool"),
    ):
        if not spec.has_field(name):
            problems.append(f"{spec.name} has no field {name!r}, which {role} (a {wanted[0]} field)")
        elif spec.field(name).type not in wanted:
            found = spec.field(name).type
            problems.append(f"{spec.name}.{name} {role} and must be a {wanted[0]} field, not {found}")
    cap = settings.claim_cap
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        problems.append(f"{spec.name}: the pool's claim_cap must be a whole number, at least 1 (got {cap!r})")
    return problems


def entering_values(settings: PoolSettings, now: datetime) -> dict[str, Any]:
    """What a record looks like once back in the pool: nobody's, flagged, stamped."""
    return {"owner": None, settings.flag: True, settings.entered_at: now}


# -- the move_to_pool action ---------------------------------------------------------------------


class MoveToPool(Action):
    """Take the record from its owner and put it in the pool, e.g. a lead not followed up in time."""

    name = "move_to_pool"
    params_schema = {
        "type": "object",
        "properties": {
            "flag": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "entered_at": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
        },
        "additionalProperties": False,
    }
    phases = RECORD_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        settings = pool_settings(ctx.model.spec, spec.params)
        previous = ctx.record.get("owner")
        record = change_record(ctx, entering_values(settings, ctx.ectx.now))
        entered = to_json(ctx.model, settings.entered_at, record.get(settings.entered_at))
        return {"previous_owner": previous, "entered_at": entered}


# -- claiming and releasing --------------------------------------------------------------------------


def claim(loom: Loom, actor: Actor, object_name: str, record_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Take records out of the pool for `actor`: all of them, or — if any cannot be taken — none.

    The records are locked first, so when two reps claim the same record at once exactly one
    gets it and the other is told it is gone. The claim is audited as the rep's own change.
    """
    ids = _ids(record_ids)
    if actor.user_id is None:
        raise PoolRefused("only a user can claim records from the pool")
    if not ids:
        return []
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        settings = _usable_settings(model)
        _lock_user(conn, actor.user_id)
        rows = _locked_rows(conn, model, settings, ids)
        _refuse_missing(model, ids, rows)
        gone = [record_id for record_id in ids if rows[record_id]["flag"] is not True]
        if gone:
            raise PoolRefused(_about(model, gone, "pool_taken"))
        _check_cap(loom, conn, registry, model, settings, actor, ids)
        records = loom.records(_on_behalf_of(actor), conn)
        changes = {"owner": actor.user_id, settings.flag: False}
        return [records.update(object_name, record_id, changes) for record_id in ids]


def release(loom: Loom, actor: Actor, object_name: str, record_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Give records back to the pool; a rep may release only their own (an admin any)."""
    ids = _ids(record_ids)
    if not ids:
        return []
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        settings = _usable_settings(model)
        rows = _locked_rows(conn, model, settings, ids)
        _refuse_missing(model, ids, rows)
        if not (actor.is_system or "admin" in actor.roles):
            others = [record_id for record_id in ids if rows[record_id]["owner"] != actor.user_id]
            if others:
                raise PoolRefused(_about(model, others, "pool_not_yours"))
        records = loom.records(_on_behalf_of(actor), conn)
        changes = entering_values(settings, loom.clock.now())
        return [records.update(object_name, record_id, changes) for record_id in ids]


def _on_behalf_of(actor: Actor) -> Actor:
    """The pool writes owner and flag for the rep, who may not edit a record nobody owns (or a
    read-only flag) themselves; the audit still names the rep."""
    return replace(actor, is_system=True)


def _ids(record_ids: Iterable[int]) -> list[int]:
    return sorted({int(record_id) for record_id in record_ids})


def _usable_settings(model: ObjectModel) -> PoolSettings:
    settings = pool_settings(model.spec)
    problems = pool_problems(model.spec, settings)
    if problems:
        raise PoolRefused(f"{model.name} has no usable pool: {'; '.join(problems)}")
    return settings


def _lock_user(conn: Connection, user_id: int) -> None:
    """Serialise one rep's claims, so two claims at once cannot both slip under the cap."""
    query = select(users.c.id).where(users.c.id == user_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if conn.execute(query).first() is None:
        raise PoolRefused(f"there is no user with id {user_id}")


def _locked_rows(
    conn: Connection, model: ObjectModel, settings: PoolSettings, ids: list[int]
) -> dict[int, dict[str, Any]]:
    table = model.table
    query = (
        select(table.c.id, table.c.owner_id, table.c[settings.flag])
        .where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
        .order_by(table.c.id)  # one lock order for everyone: no deadlocks between claims
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=table)
    return {
        row[0]: {"owner": row[1], "flag": None if row[2] is None else bool(row[2])}
        for row in conn.execute(query)
    }


def _refuse_missing(model: ObjectModel, ids: list[int], rows: Mapping[int, Any]) -> None:
    missing = [record_id for record_id in ids if record_id not in rows]
    if missing:
        raise PoolRefused(f"{_list(model, missing)} {'does' if len(missing) == 1 else 'do'} not exist")


def _check_cap(
    loom: Loom,
    conn: Connection,
    registry: Registry,
    model: ObjectModel,
    settings: PoolSettings,
    actor: Actor,
    ids: list[int],
) -> None:
    cap = settings.claim_cap
    if cap is None:
        return
    table = model.table
    counted = [table.c.deleted_at.is_(None)]
    if settings.cap_filter:
        counted.append(_cap_condition(loom, registry, model, settings.cap_filter, actor))
    flag = table.c[settings.flag]
    held_query = select(func.count()).where(
        table.c.owner_id == actor.user_id, or_(flag.is_(None), flag == false()), *counted
    )
    held = int(conn.execute(held_query).scalar_one())
    incoming = int(conn.execute(select(func.count()).where(table.c.id.in_(ids), *counted)).scalar_one())
    if held + incoming > cap:
        counts = {"cap": cap, "held": held, "incoming": incoming, "total": held + incoming}
        what = named(model.name, model.spec.label)
        if settings.cap_filter:
            raise PoolRefused(Message("pool_cap_filtered", object=what, filter=settings.cap_filter, **counts))
        raise PoolRefused(Message("pool_cap", object=what, **counts))


def _cap_condition(
    loom: Loom, registry: Registry, model: ObjectModel, text: str, actor: Actor
) -> ColumnElement[Any]:
    _, sctx = loom.contexts(actor)
    try:
        return to_sql(text, name_resolver(model, registry, sctx), sctx, as_condition=True)
    except ExpressionError as error:
        raise PoolRefused(f"{model.name}'s pool cap_filter {text!r} is unusable: {error.message}") from None


def _list(model: ObjectModel, ids: list[int]) -> str:
    return f"{model.name} {', '.join(str(record_id) for record_id in ids)}"


def _about(model: ObjectModel, ids: list[int], code: str) -> Message:
    """A refusal naming the records: its `_one` or `_many` wording."""
    what = named(model.name, model.spec.label)
    return Message(f"{code}_{'one' if len(ids) == 1 else 'many'}", object=what, ids=list(ids))


__all__ = ["MoveToPool", "PoolRefused", "PoolSettings", "claim", "pool_settings", "release"]
