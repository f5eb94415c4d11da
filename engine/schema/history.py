"""Metadata history: the revisions of every document, and reverting a document to one of them.

A revert is an ordinary change: the revision's document is validated, planned and applied through
`apply_objects`, so a field that comes back gets its archived column, and its values, back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata, LoomError
from engine.identity.permissions import PermissionDenied, is_administrator
from engine.schema.changes import ChangePlan, apply_objects
from engine.store.system_tables import metadata_revisions
from metadata import validation

if TYPE_CHECKING:
    from engine.loom import Loom

# kind → (validator, the apply_objects keyword taking it; None for the positional object specs)
_REVERTIBLE: dict[str, tuple[Callable[..., Any], str | None]] = {
    "object": (validation.validate_object, None),
    "rule": (validation.validate_rule, "rules"),
    "role": (validation.validate_role, "roles"),
    "flow": (validation.validate_flow, "flows"),
    "form": (validation.validate_form, "forms"),
    "report": (validation.validate_report, "reports"),
    "dashboard": (validation.validate_dashboard, "dashboards"),
}
FOLDERS = {"object": "objects", "rule": "rules", "role": "roles", "flow": "flows", "form": "forms"}
FOLDERS["report"] = "reports"
FOLDERS["dashboard"] = "dashboards"


class RevisionNotFound(LoomError):
    code = "not_found"


class NotRevertible(LoomError):
    """The revision holds no document that can be applied again (a removal, or a kind kept elsewhere)."""

    code = "not_supported"


@dataclass(frozen=True)
class RevisionSummary:
    id: int
    at: datetime
    actor_name: str
    kind: str
    name: str
    action: str
    changes: int
    note: str | None


def revision_kinds(loom: Loom) -> list[str]:
    """The kinds of document that have revisions."""
    with loom.read() as conn:
        query = select(metadata_revisions.c.kind).distinct().order_by(metadata_revisions.c.kind)
        return [row.kind for row in conn.execute(query)]


def list_revisions(
    loom: Loom,
    *,
    kind: str | None = None,
    name: str | None = None,
    limit: int = 200,
    before: int | None = None,
) -> list[RevisionSummary]:
    """Revisions newest first, without their bodies; `name` matches part of the document's name."""
    table = metadata_revisions
    query = select(
        table.c.id,
        table.c.at,
        table.c.actor_name,
        table.c.kind,
        table.c.name,
        table.c.action,
        table.c.diff,
        table.c.note,
    ).order_by(table.c.id.desc())
    if kind:
        query = query.where(table.c.kind == kind)
    if name:
        escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(table.c.name).like(f"%{escaped}%", escape="\\"))
    if before is not None:
        query = query.where(table.c.id < before)
    with loom.read() as conn:
        rows = conn.execute(query.limit(limit)).all()
    return [
        RevisionSummary(r.id, r.at, r.actor_name, r.kind, r.name, r.action, len(r.diff or []), r.note)
        for r in rows
    ]


def get_revision(loom: Loom, revision_id: int) -> dict[str, Any]:
    """One revision with its document before and after, and its diff."""
    with loom.read() as conn:
        row = conn.execute(select(metadata_revisions).where(metadata_revisions.c.id == revision_id)).first()
    if row is None:
        raise RevisionNotFound(f"there is no revision {revision_id}")
    return dict(row._mapping)


def is_revertible(revision: dict[str, Any]) -> bool:
    return revision["kind"] in _REVERTIBLE and revision["after"] is not None


def revert_to(loom: Loom, revision_id: int, *, actor: Actor, dry_run: bool = False) -> ChangePlan:
    """Make the document what it was right after `revision_id`: validated, planned and applied like any
    change (administrators only); with `dry_run`, only the plan."""
    if not is_administrator(loom.registry, actor):
        raise PermissionDenied("only administrators may revert metadata")
    revision = get_revision(loom, revision_id)
    if not is_revertible(revision):
        raise NotRevertible(
            f"revision {revision_id} of {revision['kind']} {revision['name']} cannot be reapplied"
        )
    kind, name, body = revision["kind"], revision["name"], dict(revision["after"])
    validate, keyword = _REVERTIBLE[kind]
    file = f"{FOLDERS[kind]}/{name}.json"
    result = validate(body, file, known_objects=loom.registry.specs())
    if result.problems:
        raise InvalidMetadata(list(result.problems))
    [spec] = getattr(result, FOLDERS[kind])
    specs = [spec] if keyword is None else []
    extra: dict[str, Any] = {} if keyword is None else {keyword: [spec]}
    files = {name if kind == "object" else f"{kind}:{name}": file}
    return apply_objects(
        loom,
        specs,
        actor=actor,
        files=files,
        dry_run=dry_run,
        note=f"revert to revision {revision_id}",
        **extra,
    )
