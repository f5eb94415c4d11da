"""The pool (公海): records nobody owns, which reps claim for themselves and release back.

An object takes part through a boolean flag field (in the pool or not) and a datetime field
recording when the record entered it; its metadata may rename them, cap how many records a
rep may hold, and keep a rep from reclaiming at once what they just gave back:

    "pool": {"flag": "in_pool", "entered_at": "pool_entered_at", "claim_cap": 50,
             "cap_filter": "status in ['new', 'contacted']", "last_owner": "pool_last_owner",
             "return_reason": "pool_return_reason", "reason_required": true,
             "reclaim_cooldown_days": 3}

The cap counts the records of the object a rep owns that are out of the pool and match
`cap_filter` (when given): leads already converted need not count against it. The cooldown
applies to the user named in `last_owner`, whether they returned the record or it was recycled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, false, func, or_, select

from engine.base.actors import Actor
from engine.base.errors import ActionRefused, ExpressionError
from engine.base.messages import Message, named
from engine.expressions import to_sql
from engine.identity.permissions import access_for
from engine.records.sql import name_resolver
from engine.rules.actions import Action, ActionContext
from engine.rules.record_actions import RECORD_PHASES, change_record, to_json
from engine.schema.registry import ObjectModel, Registry
from engine.store.system_tables import users
from metadata.rules import ActionSpec
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom

DEFAULT_FLAG = "in_pool"
DEFAULT_ENTERED_AT = "pool_entered_at"


class PoolRefused(ActionRefused):
    """A claim or release could not be done as asked; nothing was changed."""

    code = "pool_refused"


@dataclass(frozen=True)
class PoolSettings:
    flag: str = DEFAULT_FLAG
    entered_at: str = DEFAULT_ENTERED_AT
    claim_cap: int | None = None
    cap_filter: str | None = None
    last_owner: str | None = None
    return_reason: str | None = None
    reason_required: bool = False
    reclaim_cooldown_days: int | None = None


def pool_settings(spec: ObjectSpec, overrides: Mapping[str, Any] | None = None) -> PoolSettings:
    """The object's pool settings (its "pool" metadata key), with an action's own field names on top."""
    doc = {**dict(spec.extra.get("pool") or {}), **{k: v for k, v in (overrides or {}).items() if v}}
    return PoolSettings(
        flag=doc.get("flag", DEFAULT_FLAG),
        entered_at=doc.get("entered_at", DEFAULT_ENTERED_AT),
        claim_cap=doc.get("claim_cap"),
        cap_filter=doc.get("cap_filter"),
        last_owner=doc.get("last_owner"),
        return_reason=doc.get("return_reason"),
        reason_required=bool(doc.get("reason_required", False)),
        reclaim_cooldown_days=doc.get("reclaim_cooldown_days"),
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
    for name, wanted in ((settings.last_owner, "user"), (settings.return_reason, "text")):
        if name is not None and not spec.has_field(name):
            problems.append(f"{spec.name} has no field {name!r} (a {wanted} field) named by its pool")
    for key in ("claim_cap", "reclaim_cooldown_days"):
        cap = getattr(settings, key)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            problems.append(f"{spec.name}: the pool's {key} must be a whole number, at least 1 (got {cap!r})")
    return problems


def entering_values(
    settings: PoolSettings, now: datetime, previous_owner: Any = None, reason: str | None = None
) -> dict[str, Any]:
    """What a record looks like once back in the pool: nobody's, flagged, stamped, and — when the
    object records them — who held it last and why it came back."""
    values = {"owner": None, settings.flag: True, settings.entered_at: now}
    if settings.last_owner:
        values[settings.last_owner] = previous_owner
    if settings.return_reason:
        values[settings.return_reason] = reason or None
    return values


# -- the move_to_pool action ---------------------------------------------------------------------


class MoveToPool(Action):
    """Take the record from its owner and put it in the pool, e.g. a lead not followed up in time."""

    name = "move_to_pool"
    params_schema = {
        "type": "object",
        "properties": {
            "flag": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "entered_at": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "reason": {"type": "string", "minLength": 1, "maxLength": 500},
        },
        "additionalProperties": False,
    }
    phases = RECORD_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        settings = pool_settings(ctx.model.spec, {k: v for k, v in spec.params.items() if k != "reason"})
        previous = ctx.record.get("owner")
        values = entering_values(settings, ctx.ectx.now, previous, spec.params.get("reason"))
        record = change_record(ctx, values)
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
        raise PoolRefused("only a user can claim records from the pool", "not_a_user")
    if not ids:
        return []
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        access_for(registry, actor, object_name).require("update")
        settings = _usable_settings(model)
        _lock_user(conn, actor.user_id)
        rows = _locked_rows(conn, model, settings, ids)
        _refuse_missing(model, ids, rows)
        gone = [record_id for record_id in ids if rows[record_id]["flag"] is not True]
        if gone:
            raise PoolRefused(_about(model, gone, "pool_taken"), "gone", ids=gone)
        _check_cooldown(settings, model, actor, rows, loom.clock.now())
        _check_cap(loom, conn, registry, model, settings, actor, ids)
        records = loom.records(_on_behalf_of(actor), conn)
        changes = {"owner": actor.user_id, settings.flag: False}
        return [records.update(object_name, record_id, changes) for record_id in ids]


def release(
    loom: Loom, actor: Actor, object_name: str, record_ids: Iterable[int], reason: str | None = None
) -> list[dict[str, Any]]:
    """Give records back to the pool, saying why; a rep may release only their own (an admin any)."""
    ids = _ids(record_ids)
    reason = (reason or "").strip() or None
    if not ids:
        return []
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        access_for(registry, actor, object_name).require("update")
        settings = _usable_settings(model)
        if settings.reason_required and reason is None and not actor.is_system:
            raise PoolRefused(
                f"say why the {model.name} goes back to the pool; nothing was released", "reason_required"
            )
        rows = _locked_rows(conn, model, settings, ids)
        _refuse_missing(model, ids, rows)
        pooled = [record_id for record_id in ids if rows[record_id]["flag"] is True]
        if pooled:
            raise PoolRefused(
                f"{_list(model, pooled)} {_are(pooled)} already in the pool; nothing was released",
                "already_in_pool",
                ids=pooled,
            )
        if not may_release_any(actor):
            others = [record_id for record_id in ids if rows[record_id]["owner"] != actor.user_id]
            if others:
                raise PoolRefused(_about(model, others, "pool_not_yours"), "not_yours", ids=others)
        records = loom.records(_on_behalf_of(actor), conn)
        now = loom.clock.now()
        return [
            records.update(
                object_name, record_id, entering_values(settings, now, rows[record_id]["owner"], reason)
            )
            for record_id in ids
        ]


def may_release_any(actor: Actor) -> bool:
    """Whether the actor may put anyone's records back in the pool, not only their own."""
    return actor.is_system or "admin" in actor.roles


