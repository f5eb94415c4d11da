"""Who is acting: a user, or the system itself (rules, the worker, installs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The identity every engine call runs as; recorded in audit rows."""

    user_id: int | None
    name: str
    roles: frozenset[str] = frozenset()
    is_system: bool = False
    department_id: int | None = None
    #: The department's materialized path ("/1/4/9/"), for "department and below" scopes.
    department_path: str | None = None
    locale: str = "zh_CN"
    #: The user's sign-in name, which private reports name as their owner; None for the system.
    username: str | None = None

    @classmethod
    def user(
        cls,
        user_id: int,
        name: str,
        roles: frozenset[str] | set[str] = frozenset(),
        *,
        department_id: int | None = None,
        department_path: str | None = None,
        locale: str = "zh_CN",
        username: str | None = None,
    ) -> Actor:
        return cls(
            user_id=user_id,
            name=name,
            roles=frozenset(roles),
            department_id=department_id,
            department_path=department_path,
            locale=locale,
            username=username,
        )


SYSTEM = Actor(user_id=None, name="system", roles=frozenset({"admin"}), is_system=True)
