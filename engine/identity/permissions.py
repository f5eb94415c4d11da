"""Who may do what: role grants resolved per actor and object, and record scopes compiled to SQL.

Enforcement lives here and in the record and query services, never in the web layer, so the
API, pages, exports, imports and reports all obey the same rules. The system actor (rules,
the worker, installs) and admin roles are not limited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, and_, false, or_, select

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.base.messages import Message, named
from engine.expressions import parse
from engine.store.system_tables import departments, record_shares, users
from metadata.roles import OPERATIONS, SCOPES

if TYPE_CHECKING:
    from engine.schema.registry import ObjectModel, Registry

_WIDTH = {scope: rank for rank, scope in enumerate(SCOPES)}


class PermissionDenied(LoomError):
    """The actor's roles do not allow this operation on this object or record."""

    code = "forbidden"


@dataclass(frozen=True)
class ObjectAccess:
    """One actor's effective rights on one object."""

    object: str
    scopes: Mapping[str, str | None]  # operation → widest scope granted, None when not allowed
    hidden: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    unrestricted: bool = False
    label: Mapping[str, str] | None = field(default=None, compare=False)

    def allows(self, operation: str) -> bool:
        return self.unrestricted or self.scopes.get(operation) is not None

    def require(self, operation: str) -> None:
        if not self.allows(operation):
            raise PermissionDenied(Message(f"may_not_{operation}", object=self.named))

    @property
    def named(self) -> dict[str, str]:
        """The object as messages name it: its name in English, its label in Chinese."""
        return named(self.object, self.label)

    def visible(self, name: str) -> bool:
        return name not in self.hidden


UNRESTRICTED_SCOPES = dict.fromkeys(OPERATIONS, "all")


def access_for(registry: Registry, actor: Actor, object_name: str) -> ObjectAccess:
    """The actor's rights on an object: the widest grant of any of its roles, per operation."""
    key = (actor.is_system, actor.roles, object_name)
    cache = registry.access_cache
    found = cache.get(key)
    if found is None:
        found = _resolve(registry, actor, object_name)
        cache[key] = found
    return found


def is_administrator(registry: Registry, actor: Actor) -> bool:
    """Whether the actor holds a role marked admin (or is the system): the builder and purging need it."""
    return actor.is_system or any(
        registry.roles[name].admin for name in actor.roles if name in registry.roles
    )


def _resolve(registry: Registry, actor: Actor, object_name: str) -> ObjectAccess:
    model = registry.object(object_name)
    roles = [registry.roles[name] for name in sorted(actor.roles) if name in registry.roles]
    if actor.is_system or any(role.admin for role in roles):
        return ObjectAccess(object_name, UNRESTRICTED_SCOPES, unrestricted=True, label=model.spec.label)
    scopes: dict[str, str | None] = dict.fromkeys(OPERATIONS)
    readers = []
    for role in roles:
        grant = role.objects.get(object_name)
        if grant is None:
            continue
        for operation in OPERATIONS:
            scopes[operation] = _wider(scopes[operation], grant.scope(operation))
        if grant.scope("read") is not None:
            readers.append(role)
    sharing = model.spec.sharing  # the organisation-wide default widens what roles grant
    if sharing in ("read", "edit") and scopes["read"] is not None:
        scopes["read"] = "all"
    if sharing == "edit" and scopes["update"] is not None:
        scopes["update"] = "all"
    hidden, read_only = _field_limits(readers, model)
    limits = frozenset(hidden), frozenset(read_only - hidden)
    return ObjectAccess(object_name, scopes, *limits, label=model.spec.label)


def _wider(current: str | None, offered: str | None) -> str | None:
    if offered is None:
        return current
    if current is None:
        return offered
    return offered if _WIDTH[offered] > _WIDTH[current] else current


