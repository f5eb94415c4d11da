"""Sign-in sessions of the web pages, kept in the database so they can be ended from anywhere.

The browser holds a random key; the database keeps its SHA-256 (as for API tokens, a copy of the
database hands out no working sessions). A session lives until its user signs out of it, signs
out everywhere, gets a new password, or is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, update

from engine.identity.transactions import reading, writing
from engine.store.system_tables import web_sessions

if TYPE_CHECKING:
    from engine.loom import Loom


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(loom: Loom, user_id: int, *, conn: Connection | None = None) -> str:
    """A new session for the user; returns the key the browser keeps."""
    key = secrets.token_urlsafe(32)
    with writing(loom, conn) as conn:
        conn.execute(
            insert(web_sessions).values(key_hash=_hash(key), user_id=user_id, created_at=loom.clock.now())
        )
    return key


def session_user(loom: Loom, key: object, *, conn: Connection | None = None) -> int | None:
    """The user whose live session this key opens, or None (unknown, ended, or not a key)."""
    if not isinstance(key, str) or not key or len(key) > 100:
        return None
    with reading(loom, conn) as conn:
        return conn.execute(
            select(web_sessions.c.user_id).where(
                web_sessions.c.key_hash == _hash(key), web_sessions.c.ended_at.is_(None)
            )
        ).scalar()


def end_session(loom: Loom, key: object, *, conn: Connection | None = None) -> None:
    """End one session (signing out of this browser)."""
    if not isinstance(key, str) or not key:
        return
    with writing(loom, conn) as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.key_hash == _hash(key), web_sessions.c.ended_at.is_(None))
            .values(ended_at=loom.clock.now())
        )


def end_sessions(
    loom: Loom, user_id: int, *, except_key: str | None = None, conn: Connection | None = None
) -> int:
    """End every live session of the user (but `except_key`'s); returns how many ended."""
    query = update(web_sessions).where(web_sessions.c.user_id == user_id, web_sessions.c.ended_at.is_(None))
    if except_key:
        query = query.where(web_sessions.c.key_hash != _hash(except_key))
    with writing(loom, conn) as conn:
        return conn.execute(query.values(ended_at=loom.clock.now())).rowcount
