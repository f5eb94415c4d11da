"""Transferring a record to another owner (转移负责人).

Who may give a record to whom is the record service's rule: the actor must be able to change
the record, and the new owner must stay within the actor's update scope (a rep with "own"
scope cannot give records away; a manager may within their department; an admin to anyone).
A record in its object's pool leaves the pool when it is given to someone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import ActionRefused, RecordInvalid
from engine.identity.permissions import access_for, owner_allowed
from engine.store.system_tables import departments, users

if TYPE_CHECKING:
    from engine.loom import Loom

CANDIDATES_SHOWN = 500


class OwnershipRefused(ActionRefused):
    """A transfer could not be done as asked; nothing was changed. `reason` names the refusal."""

    code = "transfer_refused"


def may_transfer(loom: Loom, actor: Actor, object_name: str) -> bool:
    """Whether the actor may give records of this object to someone other than themselves at all;
    the page checks the record's own update scope besides."""
    access = access_for(loom.registry, actor, object_name)
    if access.unrestricted:
        return True
    return access.scopes.get("update") in ("department", "department_and_below", "all") and (
        "owner" not in access.read_only and access.visible("owner")
    )


def candidates(loom: Loom, actor: Actor, object_name: str) -> list[dict[str, Any]]:
    """The active users the actor may give a record of this object to, by name."""
    access = access_for(loom.registry, actor, object_name)
    query = (
        select(users.c.id, users.c.username, users.c.display_name, users.c.department_id, departments.c.path)
        .select_from(users.outerjoin(departments, departments.c.id == users.c.department_id))
        .where(users.c.active.is_(True))
        .order_by(users.c.display_name, users.c.id)
    )
    scope = None if access.unrestricted else access.scopes.get("update")
    if scope == "department":
        query = query.where(users.c.department_id == actor.department_id)
    elif scope == "department_and_below":
        query = query.where(departments.c.path.startswith(actor.department_path or "/-/"))
    elif scope not in (None, "all"):
        query = query.where(users.c.id == actor.user_id)
    with loom.read() as conn:
        rows = conn.execute(query.limit(CANDIDATES_SHOWN)).all()
    return [{"id": row.id, "username": row.username, "name": row.display_name} for row in rows]


def transfer_owner(
    loom: Loom, actor: Actor, object_name: str, record_id: int, new_owner: int, *, version: int | None = None
) -> dict[str, Any]:
    """Give the record to `new_owner`, audited as the actor's change (the timeline shows it)."""
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model = registry.object(object_name)
        access = access_for(registry, actor, object_name)
        access.require("update")
        _require_active_user(conn, new_owner)
        records = loom.records(actor, conn)
        record = records.get(object_name, record_id)
        if record.get("owner") == new_owner:
            raise OwnershipRefused(
                f"{object_name} {record_id} already belongs to that user", "same_owner", id=record_id
            )
        if not owner_allowed(conn, access, actor, new_owner):
            raise OwnershipRefused(
                "you may not give this record to that user: they are outside the records you may change",
                "owner_not_allowed",
                user=new_owner,
            )
        changes: dict[str, Any] = {"owner": new_owner}
        pool = model.spec.extra.get("pool")
        if pool and record.get(pool.get("flag", "in_pool")) is True:
            changes[pool.get("flag", "in_pool")] = False
        try:
            return records.update(object_name, record_id, changes, version=version)
        except RecordInvalid as error:
            if set(error.fields) <= {"owner"}:
                raise OwnershipRefused(
                    "you may not give this record to that user", "owner_not_allowed", user=new_owner
                ) from None
            raise


def _require_active_user(conn: Connection, user_id: Any) -> None:
    if type(user_id) is not int or user_id < 1:
        raise OwnershipRefused("the new owner must be given by their user id", "no_such_user")
    row = conn.execute(select(users.c.active).where(users.c.id == user_id)).first()
    if row is None or not row.active:
        raise OwnershipRefused(f"there is no active user with id {user_id}", "no_such_user", user=user_id)


__all__ = ["OwnershipRefused", "candidates", "may_transfer", "transfer_owner"]
