"""Users: create, change, disable, and the Actor every engine call runs as.

A user dict never carries the password hash (only `has_password`). These functions store
what they are asked to; whether the acting user may manage users is checked by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, FromClause, Row, delete, func, insert, select, update

from engine.base.actors import Actor
from engine.identity.errors import (
    DepartmentNotFound,
    IdentityInvalid,
    UserDisabled,
    UsernameTaken,
    UserNotFound,
)
from engine.identity.passwords import hash_password
from engine.identity.sessions import end_sessions
from engine.identity.transactions import reading, writing
from engine.store.audit import audit_row, write_audit
from engine.store.system_tables import api_tokens, departments, user_roles, users

if TYPE_CHECKING:
    from engine.loom import Loom

AUDIT_OBJECT = "loom_users"

USERNAME_PATTERN = re.compile(r"[a-z0-9._@-]{3,150}")
ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
LOCALE_PATTERN = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")

_PUBLIC_COLUMNS = [column for column in users.c if column.name != "password_hash"]


# -- reading ----------------------------------------------------------------------------------------


def normalise_username(username: object) -> str:
    """The stored (lower-case) form of a username, or IdentityInvalid saying what is allowed."""
    if not isinstance(username, str):
        raise IdentityInvalid("the username must be text")
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise IdentityInvalid(
            f"the username {username!r} is not allowed: use 3 to 150 characters, "
            "each a letter a-z, a digit, or one of . _ - @"
        )
    return name


def user_row(conn: Connection, user_id: int) -> Row:
    """The full row of a user, password hash included; for this package's own use."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise UserNotFound(user_id)
    return row


def public_users(conn: Connection, rows: Iterable[Row]) -> list[dict[str, Any]]:
    """User dicts (no hash; with `has_password` and sorted `roles`) for rows of loom_users."""
    rows = list(rows)
    ids = [row.id for row in rows]
    roles: dict[int, list[str]] = {user_id: [] for user_id in ids}
    if ids:
        query = select(user_roles).where(user_roles.c.user_id.in_(ids)).order_by(user_roles.c.role)
        for user_id, role in conn.execute(query):
            roles[user_id].append(role)
    found = []
    for row in rows:
        mapping = row._mapping
        user = {column.name: mapping[column.name] for column in _PUBLIC_COLUMNS}
        user["active"] = bool(user["active"])
        user["has_password"] = mapping["password_hash"] is not None
        user["roles"] = roles[row.id]
        found.append(user)
    return found


def get_user(loom: Loom, user_id: int, *, conn: Connection | None = None) -> dict[str, Any]:
    with reading(loom, conn) as conn:
        return public_users(conn, [user_row(conn, user_id)])[0]


def is_active_user(loom: Loom, user_id: int) -> bool:
    """Whether the id is a user who may sign in and own records (an unknown id is not)."""
    with loom.read() as conn:
        row = conn.execute(select(users.c.active).where(users.c.id == user_id)).first()
    return row is not None and bool(row.active)


def user_by_username(loom: Loom, username: str, *, conn: Connection | None = None) -> dict[str, Any]:
    """The user with that username, whatever its case."""
    name = username.strip().lower() if isinstance(username, str) else username
    with reading(loom, conn) as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is None:
            raise UserNotFound(str(username))
        return public_users(conn, [row])[0]


def list_users(
    loom: Loom,
    *,
    include_disabled: bool = True,
    department_id: int | None = None,
    conn: Connection | None = None,
) -> list[dict[str, Any]]:
    """Users ordered by username."""
    query = select(users).order_by(users.c.username)
    if not include_disabled:
        query = query.where(users.c.active)
    if department_id is not None:
        query = query.where(users.c.department_id == department_id)
    with reading(loom, conn) as conn:
        return public_users(conn, conn.execute(query))