def pool_actions(loom: Loom, actor: Actor, object_name: str, record: Mapping[str, Any]) -> tuple[bool, bool]:
    """(may claim, may return) for one record the actor reads: what a page offers; the engine
    checks again, with the cap and cooldown, when the action is asked for."""
    registry = loom.registry
    model = registry.object(object_name)
    settings = pool_settings(model.spec)
    if actor.user_id is None or "pool" not in model.spec.extra or pool_problems(model.spec, settings):
        return False, False
    if not access_for(registry, actor, object_name).allows("update"):
        return False, False
    if record.get(settings.flag) is True:
        return True, False
    owned = record.get("owner") is not None and (
        record.get("owner") == actor.user_id or may_release_any(actor)
    )
    return False, owned


def cooldown_ends(settings: PoolSettings, record: Mapping[str, Any], actor: Actor) -> datetime | None:
    """When the actor may claim this record again, if they held it last and it came back recently."""
    days = settings.reclaim_cooldown_days
    if not days or not settings.last_owner or record.get(settings.last_owner) != actor.user_id:
        return None
    entered = record.get(settings.entered_at)
    return entered + timedelta(days=days) if isinstance(entered, datetime) else None


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
        raise PoolRefused(f"{model.name} has no usable pool: {'; '.join(problems)}", "no_pool")
    return settings


def _lock_user(conn: Connection, user_id: int) -> None:
    """Serialise one rep's claims, so two claims at once cannot both slip under the cap."""
    query = select(users.c.id).where(users.c.id == user_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if conn.execute(query).first() is None:
        raise PoolRefused(f"there is no user with id {user_id}", "not_a_user")


def _locked_rows(
    conn: Connection, model: ObjectModel, settings: PoolSettings, ids: list[int]
) -> dict[int, dict[str, Any]]:
    table = model.table
    last_owner = settings.last_owner if settings.last_owner and settings.last_owner in table.c else None
    columns = [table.c.id, table.c.owner_id, table.c[settings.flag], table.c[settings.entered_at]]
    if last_owner:
        columns.append(table.c[last_owner])
    query = (
        select(*columns)
        .where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
        .order_by(table.c.id)  # one lock order for everyone: no deadlocks between claims
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=table)
    found = {}
    for row in conn.execute(query):
        record = {
            "owner": row[1],
            settings.flag: None if row[2] is None else bool(row[2]),
            settings.entered_at: row[3],
        }
        if last_owner:
            record[last_owner] = row[4]
        found[row[0]] = {**record, "flag": record[settings.flag]}
    return found


def _check_cooldown(
    settings: PoolSettings,
    model: ObjectModel,
    actor: Actor,
    rows: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> None:
    for record_id, row in rows.items():
        until = cooldown_ends(settings, row, actor)
        if until is not None and now < until:
            raise PoolRefused(
                f"{model.name} {record_id} came back to the pool from you less than "
                f"{settings.reclaim_cooldown_days} day(s) ago; you may claim it again from "
                f"{until:%Y-%m-%d %H:%M} (UTC); nothing was claimed",
                "cooldown",
                id=record_id,
                until=until,
                days=settings.reclaim_cooldown_days,
            )


def _refuse_missing(model: ObjectModel, ids: list[int], rows: Mapping[int, Any]) -> None:
    missing = [record_id for record_id in ids if record_id not in rows]
    if missing:
        raise PoolRefused(
            f"{_list(model, missing)} {'does' if len(missing) == 1 else 'do'} not exist",
            "missing",
            ids=missing,
        )


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
        message = (
            Message("pool_cap_filtered", object=what, filter=settings.cap_filter, **counts)
            if settings.cap_filter
            else Message("pool_cap", object=what, **counts)
        )
        raise PoolRefused(message, "cap", cap=cap, held=held, incoming=incoming)


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


def _are(ids: list[int]) -> str:
    return "is" if len(ids) == 1 else "are"


def _about(model: ObjectModel, ids: list[int], code: str) -> Message:
    """A refusal naming the records: its `_one` or `_many` wording."""
    what = named(model.name, model.spec.label)
    return Message(f"{code}_{'one' if len(ids) == 1 else 'many'}", object=what, ids=list(ids))


__all__ = [
    "MoveToPool",
    "PoolRefused",
    "PoolSettings",
    "claim",
    "cooldown_ends",
    "pool_actions",
    "pool_settings",
    "release",
]
