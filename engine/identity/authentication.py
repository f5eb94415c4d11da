"""Signing in with a username and password, throttled per username and per remote address.

Every failure says the same thing, so the answer does not tell which usernames exist; an
unknown username even costs the same argon2 check as a real one. Every attempt — refused,
failed or successful — is written to loom_login_attempts.

Throttling: while a username has 5 failed attempts within the last 15 minutes (counting
only those since its last successful sign-in), or an address has 20, further attempts are
refused — until the oldest of those leaves the window, which is 15 minutes after the attempt
that reached the limit when nobody keeps trying. Refused attempts are recorded as failures,
so someone who keeps trying stays locked out, while a person who waits 15 minutes gets in.
Throttling by username applies to usernames that do not exist as well, which is what keeps
it from revealing them.
Two attempts racing past the check at the same moment may each be let through; the limit is
a brake on guessing, not an exact count.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.base.actors import Actor
from engine.identity.errors import AuthenticationFailed, LoginThrottled, UserDisabled
from engine.identity.passwords import hash_password, needs_rehash, verify_password
from engine.identity.users import actor_for
from engine.store.system_tables import login_attempts, users

if TYPE_CHECKING:
    from engine.loom import Loom

FAILURE_MESSAGE = "username or password is wrong"
USERNAME_LIMIT = 5
REMOTE_LIMIT = 20
WINDOW = dt.timedelta(minutes=15)

_USERNAME_WIDTH = login_attempts.c.username.type.length or 150
_REMOTE_WIDTH = login_attempts.c.remote.type.length or 64


def authenticate(loom: Loom, username: str, password: str, remote: str | None = None) -> Actor:
    """The Actor of the user whose username and password these are.

    Raises LoginThrottled (code "throttled") while the username or address is locked out —
    even for the right password — and AuthenticationFailed (code "unauthenticated") with one
    message for every other failure.
    """
    name = (username.strip().lower() if isinstance(username, str) else "")[:_USERNAME_WIDTH]
    remote = remote[:_REMOTE_WIDTH] if remote else None
    now = loom.clock.now()
    # Read, then hash with no transaction open: argon2 takes a fifth of a second, and on SQLite
    # a write transaction would hold the database's only write lock for all of it.
    with loom.read() as conn:
        retry_at = _locked_until(conn, name, remote, now)
        user = None if retry_at else conn.execute(select(users).where(users.c.username == name)).first()
    matched = retry_at is None and verify_password(user.password_hash if user else None, password)
    succeeded = matched and user is not None and bool(user.active)
    stronger = (
        hash_password(password, check_rules=False) if succeeded and needs_rehash(user.password_hash) else None
    )
    actor: Actor | None = None
    with loom.begin() as conn:
        if succeeded:
            try:
                actor = actor_for(loom, user.id, conn=conn)
            except UserDisabled:  # disabled since the read above: a failure like any other
                succeeded = False
        conn.execute(insert(login_attempts).values(username=name, remote=remote, at=now, succeeded=succeeded))
        if stronger is not None and succeeded:
            conn.execute(update(users).where(users.c.id == user.id).values(password_hash=stronger))
    if retry_at is not None:
        raise LoginThrottled(retry_at, now, loom.clock.timezone)
    if actor is None:
        raise AuthenticationFailed(FAILURE_MESSAGE)
    return actor


def prune_login_attempts(loom: Loom, keep: dt.timedelta = dt.timedelta(days=90)) -> int:
    """Delete attempts older than `keep` (throttling looks back 15 minutes); returns how many went."""
    with loom.begin() as conn:
        cutoff = loom.clock.now() - keep
        return conn.execute(delete(login_attempts).where(login_attempts.c.at < cutoff)).rowcount


def _locked_until(
    conn: Connection, username: str, remote: str | None, now: dt.datetime
) -> dt.datetime | None:
    """When the lockout of this username or address ends, or None if there is none."""
    window = login_attempts.c.at > now - WINDOW
    failed = ~login_attempts.c.succeeded
    last_success = (
        select(func.coalesce(func.max(login_attempts.c.id), 0))
        .where(login_attempts.c.username == username, login_attempts.c.succeeded, window)
        .scalar_subquery()
    )
    ends = [
        _limit_reached_at(
            conn,
            [login_attempts.c.username == username, failed, window, login_attempts.c.id > last_success],
            USERNAME_LIMIT,
        )
    ]
    if remote is not None:
        ends.append(
            _limit_reached_at(conn, [login_attempts.c.remote == remote, failed, window], REMOTE_LIMIT)
        )
    found = [end + WINDOW for end in ends if end is not None]
    latest = max(found, default=None)
    return latest if latest is not None and latest > now else None


def _limit_reached_at(conn: Connection, conditions: list, limit: int) -> dt.datetime | None:
    """The time of the `limit`-th most recent matching failure, if there are that many."""
    query = (
        select(login_attempts.c.at)
        .where(*conditions)
        .order_by(login_attempts.c.at.desc(), login_attempts.c.id.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return conn.execute(query).scalar()