def actor_for(loom: Loom, user_id: int, *, conn: Connection | None = None) -> Actor:
    """The Actor a user's requests run as: roles, department and its path, locale.

    A disabled user is refused (UserDisabled), so a session or token that outlived the
    disabling cannot act.
    """
    query = select(*ACTOR_COLUMNS).select_from(with_actor_details(users)).where(users.c.id == user_id)
    with reading(loom, conn) as conn:
        rows = conn.execute(query).all()
    if not rows:
        raise UserNotFound(user_id)
    if not rows[0].active:
        raise UserDisabled(rows[0].username, "sign in or act")
    return actor_from_rows(rows)


# What an Actor is built from, read in one statement: a user row per role (or one with no role).
ACTOR_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.active,
    users.c.display_name,
    users.c.department_id,
    users.c.locale,
    departments.c.path.label("department_path"),
    user_roles.c.role,
)


def with_actor_details(source: FromClause) -> FromClause:
    """`source` (which holds loom_users) joined to the user's department and roles for ACTOR_COLUMNS."""
    return source.outerjoin(departments, departments.c.id == users.c.department_id).outerjoin(
        user_roles, user_roles.c.user_id == users.c.id
    )


def actor_from_rows(rows: Sequence[Row]) -> Actor:
    """The Actor of one user from their ACTOR_COLUMNS rows."""
    first = rows[0]
    path = first.department_path
    return Actor.user(
        first.id,
        first.display_name,
        frozenset(row.role for row in rows if row.role is not None),
        department_id=first.department_id if path is not None else None,
        department_path=path,
        locale=first.locale,
        username=first.username,
    )


# -- creating and changing --------------------------------------------------------------------------


def create_user(
    loom: Loom,
    username: str,
    display_name: str,
    password: str | None = None,
    *,
    email: str | None = None,
    locale: str = "zh_CN",
    department_id: int | None = None,
    manager_id: int | None = None,
    roles: Iterable[str] = (),
    actor: Actor,
    conn: Connection | None = None,
) -> dict[str, Any]:
    """Create an active user. Without a password the user cannot sign in (API tokens still work)."""
    name = normalise_username(username)
    profile = {
        "display_name": _display_name(display_name),
        "email": _email(email),
        "locale": _locale(locale),
    }
    password_hash = hash_password(password) if password is not None else None  # before any lock
    with writing(loom, conn) as conn:
        if conn.execute(select(users.c.id).where(users.c.username == name)).first() is not None:
            raise UsernameTaken(name)
        if department_id is not None:
            _require_department(conn, department_id)
        if manager_id is not None:
            _require_user(conn, manager_id, "be a manager")
        wanted_roles = check_roles(loom, conn, roles)
        now = loom.clock.now()
        user_id = conn.execute(
            insert(users)
            .values(
                username=name,
                active=True,
                created_at=now,
                password_hash=password_hash,
                department_id=department_id,
                manager_id=manager_id,
                **profile,
            )
            .returning(users.c.id)
        ).scalar_one()
        if wanted_roles:
            conn.execute(insert(user_roles), [{"user_id": user_id, "role": r} for r in wanted_roles])
        changes = {"username": [None, name], **{key: [None, value] for key, value in profile.items()}}
        for key, value in (("department_id", department_id), ("manager_id", manager_id)):
            if value is not None:
                changes[key] = [None, value]
        if wanted_roles:
            changes["roles"] = [None, wanted_roles]
        _audit(conn, loom, actor, user_id, "create", changes)
        return public_users(conn, [user_row(conn, user_id)])[0]


def update_profile(
    loom: Loom,
    user_id: int,
    changes: Mapping[str, Any],
    *,
    actor: Actor,
    conn: Connection | None = None,
) -> dict[str, Any]:
    """Change any of display_name, email and locale."""
    checks = {"display_name": _display_name, "email": _email, "locale": _locale}
    unknown = sorted(set(changes) - set(checks))
    if unknown:
        raise IdentityInvalid(f"cannot change {', '.join(unknown)} here; expected {', '.join(checks)}")
    values = {key: checks[key](value) for key, value in changes.items()}
    with writing(loom, conn) as conn:
        return _set_columns(conn, loom, actor, user_id, values, "update")