def _field_limits(readers: list, model: ObjectModel) -> tuple[set[str], set[str]]:  # type: ignore[type-arg]
    """A field is hidden (read-only) only if every role that can read the object says so."""
    if not readers:
        return set(), set()
    prefix = f"{model.name}."

    def limited(field: str, levels: tuple[str, ...]) -> bool:
        return all(role.fields.get(prefix + field) in levels for role in readers)

    names = list(model.fields)
    hidden = {name for name in names if limited(name, ("hidden",))}
    read_only = {name for name in names if limited(name, ("hidden", "read_only"))}
    # A formula or roll-up computed from a hidden field would reveal it: hide those as well.
    changed = True
    while changed:
        changed = False
        for spec in model.formulas:
            if spec.name not in hidden and parse(spec.param("expression", "None")).names & hidden:
                hidden.add(spec.name)
                changed = True
    return hidden, read_only


# -- record scopes as SQL -------------------------------------------------------------------------


def scope_condition(
    model: ObjectModel, access: ObjectAccess, operation: str, actor: Actor, *, shares: bool = True
) -> ColumnElement | None:
    """The WHERE clause limiting `operation` to the records in the actor's scope; None = every record.

    `shares=False` (the caller checked that nothing of this object is shared with the actor)
    leaves the share test out, so "my records, newest first" can walk the owner index alone.
    """
    if access.unrestricted:
        return None
    scope = access.scopes.get(operation)
    if scope is None:
        return false()
    if scope == "all":
        return None
    owner = model.table.c.owner_id
    visible_to_all = _shared(model, operation, actor) if shares else false()
    pool = model.spec.extra.get("pool")
    if operation == "read" and pool:
        # The pool (公海) is there to be seen: anyone who may read the object sees what is in it.
        visible_to_all = or_(visible_to_all, model.table.c[pool.get("flag", "in_pool")].is_(True))
    if scope == "own" or actor.department_id is None:
        owned = owner == actor.user_id
    elif scope == "department":
        owned = owner.in_(select(users.c.id).where(users.c.department_id == actor.department_id))
    else:  # department_and_below
        below = select(departments.c.id).where(departments.c.path.startswith(actor.department_path or "/-/"))
        owned = owner.in_(select(users.c.id).where(users.c.department_id.in_(below)))
    return or_(owned, visible_to_all)


def has_shares(conn: Connection, model: ObjectModel, actor: Actor) -> bool:
    """Whether any record of the object is shared with the actor or the actor's department."""
    whom = record_shares.c.user_id == actor.user_id
    if actor.department_id is not None:
        whom = or_(whom, record_shares.c.department_id == actor.department_id)
    query = select(record_shares.c.id).where(record_shares.c.object == model.name, whom).limit(1)
    return conn.execute(query).first() is not None


def _shared(model: ObjectModel, operation: str, actor: Actor) -> ColumnElement:
    """Records shared with the actor or the actor's department (edit shares also allow updates)."""
    if operation not in ("read", "update", "export"):
        return false()
    whom = record_shares.c.user_id == actor.user_id
    if actor.department_id is not None:
        whom = or_(whom, record_shares.c.department_id == actor.department_id)
    conditions = [record_shares.c.object == model.name, whom]
    if operation == "update":
        conditions.append(record_shares.c.access == "edit")
    # An IN over the primary key (not a correlated EXISTS) keeps the whole scope indexable: the
    # database can read the owner's rows through the owner index and add the shared ones by id.
    return model.table.c.id.in_(select(record_shares.c.record_id).where(and_(*conditions)))


def owner_allowed(conn: Connection, access: ObjectAccess, actor: Actor, owner_id: int | None) -> bool:
    """Whether the actor may make `owner_id` the owner of a record (it must stay in their update scope)."""
    if access.unrestricted or owner_id == actor.user_id:
        return True
    scope = access.scopes.get("update")
    if scope == "all":
        return True
    if scope in (None, "own") or owner_id is None or actor.department_id is None:
        return False
    row = conn.execute(
        select(users.c.department_id, departments.c.path)
        .select_from(users.outerjoin(departments, departments.c.id == users.c.department_id))
        .where(users.c.id == owner_id)
    ).first()
    if row is None or row.department_id is None:
        return False
    if scope == "department":
        return row.department_id == actor.department_id
    return (row.path or "").startswith(actor.department_path or "/-/")
