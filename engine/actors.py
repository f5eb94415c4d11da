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

    @classmethod
    def user(cls, user_id: int, name: str, roles: frozenset[str] = frozenset()) -> Actor:
        return cls(user_id=user_id, name=name, roles=roles)


SYSTEM = Actor(user_id=None, name="system", roles=frozenset({"admin"}), is_system=True)
