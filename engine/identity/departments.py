"""Departments: a tree with heads, kept as materialized paths, and the management chain over it.

Each department stores the ids from the root down to itself ("/1/4/9/"), so "this department
and below" is one indexed prefix match and moving a branch re-paths it in one UPDATE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, func, insert, literal, select, update

from engine.base.actors import Actor
from engine.identity.errors import DepartmentNotFound, IdentityInvalid, UserNotFound
from engine.identity.transactions import reading, writing
from engine.identity.users import public_users, user_row
from engine.store.audit import audit_row, write_audit
from engine.store.system_tables import departments, users

if TYPE_CHECKING:
    from engine.loom import Loom

AUDIT_OBJECT = "loom_departments"
MAX_PATH = departments.c.path.type.length or 500


# -- reading ----------------------------------------------------------------------------------------


def department_row(conn: Connection, department_id: int) -> Row:
    row = conn.execute(select(departments).where(departments.c.id == department_id)).first()
    if row is None:
        raise DepartmentNotFound(department_id)
    return row


def get_department(loom: Loom, department_id: int, *, conn: Connection | None = None) -> dict[str, Any]:
    with reading(loom, conn) as conn:
        return dict(department_row(conn, department_id)._mapping)


def department_by_name(loom: Loom, name: str, *, conn: Connection | None = None) -> dict[str, Any]:
    """The department with that name (ignoring case); an error listing them when several share it."""
    with reading(loom, conn) as conn:
        rows = conn.execute(
            select(departments)
            .where(func.lower(departments.c.name) == name.strip().lower())
            .order_by(departments.c.path)
        ).all()
        if not rows:
            raise DepartmentNotFound(name)
        if len(rows) > 1:
            where = ", ".join(f"id {row.id} under {_parent_name(conn, row)}" for row in rows)
            raise IdentityInvalid(f"{len(rows)} departments are named {name!r} ({where}); give the id")
        return dict(rows[0]._mapping)


def list_departments(loom: Loom, *, conn: Connection | None = None) -> list[dict[str, Any]]:
    """Every department, parents before their children."""
    with reading(loom, conn) as conn:
        return [dict(row._mapping) for row in conn.execute(select(departments).order_by(departments.c.path))]


def department_tree(loom: Loom, *, conn: Connection | None = None) -> list[dict[str, Any]]:
    """The top-level departments, each with `children` (nested the same way), siblings by name."""
    nodes = {d["id"]: {**d, "children": []} for d in list_departments(loom, conn=conn)}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"]) if node["parent_id"] is not None else None
        (parent["children"] if parent is not None else roots).append(node)
    for node in nodes.values():
        node["children"].sort(key=lambda child: (child["name"], child["id"]))
    return sorted(roots, key=lambda root: (root["name"], root["id"]))


def members(
    loom: Loom,
    department_id: int,
    include_below: bool = False,
    *,
    include_disabled: bool = False,
    conn: Connection | None = None,
) -> list[dict[str, Any]]:
    """The users of a department (and of every department below it, with include_below)."""
    with reading(loom, conn) as conn:
        department = department_row(conn, department_id)
        if include_below:
            below = select(departments.c.id).where(departments.c.path.startswith(department.path))
            query = select(users).where(users.c.department_id.in_(below))
        else:
            query = select(users).where(users.c.department_id == department_id)
        if not include_disabled:
            query = query.where(users.c.active)
        return public_users(conn, conn.execute(query.order_by(users.c.username)))


def head_of(loom: Loom, department_id: int, *, conn: Connection | None = None) -> dict[str, Any] | None:
    """The department's head as a user dict, or None when it has none."""
    with reading(loom, conn) as conn:
        department = department_row(conn, department_id)
        if department.head_id is None:
            return None
        return public_users(conn, [user_row(conn, department.head_id)])[0]


def manager_chain(
    loom: Loom, user_id: int, levels: int, *, conn: Connection | None = None
) -> list[dict[str, Any]]:
    """The user's managers going up, nearest first, at most `levels` of them.

    One step up from a person is their direct manager; without one, the head of their
    department; when they head it themselves (or it has no head), the head of the nearest
    department above that has one. Disabled users are passed over: the step continues from
    them without counting a level, so a vacancy does not break the chain. A shorter list
    means the chain reached the top. "The submitter's manager N levels up" is the N-th entry.
    """
    if levels < 1:
        raise IdentityInvalid(f"levels must be at least 1 (got {levels})")
    with reading(loom, conn) as conn:
        org = _OrgLookup(conn)
        current = org.user(user_id)
        if current is None:
            raise UserNotFound(user_id)
        seen = {user_id}
        chain: list[Row] = []
        while len(chain) < levels:
            boss = _one_step_up(org, current, seen)
            if boss is None:
                break
            seen.add(boss.id)
            if boss.active:
                chain.append(boss)
            current = boss
        return public_users(conn, chain)


