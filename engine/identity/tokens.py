"""API tokens for integrations: shown once, stored only as a SHA-256 hash, revocable at once.

A token is "loom_" followed by 43 random URL-safe characters (256 bits). The database keeps
its SHA-256 and the first 8 random characters, so people can tell their tokens apart; a copy
of the database does not hand out working tokens.

The token is found by looking its hash up in a unique index rather than by comparing secrets,
so no constant-time comparison is needed: any timing difference in the lookup depends on
the hash, and learning bits of the SHA-256 of a 256-bit random value does not help anyone
guess the value. A plain hash (not argon2) is enough for the same reason — the secret is
random, not chosen by a person, so there is nothing to brute-force from a dictionary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from engine.base.actors import Actor
from engine.identity.errors import AuthenticationFailed, IdentityInvalid, TokenNotFound, UserDisabled
from engine.identity.transactions import reading, writing
from engine.identity.users import ACTOR_COLUMNS, actor_from_rows, user_row, with_actor_details
from engine.store.audit import audit_row, write_audit
from engine.store.documents import METADATA_VERSION_COLUMN, version_value
from engine.store.system_tables import api_tokens, users

if TYPE_CHECKING:
    from engine.loom import Loom

TOKEN_PREFIX = "loom_"
TOKEN_FAILURE_MESSAGE = "the API token is not valid"
AUDIT_OBJECT = "loom_api_tokens"
# last_used_at is a hint for people reviewing tokens; writing it on every request would make
# each API call a write, so it is refreshed at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
_SHOWN_CHARACTERS = 8
_MAX_TOKEN_LENGTH = 200

_PUBLIC_COLUMNS = [column for column in api_tokens.c if column.name != "token_hash"]


def create_token(
    loom: Loom, user_id: int, name: str, *, actor: Actor, conn: Connection | None = None
) -> tuple[str, dict[str, Any]]:
    """A new token for an active user: (the token, shown this once and never again; its row)."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 150:
        raise IdentityInvalid("a token needs a name of 1 to 150 characters saying what uses it")
    secret = secrets.token_urlsafe(32)
    token = TOKEN_PREFIX + secret
    with writing(loom, conn) as conn:
        owner = user_row(conn, user_id)
        if not owner.active:
            raise UserDisabled(owner.username, "be given API tokens")
        token_id = conn.execute(
            insert(api_tokens)
            .values(
                user_id=user_id,
                name=name.strip(),
                token_hash=_digest(token),
                prefix=secret[:_SHOWN_CHARACTERS],
                created_at=loom.clock.now(),
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        row = _token_row(conn, token_id)
        changes = {"user_id": [None, user_id], "name": [None, row["name"]], "prefix": [None, row["prefix"]]}
        _audit(conn, loom, actor, token_id, "create", changes)
        return token, row


# One statement finds the token, its user, their department and roles (a row per role). Built
# once: every API request runs it, and SQLAlchemy keys its compiled form by walking the statement.
_TOKEN_ACTOR = (
    select(
        api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at, *ACTOR_COLUMNS, METADATA_VERSION_COLUMN
    )
    .select_from(with_actor_details(api_tokens.join(users, users.c.id == api_tokens.c.user_id)))
    .where(
        api_tokens.c.token_hash == bindparam("token_hash"), api_tokens.c.revoked_at.is_(None), users.c.active
    )
)


def verify_token(loom: Loom, token: str) -> Actor:
    """The Actor of the token's user; AuthenticationFailed (one message) for any bad token.

    A revoked token, or a token of a disabled user, is refused from the moment it changed.
    """
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
        raise AuthenticationFailed(TOKEN_FAILURE_MESSAGE)
    now = loom.clock.now()
    with loom.read() as conn:
        rows = conn.execute(_TOKEN_ACTOR, {"token_hash": _digest(token)}).all()
        if rows:
            loom.saw_version(conn, version_value(rows[0].metadata_version))
    if not rows:
        raise AuthenticationFailed(TOKEN_FAILURE_MESSAGE)
    actor = actor_from_rows(rows)
    found = rows[0]
    stale = now - LAST_USED_RESOLUTION
    if found.last_used_at is None or found.last_used_at <= stale:
        with loom.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.id == found.token_id,
                    or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at <= stale),
                )
                .values(last_used_at=now)
            )
    return actor


def revoke_token(
    loom: Loom, token_id: int, *, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    """Revoke a token; it is refused from now on. Revoking it again changes nothing."""
    with writing(loom, conn) as conn:
        row = _token_row(conn, token_id)
        if row["revoked_at"] is None:
            now = loom.clock.now()
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
            _audit(conn, loom, actor, token_id, "revoke", {"revoked_at": [None, now.isoformat()]})
            row = _token_row(conn, token_id)
        return row


def list_tokens(
    loom: Loom,
    user_id: int | None = None,
    *,
    include_revoked: bool = True,
    conn: Connection | None = None,
) -> list[dict[str, Any]]:
    """Tokens (of one user, or everyone's) without their hashes, oldest first."""
    query = select(*_PUBLIC_COLUMNS).order_by(api_tokens.c.id)
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    if not include_revoked:
        query = query.where(api_tokens.c.revoked_at.is_(None))
    with reading(loom, conn) as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_row(conn: Connection, token_id: int) -> dict[str, Any]:
    row = conn.execute(select(*_PUBLIC_COLUMNS).where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise TokenNotFound(token_id)
    return dict(row._mapping)


def _audit(conn: Connection, loom: Loom, actor: Actor, token_id: int, action: str, changes: dict) -> None:
    write_audit(conn, [audit_row(actor, loom.clock.now(), AUDIT_OBJECT, token_id, action, changes)])