def set_password(
    loom: Loom,
    user_id: int,
    password: str,
    *,
    actor: Actor,
    revoke_tokens: bool = False,
    keep_session: str | None = None,
    conn: Connection | None = None,
) -> None:
    """Replace a user's password and end their other sign-in sessions (and, if asked, their API
    tokens): whoever knew the old password is out. The audit row never says what it is."""
    password_hash = hash_password(password)
    with writing(loom, conn) as conn:
        user_row(conn, user_id)
        conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
        ended = end_sessions(loom, user_id, except_key=keep_session, conn=conn)
        revoked = _revoke_tokens(conn, loom, user_id) if revoke_tokens else 0
        _audit(
            conn,
            loom,
            actor,
            user_id,
            "set_password",
            {"sessions_ended": [None, ended], "tokens_revoked": [None, revoked]},
        )


def _revoke_tokens(conn: Connection, loom: Loom, user_id: int) -> int:
    return conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=loom.clock.now())
    ).rowcount


def disable_user(loom: Loom, user_id: int, *, actor: Actor, conn: Connection | None = None) -> dict[str, Any]:
    """Disable a user: no sign-in, no acting (actor_for refuses), and every API token revoked now.

    Their records stay theirs until handed over (see handover); disabling twice changes nothing.
    """
    with writing(loom, conn) as conn:
        row = user_row(conn, user_id)
        if not row.active:
            return public_users(conn, [row])[0]
        now = loom.clock.now()
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return _set_columns(conn, loom, actor, user_id, {"active": False, "disabled_at": now}, "disable")


def enable_user(loom: Loom, user_id: int, *, actor: Actor, conn: Connection | None = None) -> dict[str, Any]:
    """Let a disabled user sign in again; tokens revoked when they were disabled stay revoked."""
    with writing(loom, conn) as conn:
        row = user_row(conn, user_id)
        if row.active:
            return public_users(conn, [row])[0]
        return _set_columns(conn, loom, actor, user_id, {"active": True, "disabled_at": None}, "enable")


def set_manager(
    loom: Loom, user_id: int, manager_id: int | None, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    """Set (or clear, with None) a user's direct manager; refuses a loop of managers."""
    with writing(loom, conn) as conn:
        row = user_row(conn, user_id)
        if manager_id is not None:
            _require_user(conn, manager_id, "be a manager")
            seen, current = {user_id}, manager_id
            while current is not None:
                if current in seen:
                    raise IdentityInvalid(
                        f"user {manager_id} cannot manage {row.username!r}: the managers would form a loop"
                    )
                seen.add(current)
                current = conn.execute(select(users.c.manager_id).where(users.c.id == current)).scalar()
        return _set_columns(conn, loom, actor, user_id, {"manager_id": manager_id}, "update")


def set_department(
    loom: Loom, user_id: int, department_id: int | None, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    """Move a user to a department (or out of every department, with None)."""
    with writing(loom, conn) as conn:
        if department_id is not None:
            _require_department(conn, department_id)
        return _set_columns(conn, loom, actor, user_id, {"department_id": department_id}, "update")


# -- roles --------------------------------------------------------------------------------------------


def check_roles(loom: Loom, conn: Connection, roles: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated role names, each a valid name and — once roles are metadata — defined."""
    wanted = sorted({role.strip() if isinstance(role, str) else role for role in roles})
    for role in wanted:
        if not isinstance(role, str) or not ROLE_PATTERN.fullmatch(role):
            raise IdentityInvalid(
                f"{role!r} is not a role name: expected lower-case letters, digits and _, "
                "starting with a letter"
            )
    defined = getattr(loom.registry_for(conn), "roles", None)
    if defined is not None:
        unknown = [role for role in wanted if role not in defined]
        if unknown:
            known = ", ".join(sorted(defined)) or "none are defined yet"
            raise IdentityInvalid(f"unknown role(s) {', '.join(unknown)}; the roles are: {known}")
    return wanted


def set_roles(
    loom: Loom, user_id: int, roles: Iterable[str], *, actor: Actor, conn: Connection | None = None
) -> list[str]:
    """Replace a user's roles; returns them sorted."""
    with writing(loom, conn) as conn:
        user_row(conn, user_id)
        wanted = check_roles(loom, conn, roles)
        before = sorted(
            conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == user_id)).scalars()
        )
        if before != wanted:
            conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
            if wanted:
                conn.execute(insert(user_roles), [{"user_id": user_id, "role": role} for role in wanted])
            _audit(conn, loom, actor, user_id, "update", {"roles": [before, wanted]})
        return wanted


def add_role(
    loom: Loom, user_id: int, role: str, *, actor: Actor, conn: Connection | None = None
) -> list[str]:
    with writing(loom, conn) as conn:
        current = get_user(loom, user_id, conn=conn)["roles"]
        return set_roles(loom, user_id, [*current, role], actor=actor, conn=conn)


def remove_role(
    loom: Loom, user_id: int, role: str, *, actor: Actor, conn: Connection | None = None
) -> list[str]:
    """Take a role away; removing a role the user does not hold changes nothing."""
    with writing(loom, conn) as conn:
        current = get_user(loom, user_id, conn=conn)["roles"]
        if role not in current:
            return current
        kept = [held for held in current if held != role]
        # Only the kept roles are checked, so a role dropped from the metadata can still be removed.
        conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id, user_roles.c.role == role))
        _audit(conn, loom, actor, user_id, "update", {"roles": [current, kept]})
        return kept


