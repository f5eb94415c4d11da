"""The audit log: one row per record change — who, when, and each field's old and new value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.actors import Actor
from engine.system_tables import audit_log


def audit_row(
    actor: Actor, at: datetime, object_name: str, record_id: int, action: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """`changes` maps field → [old, new] in JSON form; a create records [None, value] for each set field."""
    return {
        "at": at,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "object": object_name,
        "record_id": record_id,
        "action": action,
        "changes": changes,
    }


def write_audit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(audit_log.insert(), list(rows))


def record_history(conn: Connection, object_name: str, record_id: int) -> list[dict[str, Any]]:
    """Every audit row of one record, oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.object == object_name, audit_log.c.record_id == record_id)
        .order_by(audit_log.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
