"""assign_owner: give a record to one of several users — in turn, to the least loaded, or by a field's value.

Rules name users by username, or name a role whose active users share the records (a package
cannot know an instance's usernames); either is looked up in loom_users when the rule runs, since
users come and go after the rule was written. A username that does not exist stops the save with an
error naming it (the rule needs fixing); a deactivated user is skipped, as a rep who has left
should get no new leads. A role nobody active holds leaves the owner as it is, so another rule
(e.g. one moving the record to the pool) can take it from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.rules.actions import Action, ActionContext, ActionFailed
from engine.rules.record_actions import RECORD_PHASES, change_record
from engine.rules.runlog import json_safe
from engine.store.system_tables import rule_state, user_roles, users
from metadata.rules import ActionSpec

_USERNAME = {"type": "string", "minLength": 1, "maxLength": 150}


def active_users(conn: Connection, usernames: Sequence[str], why: str) -> dict[str, int]:
    """Username → id of the active users among `usernames`; an unknown username is an error."""
    rows = conn.execute(
        select(users.c.username, users.c.id, users.c.active).where(users.c.username.in_(list(usernames)))
    ).all()
    found = {row.username: (row.id, row.active) for row in rows}
    missing = [name for name in usernames if name not in found]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise ActionFailed(f"there is no user named {names}; {why}")
    return {name: found[name][0] for name in usernames if found[name][1]}


def _none_active(usernames: Sequence[str]) -> ActionFailed:
    names = ", ".join(repr(name) for name in usernames)
    return ActionFailed(f"every user the record could go to is deactivated ({names}); add an active user")


class AssignOwner(Action):
    """Set the record's owner by one of three strategies."""

    name = "assign_owner"
    params_schema = {
        "type": "object",
        "required": ["strategy"],
        "properties": {
            "strategy": {"enum": ["round_robin", "least_loaded", "by_field"]},
            "users": {"type": "array", "items": _USERNAME, "minItems": 1, "uniqueItems": True},
            "role": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "field": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "map": {"type": "object", "minProperties": 1, "additionalProperties": _USERNAME},
            "default": _USERNAME,
        },
        "allOf": [
            {
                "if": {"properties": {"strategy": {"enum": ["round_robin", "least_loaded"]}}},
                "then": {"oneOf": [{"required": ["users"]}, {"required": ["role"]}]},
            },
            {
                "if": {"properties": {"strategy": {"const": "by_field"}}},
                "then": {"required": ["field", "map"]},
            },
        ],
        "additionalProperties": False,
    }
    phases = RECORD_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        strategy = spec.param("strategy")
        summary: dict[str, Any] = {"strategy": strategy}
        if spec.param("role") and not _role_users(ctx, spec):
            summary.update(
                role=spec.param("role"), note=f"no active user has the role {spec.param('role')!r}"
            )
            return summary
        if strategy == "round_robin":
            username, user_id = _round_robin(ctx, spec)
        elif strategy == "least_loaded":
            username, user_id = _least_loaded(ctx, spec)
        else:
            picked = _by_field(ctx, spec, summary)
            if picked is None:
                return summary
            username, user_id = picked
        change_record(ctx, {"owner": user_id})
        return {**summary, "owner": user_id, "username": username}


def _role_users(ctx: ActionContext, spec: ActionSpec) -> dict[str, int]:
    """Username → id of the active users holding the action's role, by username."""
    query = (
        select(users.c.username, users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role == spec.param("role"), users.c.active)
        .order_by(users.c.username)
    )
    return {row.username: row.id for row in ctx.conn.execute(query)}


def _candidates(ctx: ActionContext, spec: ActionSpec) -> tuple[list[str], dict[str, int]]:
    if spec.param("role"):
        found = _role_users(ctx, spec)
        return list(found), found
    names = list(spec.param("users"))
    active = active_users(ctx.conn, names, "fix the users of the rule's assign_owner action")
    if not active:
        raise _none_active(names)
    return names, active


def _round_robin(ctx: ActionContext, spec: ActionSpec) -> tuple[str, int]:
    """The user after the one who got the previous record; the turn is kept in loom_rule_state.

    The state row is locked for the rest of the transaction, so two records saved at the same
    moment go to two different users, and the turn survives restarts.
    """
    names, active = _candidates(ctx, spec)
    key = f"round_robin:{ctx.index}"
    last = _locked_state(ctx.conn, ctx.rule.name, key).get("last")
    start = names.index(last) + 1 if last in names else 0
    chosen = next(name for name in names[start:] + names[:start] if name in active)
    ctx.conn.execute(
        update(rule_state)
        .where(rule_state.c.rule == ctx.rule.name, rule_state.c.key == key)
        .values(value={"last": chosen})
    )
    return chosen, active[chosen]


def _locked_state(conn: Connection, rule: str, key: str) -> dict[str, Any]:
    """The rule's state under `key`, created empty if missing, with its row locked (PostgreSQL)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(rule_state).values(rule=rule, key=key, value={}).on_conflict_do_nothing())
    query = select(rule_state.c.value).where(rule_state.c.rule == rule, rule_state.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    value = conn.execute(query).scalar_one()
    return dict(value) if isinstance(value, Mapping) else {}


def _least_loaded(ctx: ActionContext, spec: ActionSpec) -> tuple[str, int]:
    """The user owning the fewest records of this object (the record itself not counted)."""
    names, active = _candidates(ctx, spec)
    table = ctx.model.table
    query = (
        select(table.c.owner_id, func.count())
        .where(table.c.owner_id.in_(list(active.values())), table.c.deleted_at.is_(None))
        .group_by(table.c.owner_id)
    )
    if ctx.record.get("id") is not None:
        query = query.where(table.c.id != ctx.record["id"])
    load = {owner: count for owner, count in ctx.conn.execute(query)}
    ranked = [name for name in names if name in active]
    chosen = min(ranked, key=lambda name: (load.get(active[name], 0), ranked.index(name)))
    return chosen, active[chosen]


def _by_field(ctx: ActionContext, spec: ActionSpec, summary: dict[str, Any]) -> tuple[str, int] | None:
    """The user the map gives for the field's value, else (or when that user is deactivated) the default.

    None leaves the owner as it is: the value is not in the map and there is no default.
    """
    field = spec.param("field")
    value = ctx.record.get(field)
    mapping = spec.param("map")
    key = _map_key(value)
    summary.update(field=field, value=json_safe(value))
    wanted = list(dict.fromkeys(name for name in (mapping.get(key), spec.param("default")) if name))
    if not wanted:
        summary["note"] = f"the map has no user for {field} = {value!r} and there is no default"
        return None
    active = active_users(ctx.conn, wanted, "fix the map and default of the rule's assign_owner action")
    chosen = next((name for name in wanted if name in active), None)
    if chosen is None:
        raise _none_active(wanted)
    return chosen, active[chosen]


def _map_key(value: Any) -> str | None:
    """A field value as the map's keys write it: select options as they are, yes/no as true/false."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)
