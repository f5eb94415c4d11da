"""Sharing one record with a user or a department, beyond what their roles' scopes allow.

This module only stores shares (and audits them on the record's own history); reading them
when deciding who may see or change a record is the permission layer's work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from engine.base.actors import Actor
from engine.base.errors import RecordNotFound
from engine.identity.departments import department_row
from engine.identity.errors import IdentityInvalid
from engine.identity.transactions import reading, writing
from engine.identity.users import user_row
from engine.store.audit import audit_row, write_audit
from engine.store.system_tables import record_shares

if TYPE_CHECKING:
    from engine.loom import Loom

ACCESS_LEVELS = ("read", "edit")


def share_record(
    loom: Loom,
    object_name: str,
    record_id: int,
    *,
    user_id: int | None = None,
    department_id: int | None = None,
    access: str = "read",
    actor: Actor,
    conn: Connection | None = None,
) -> dict[str, Any]:
    """Share a live record with one user or one department (exactly one of the two).

    Sharing again with the same user or department replaces the access level; a department
    share reaches the department's own members (whether it reaches the departments below is
    the permission layer's rule).
    """
    if access not in ACCESS_LEVELS:
        raise IdentityInvalid(f"access must be one of {', '.join(ACCESS_LEVELS)} (got {access!r})")
    with writing(loom, conn) as conn:
        target = _target(conn, user_id, department_id)
        _require_record(loom, conn, object_name, record_id)
        existing = conn.execute(
            select(record_shares).where(*_same_share(object_name, record_id, target))
        ).first()
        now = loom.clock.now()
        if existing is None:
            share_id = conn.execute(
                insert(record_shares)
                .values(
                    object=object_name,
                    record_id=record_id,
                    access=access,
                    created_at=now,
                    created_by=actor.user_id,
                    **target,
                )
                .returning(record_shares.c.id)
            ).scalar_one()
            _audit(conn, loom, actor, object_name, record_id, "share", None, {**target, "access": access})
        else:
            share_id = existing.id
            if existing.access != access:
                conn.execute(
                    update(record_shares).where(record_shares.c.id == share_id).values(access=access)
                )
                before = {**target, "access": existing.access}
                _audit(
                    conn, loom, actor, object_name, record_id, "share", before, {**target, "access": access}
                )
        row = conn.execute(select(record_shares).where(record_shares.c.id == share_id)).one()
        return dict(row._mapping)


def unshare(
    loom: Loom,
    object_name: str,
    record_id: int,
    *,
    user_id: int | None = None,
    department_id: int | None = None,
    actor: Actor,
    conn: Connection | None = None,
) -> bool:
    """Stop sharing a record with a user or department; False when it was not shared with them."""
    with writing(loom, conn) as conn:
        target = _target(conn, user_id, department_id, must_exist=False)
        existing = conn.execute(
            select(record_shares).where(*_same_share(object_name, record_id, target))
        ).first()
        if existing is None:
            return False
        conn.execute(delete(record_shares).where(record_shares.c.id == existing.id))
        before = {**target, "access": existing.access}
        _audit(conn, loom, actor, object_name, record_id, "unshare", before, None)
        return True


def shares_of(
    loom: Loom, object_name: str, record_id: int, *, conn: Connection | None = None
) -> list[dict[str, Any]]:
    """Every share of a record, oldest first."""
    query = (
        select(record_shares)
        .where(record_shares.c.object == object_name, record_shares.c.record_id == record_id)
        .order_by(record_shares.c.id)
    )
    with reading(loom, conn) as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _target(
    conn: Connection, user_id: int | None, department_id: int | None, *, must_exist: bool = True
) -> dict[str, int]:
    if (user_id is None) == (department_id is None):
        raise IdentityInvalid("share with exactly one of a user or a department")
    if user_id is not None:
        if must_exist:
            user_row(conn, user_id)
        return {"user_id": user_id}
    if must_exist:
        department_row(conn, department_id)
    return {"department_id": department_id}


def _same_share(object_name: str, record_id: int, target: dict[str, int]) -> list:
    conditions = [record_shares.c.object == object_name, record_shares.c.record_id == record_id]
    for key in ("user_id", "department_id"):
        column = record_shares.c[key]
        conditions.append(column == target[key] if key in target else column.is_(None))
    return conditions


def _require_record(loom: Loom, conn: Connection, object_name: str, record_id: int) -> None:
    table = loom.registry_for(conn).object(object_name).table
    found = conn.execute(select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None)))
    if found.first() is None:
        raise RecordNotFound(object_name, record_id)


def _audit(
    conn: Connection,
    loom: Loom,
    actor: Actor,
    object_name: str,
    record_id: int,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    row = audit_row(actor, loom.clock.now(), object_name, record_id, action, {"share": [before, after]})
    write_audit(conn, [row])
