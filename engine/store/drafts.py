"""Drafts of metadata documents: saved without validation or publishing, one per kind and name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata
from engine.store.system_tables import metadata_drafts
from metadata.problems import Problem

KIND_LENGTH = metadata_drafts.c.kind.type.length
NAME_LENGTH = metadata_drafts.c.name.type.length


@dataclass(frozen=True)
class Draft:
    kind: str
    name: str
    body: dict[str, Any]
    saved_by: int | None
    saved_at: datetime


def save_draft(
    conn: Connection, kind: str, name: str, body: dict[str, Any], *, actor: Actor, at: datetime
) -> None:
    """Create or replace the draft of `kind`/`name`; the body is kept as given, valid or not."""
    _check_key(kind, name)
    if not isinstance(body, dict):
        raise InvalidMetadata([Problem(f"draft {kind}/{name}", "", "a draft is a JSON object")])
    try:
        # Stored as JSON on both databases: a body that cannot round-trip is refused here, not half-saved.
        body = json.loads(json.dumps(body, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidMetadata([Problem(f"draft {kind}/{name}", "", f"not JSON: {error}")]) from error
    values = {"body": body, "saved_by": actor.user_id, "saved_at": at}
    where = (metadata_drafts.c.kind == kind, metadata_drafts.c.name == name)
    if conn.execute(update(metadata_drafts).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(metadata_drafts).values(kind=kind, name=name, **values))


def get_draft(conn: Connection, kind: str, name: str) -> Draft | None:
    row = conn.execute(
        select(metadata_drafts).where(metadata_drafts.c.kind == kind, metadata_drafts.c.name == name)
    ).first()
    return _draft(row) if row is not None else None


def delete_draft(conn: Connection, kind: str, name: str) -> None:
    """Forget the draft (publishing it does this); nothing happens when there is none."""
    conn.execute(
        delete(metadata_drafts).where(metadata_drafts.c.kind == kind, metadata_drafts.c.name == name)
    )


def list_drafts(conn: Connection, kind: str | None = None) -> list[Draft]:
    """Drafts by kind and name, of one kind when given."""
    query = select(metadata_drafts).order_by(metadata_drafts.c.kind, metadata_drafts.c.name)
    if kind is not None:
        query = query.where(metadata_drafts.c.kind == kind)
    return [_draft(row) for row in conn.execute(query)]


def _draft(row: Any) -> Draft:
    return Draft(row.kind, row.name, dict(row.body), row.saved_by, row.saved_at)


def _check_key(kind: str, name: str) -> None:
    # PostgreSQL refuses a value longer than its column where SQLite would store it: refuse on both.
    problems = []
    if not isinstance(kind, str) or not kind or len(kind) > KIND_LENGTH:
        problems.append(Problem("draft", "/kind", f"a draft's kind is 1 to {KIND_LENGTH} characters"))
    if not isinstance(name, str) or not name or len(name) > NAME_LENGTH:
        problems.append(Problem("draft", "/name", f"a draft's name is 1 to {NAME_LENGTH} characters"))
    if problems:
        raise InvalidMetadata(problems)
