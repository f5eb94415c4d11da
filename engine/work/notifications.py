"""In-app notifications: what a user sees under the bell, written by rules and flows and marked read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from engine.store.system_tables import notifications

TITLE_LIMIT = 500  # the column's width; longer titles are cut with an ellipsis


def notify(
    conn: Connection,
    user_ids: Iterable[int],
    title: str,
    body: str | None,
    object: str | None,
    record_id: int | None,
    source: str | None,
    now: datetime,
) -> list[int]:
    """Write one unread notification per user (each user once); returns the new notification ids.

    `source` says what wrote it (e.g. rule:vip_followup), `object`/`record_id` what it is about.
    """
    recipients = list(dict.fromkeys(user_ids))
    if not recipients:
        return []
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1] + "…"
    rows = [
        {
            "user_id": user_id,
            "title": title,
            "body": body,
            "object": object,
            "record_id": record_id,
            "source": source,
            "created_at": now,
        }
        for user_id in recipients
    ]
    result = conn.execute(insert(notifications).returning(notifications.c.id), rows)
    return [row[0] for row in result]


def unread_for(conn: Connection, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """A user's unread notifications, newest first."""
    return notifications_for(conn, user_id, limit, unread_only=True)


def notifications_for(
    conn: Connection, user_id: int, limit: int, *, unread_only: bool
) -> list[dict[str, Any]]:
    """A user's notifications, newest first: the unread ones, or all."""
    query = select(notifications).where(notifications.c.user_id == user_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    return [
        dict(row._mapping) for row in conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    ]


def unread_count(conn: Connection, user_id: int) -> int:
    """How many unread notifications the bell shows."""
    query = select(func.count()).where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
    return int(conn.execute(query).scalar_one())


def mark_all_read(conn: Connection, user_id: int, now: datetime) -> int:
    """Mark every unread notification of the user read. Returns how many changed."""
    result = conn.execute(
        update(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount)


def mark_read(conn: Connection, user_id: int, ids: Sequence[int], now: datetime) -> int:
    """Mark some of the user's own notifications read; others' ids are ignored. Returns how many changed."""
    if not ids:
        return 0
    result = conn.execute(
        update(notifications)
        .where(
            notifications.c.user_id == user_id,
            notifications.c.id.in_(list(ids)),
            notifications.c.read_at.is_(None),
        )
        .values(read_at=now)
    )
    return int(result.rowcount)
