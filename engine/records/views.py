"""Saved views: a user's named list queries (filters, search, sort) per object, kept for them alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.store.system_tables import saved_views

if TYPE_CHECKING:
    from engine.loom import Loom

NAME_LIMIT = 100


class SavedViewInvalid(LoomError):
    code = "invalid_saved_view"


def views_for(loom: Loom, actor: Actor, object_name: str) -> list[dict[str, Any]]:
    """The actor's saved views of an object, by name."""
    query = (
        select(saved_views.c.id, saved_views.c.name, saved_views.c.query)
        .where(saved_views.c.user_id == _user_id(actor), saved_views.c.object == object_name)
        .order_by(saved_views.c.name)
    )
    with loom.read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def save_view(
    loom: Loom, actor: Actor, object_name: str, name: str, query: Mapping[str, Any]
) -> dict[str, Any]:
    """Save (or overwrite, by name) one of the actor's views of an object; returns it."""
    name = (name or "").strip()
    if not name:
        raise SavedViewInvalid("a saved view needs a name")
    if len(name) > NAME_LIMIT:
        raise SavedViewInvalid(f"a saved view's name is at most {NAME_LIMIT} characters")
    loom.registry.object(object_name)  # UnknownObject for a name that is not an object
    owner = _user_id(actor)
    with loom.begin() as conn:
        found = conn.execute(
            select(saved_views.c.id).where(
                saved_views.c.user_id == owner,
                saved_views.c.object == object_name,
                saved_views.c.name == name,
            )
        ).scalar()
        if found is None:
            found = conn.execute(
                insert(saved_views)
                .values(
                    user_id=owner,
                    object=object_name,
                    name=name,
                    query=dict(query),
                    created_at=loom.clock.now(),
                )
                .returning(saved_views.c.id)
            ).scalar_one()
        else:
            conn.execute(update(saved_views).where(saved_views.c.id == found).values(query=dict(query)))
    return {"id": found, "name": name, "query": dict(query)}


def delete_view(loom: Loom, actor: Actor, view_id: int) -> bool:
    """Delete one of the actor's own views; another user's view id deletes nothing."""
    with loom.begin() as conn:
        result = conn.execute(
            delete(saved_views).where(saved_views.c.id == view_id, saved_views.c.user_id == _user_id(actor))
        )
        return bool(result.rowcount)


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise SavedViewInvalid("only a signed-in user has saved views")
    return actor.user_id
