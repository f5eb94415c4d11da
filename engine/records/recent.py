"""The records a user touched last, for their home page: read from the audit log, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.base.actors import Actor
from engine.base.errors import UnknownObject
from engine.identity.permissions import PermissionDenied
from engine.store.system_tables import audit_log

if TYPE_CHECKING:
    from engine.loom import Loom


def recent_records(loom: Loom, actor: Actor, limit: int = 10) -> list[dict[str, Any]]:
    """Records the actor created or changed most recently, each once, that they may still see."""
    if actor.user_id is None:
        return []
    last = func.max(audit_log.c.id).label("last_id")
    query = (
        select(audit_log.c.object, audit_log.c.record_id, func.max(audit_log.c.at).label("at"), last)
        .where(audit_log.c.actor_id == actor.user_id, audit_log.c.action.in_(["create", "update"]))
        .group_by(audit_log.c.object, audit_log.c.record_id)
        .order_by(last.desc())
        .limit(limit * 2)  # some may be deleted or out of sight now
    )
    with loom.read() as conn:
        rows = conn.execute(query).all()
    titles: dict[str, dict[int, str]] = {}
    queries = loom.queries(actor)
    for name in {row.object for row in rows}:
        try:
            titles[name] = queries.titles(name, [row.record_id for row in rows if row.object == name])
        except (PermissionDenied, UnknownObject):
            titles[name] = {}
    found = [
        {
            "object": row.object,
            "record_id": row.record_id,
            "title": titles[row.object][row.record_id],
            "at": row.at,
        }
        for row in rows
        if row.record_id in titles[row.object]
    ]
    return found[:limit]