def roles_in_use(loom: Loom, *, conn: Connection | None = None) -> dict[str, int]:
    """Role name → how many users hold it, for every role some user holds."""
    query = select(user_roles.c.role, func.count()).group_by(user_roles.c.role).order_by(user_roles.c.role)
    with reading(loom, conn) as conn:
        return {role: count for role, count in conn.execute(query)}


# -- checks and writes shared by the functions above -----------------------------------------------------


def _display_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise IdentityInvalid("the display name must not be empty")
    if len(value.strip()) > 150:
        raise IdentityInvalid("the display name must be at most 150 characters long")
    return value.strip()


def _email(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if (
        not isinstance(value, str)
        or len(value.strip()) > 255
        or not re.fullmatch(r"[^@\s]+@[^@\s]+", value.strip())
    ):
        raise IdentityInvalid(f"{value!r} is not an email address")
    return value.strip()


def _locale(value: object) -> str:
    if not isinstance(value, str) or not LOCALE_PATTERN.fullmatch(value):
        raise IdentityInvalid(f"{value!r} is not a locale: expected a name such as zh_CN or en")
    return value


def _require_department(conn: Connection, department_id: int) -> None:
    if conn.execute(select(departments.c.id).where(departments.c.id == department_id)).first() is None:
        raise DepartmentNotFound(department_id)


def _require_user(conn: Connection, user_id: int, doing: str) -> Row:
    row = user_row(conn, user_id)
    if not row.active:
        raise UserDisabled(row.username, doing)
    return row


def _set_columns(
    conn: Connection, loom: Loom, actor: Actor, user_id: int, values: dict[str, Any], action: str
) -> dict[str, Any]:
    before = user_row(conn, user_id)
    changes = {
        key: [_jsonable(before._mapping[key]), _jsonable(value)]
        for key, value in values.items()
        if before._mapping[key] != value
    }
    if changes:
        conn.execute(update(users).where(users.c.id == user_id).values(values))
        _audit(conn, loom, actor, user_id, action, changes)
    return public_users(conn, [user_row(conn, user_id)])[0]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _audit(conn: Connection, loom: Loom, actor: Actor, user_id: int, action: str, changes: dict) -> None:
    write_audit(conn, [audit_row(actor, loom.clock.now(), AUDIT_OBJECT, user_id, action, changes)])