class _OrgLookup:
    """Users and departments read once each while a chain is walked."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._users: dict[int, Row | None] = {}
        self._departments: dict[int, Row | None] = {}

    def user(self, user_id: int) -> Row | None:
        if user_id not in self._users:
            self._users[user_id] = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return self._users[user_id]

    def department(self, department_id: int | None) -> Row | None:
        if department_id is None:
            return None
        if department_id not in self._departments:
            query = select(departments).where(departments.c.id == department_id)
            self._departments[department_id] = self.conn.execute(query).first()
        return self._departments[department_id]


def _one_step_up(org: _OrgLookup, person: Row, seen: set[int]) -> Row | None:
    if person.manager_id is not None and person.manager_id not in seen:
        manager = org.user(person.manager_id)
        if manager is not None:
            return manager
    department = org.department(person.department_id)
    visited: set[int] = set()
    while department is not None and department.id not in visited:
        visited.add(department.id)
        if department.head_id is not None and department.head_id not in seen:
            head = org.user(department.head_id)
            if head is not None:
                return head
        department = org.department(department.parent_id)
    return None


# -- changing ---------------------------------------------------------------------------------------


def create_department(
    loom: Loom,
    name: str,
    parent_id: int | None = None,
    head_id: int | None = None,
    *,
    actor: Actor,
    conn: Connection | None = None,
) -> dict[str, Any]:
    """Create a department under `parent_id` (or at the top); names are unique among siblings."""
    name = _department_name(name)
    with writing(loom, conn) as conn:
        parent_path = department_row(conn, parent_id).path if parent_id is not None else "/"
        _refuse_sibling_named(conn, name, parent_id)
        if head_id is not None:
            user_row(conn, head_id)
        department_id = conn.execute(
            insert(departments)
            .values(name=name, parent_id=parent_id, head_id=head_id, path="", created_at=loom.clock.now())
            .returning(departments.c.id)
        ).scalar_one()
        path = f"{parent_path}{department_id}/"
        if len(path) > MAX_PATH:
            raise IdentityInvalid(f"departments cannot nest this deep (the path would be {len(path)} long)")
        conn.execute(update(departments).where(departments.c.id == department_id).values(path=path))
        changes = {"name": [None, name], "parent_id": [None, parent_id], "head_id": [None, head_id]}
        _audit(conn, loom, actor, department_id, "create", changes)
        return dict(department_row(conn, department_id)._mapping)


def rename_department(
    loom: Loom, department_id: int, name: str, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    name = _department_name(name)
    with writing(loom, conn) as conn:
        department = department_row(conn, department_id)
        if department.name != name:
            _refuse_sibling_named(conn, name, department.parent_id, except_id=department_id)
            conn.execute(update(departments).where(departments.c.id == department_id).values(name=name))
            _audit(conn, loom, actor, department_id, "update", {"name": [department.name, name]})
        return dict(department_row(conn, department_id)._mapping)


def move_department(
    loom: Loom, department_id: int, parent_id: int | None, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    """Put a department (with everything below it) under another parent, or at the top with None.

    Every path in the branch is rewritten by one UPDATE. Actors built before the move keep
    their old department path until they are built again (at the next request).
    """
    with writing(loom, conn) as conn:
        department = department_row(conn, department_id)
        if department.parent_id == parent_id:
            return dict(department._mapping)
        old_prefix = department.path
        if parent_id is None:
            new_prefix = f"/{department_id}/"
        else:
            parent = department_row(conn, parent_id)
            if parent.path.startswith(old_prefix):
                raise IdentityInvalid(
                    f"cannot move department {department.name!r} under {parent.name!r}: "
                    "it is the department itself or one below it"
                )
            new_prefix = f"{parent.path}{department_id}/"
        _refuse_sibling_named(conn, department.name, parent_id, except_id=department_id)
        branch = departments.c.path.startswith(old_prefix)
        longest = conn.execute(select(func.max(func.length(departments.c.path))).where(branch)).scalar()
        if longest - len(old_prefix) + len(new_prefix) > MAX_PATH:
            raise IdentityInvalid(f"cannot move department {department.name!r} there: it would nest too deep")
        conn.execute(
            update(departments)
            .where(branch)
            .values(path=literal(new_prefix) + func.substr(departments.c.path, len(old_prefix) + 1))
        )
        conn.execute(update(departments).where(departments.c.id == department_id).values(parent_id=parent_id))
        _audit(conn, loom, actor, department_id, "move", {"parent_id": [department.parent_id, parent_id]})
        return dict(department_row(conn, department_id)._mapping)


def set_head(
    loom: Loom, department_id: int, user_id: int | None, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    """Make a user the head of a department (or leave it without one, with None)."""
    with writing(loom, conn) as conn:
        department = department_row(conn, department_id)
        if user_id is not None:
            user_row(conn, user_id)
        if department.head_id != user_id:
            conn.execute(update(departments).where(departments.c.id == department_id).values(head_id=user_id))
            _audit(conn, loom, actor, department_id, "update", {"head_id": [department.head_id, user_id]})
        return dict(department_row(conn, department_id)._mapping)


def _department_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise IdentityInvalid("a department needs a name")
    if len(name.strip()) > 150:
        raise IdentityInvalid("a department name must be at most 150 characters long")
    return name.strip()


def _refuse_sibling_named(
    conn: Connection, name: str, parent_id: int | None, except_id: int | None = None
) -> None:
    parent = departments.c.parent_id.is_(None) if parent_id is None else departments.c.parent_id == parent_id
    query = select(departments.c.id).where(parent, func.lower(departments.c.name) == name.lower())
    if except_id is not None:
        query = query.where(departments.c.id != except_id)
    if conn.execute(query).first() is not None:
        raise IdentityInvalid(f"there is already a department named {name!r} there")


def _parent_name(conn: Connection, row: Row) -> str:
    if row.parent_id is None:
        return "the top"
    return repr(department_row(conn, row.parent_id).name)


def _audit(
    conn: Connection, loom: Loom, actor: Actor, department_id: int, action: str, changes: dict
) -> None:
    write_audit(conn, [audit_row(actor, loom.clock.now(), AUDIT_OBJECT, department_id, action, changes)])
