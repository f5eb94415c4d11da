"""Metadata documents in the database, every change kept as a revision (who, when, diff)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from engine.base.actors import Actor
from engine.store.system_tables import metadata_documents, metadata_revisions, state
from metadata.diff import diff_documents

VERSION_KEY = "metadata_version"


@dataclass(frozen=True)
class StoredDocument:
    kind: str
    name: str
    body: dict[str, Any]
    package: str | None
    revision: int


# Built once: every request reads it, and SQLAlchemy keys its compiled form by walking the statement.
_VERSION = select(state.c.value).where(state.c.key == VERSION_KEY)
# The same, as a column of another statement: a request that must read something first (its API
# token) reads the version with it, a round trip fewer.
METADATA_VERSION_COLUMN = _VERSION.scalar_subquery().label("metadata_version")


def metadata_version(conn: Connection) -> int:
    """The store's version; it moves on every metadata change, in any process."""
    return version_value(conn.execute(_VERSION).scalar())


def version_value(stored: Any) -> int:
    """The version as stored (text, or None before the first change) as a number."""
    return int(stored) if stored is not None else 0


def _bump_version(conn: Connection) -> int:
    current = metadata_version(conn)
    if current == 0 and conn.execute(select(state.c.key).where(state.c.key == VERSION_KEY)).first() is None:
        conn.execute(insert(state).values(key=VERSION_KEY, value="1"))
        return 1
    conn.execute(update(state).where(state.c.key == VERSION_KEY).values(value=str(current + 1)))
    return current + 1


def load_documents(conn: Connection, kind: str | None = None) -> list[StoredDocument]:
    query = select(metadata_documents).order_by(metadata_documents.c.kind, metadata_documents.c.name)
    if kind is not None:
        query = query.where(metadata_documents.c.kind == kind)
    return [
        StoredDocument(row.kind, row.name, row.body, row.package, row.revision) for row in conn.execute(query)
    ]


def get_document(conn: Connection, kind: str, name: str) -> StoredDocument | None:
    row = conn.execute(
        select(metadata_documents).where(metadata_documents.c.kind == kind, metadata_documents.c.name == name)
    ).first()
    return StoredDocument(row.kind, row.name, row.body, row.package, row.revision) if row else None


def save_document(
    conn: Connection,
    kind: str,
    body: Mapping[str, Any],
    *,
    actor: Actor,
    at: datetime,
    package: str | None = None,
    note: str | None = None,
) -> int | None:
    """Create or replace a document; returns the new revision id, or None when nothing changed."""
    name = body["name"]
    before = get_document(conn, kind, name)
    after = dict(body)
    changes = diff_documents(before.body if before else None, after)
    if before is not None and not changes:
        return None
    if before is None:
        conn.execute(
            insert(metadata_documents).values(
                kind=kind, name=name, body=after, package=package, revision=1, updated_at=at
            )
        )
    else:
        conn.execute(
            update(metadata_documents)
            .where(metadata_documents.c.kind == kind, metadata_documents.c.name == name)
            .values(
                body=after, package=package or before.package, revision=before.revision + 1, updated_at=at
            )
        )
    _bump_version(conn)
    return _write_revision(
        conn,
        kind,
        name,
        "create" if before is None else "update",
        before.body if before else None,
        after,
        changes,
        actor,
        at,
        note,
    )


def delete_document(conn: Connection, kind: str, name: str, *, actor: Actor, at: datetime) -> int | None:
    before = get_document(conn, kind, name)
    if before is None:
        return None
    conn.execute(
        delete(metadata_documents).where(metadata_documents.c.kind == kind, metadata_documents.c.name == name)
    )
    _bump_version(conn)
    return _write_revision(
        conn, kind, name, "delete", before.body, None, diff_documents(before.body, None), actor, at, None
    )


def _write_revision(conn, kind, name, action, before, after, changes, actor, at, note) -> int:  # type: ignore[no-untyped-def]
    diff = [{"op": c.op, "path": c.path, "old": c.old, "new": c.new} for c in changes]
    result = conn.execute(
        insert(metadata_revisions).values(
            at=at,
            actor_id=actor.user_id,
            actor_name=actor.name,
            kind=kind,
            name=name,
            action=action,
            before=before,
            after=after,
            diff=diff,
            note=note,
        )
    )
    return int(result.inserted_primary_key[0])


def revisions(conn: Connection, kind: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """Revisions newest first, optionally of one document."""
    query = select(metadata_revisions).order_by(metadata_revisions.c.id.desc())
    if kind is not None:
        query = query.where(metadata_revisions.c.kind == kind)
    if name is not None:
        query = query.where(metadata_revisions.c.name == name)
    return [dict(row._mapping) for row in conn.execute(query)]
