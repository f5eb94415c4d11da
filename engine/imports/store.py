"""The `loom_imports` row of each import: what it reads, how far it got, and what it counted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.base.errors import LoomError
from engine.imports.options import Counts
from engine.store.system_tables import imports

UNFINISHED = ("running", "failed")


class ImportNotFound(LoomError):
    code = "not_found"

    def __init__(self, import_id: int) -> None:
        super().__init__(f"import {import_id} does not exist")


def create_import(
    conn: Connection,
    *,
    object_name: str,
    path: str,
    digest: str,
    mapping: Mapping[str, str],
    options: Mapping[str, Any],
    actor_id: int | None,
    now: datetime,
) -> int:
    result = conn.execute(
        imports.insert().values(
            object=object_name,
            file_name=path.rsplit("/", 1)[-1],
            file_path=path,
            file_digest=digest,
            mapping=dict(mapping),
            options=dict(options),
            status="running",
            rows_done=0,
            counts=Counts().to_json(),
            created_by=actor_id,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def get_import(conn: Connection, import_id: int) -> dict[str, Any]:
    row = conn.execute(select(imports).where(imports.c.id == import_id)).first()
    if row is None:
        raise ImportNotFound(import_id)
    return dict(row._mapping)


def unfinished_import(
    conn: Connection, object_name: str, digest: str, actor_id: int | None
) -> dict[str, Any] | None:
    """The newest import of the same file into the same object by the same user that did not finish."""
    query = (
        select(imports)
        .where(
            imports.c.object == object_name,
            imports.c.file_digest == digest,
            imports.c.status.in_(UNFINISHED),
            imports.c.created_by.is_(None) if actor_id is None else imports.c.created_by == actor_id,
        )
        .order_by(imports.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def record_progress(conn: Connection, import_id: int, rows_done: int, counts: Counts, now: datetime) -> None:
    conn.execute(
        imports.update()
        .where(imports.c.id == import_id)
        .values(rows_done=rows_done, counts=counts.to_json(), updated_at=now, status="running", error=None)
    )


def finish(conn: Connection, import_id: int, status: str, now: datetime, error: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": now, "error": error}
    if status == "done":
        values["finished_at"] = now
    if status == "reverted":
        values["reverted_at"] = now
    conn.execute(imports.update().where(imports.c.id == import_id).values(**values))


def list_imports(conn: Connection, object_name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest imports first."""
    query = select(imports).order_by(imports.c.id.desc()).limit(limit)
    if object_name is not None:
        query = query.where(imports.c.object == object_name)
    return [dict(row._mapping) for row in conn.execute(query)]
