"""Changing object metadata: validate, plan the documents and DDL, then apply both in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.actors import SYSTEM, Actor
from engine.errors import InvalidMetadata
from engine.metadata_store import get_document, save_document
from engine.schema_sync import SyncPlan, apply_sync, plan_sync
from engine.validation import check_objects
from metadata.diff import diff_documents
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass
class ChangePlan:
    """What a change would do: metadata documents touched and the DDL steps, destructive ones marked."""

    documents: list[str] = field(default_factory=list)
    sync: SyncPlan = field(default_factory=SyncPlan)

    def lines(self) -> list[str]:
        return self.documents + self.sync.lines()

    @property
    def empty(self) -> bool:
        return not self.documents and not self.sync


def apply_objects(
    loom: Loom,
    specs: Sequence[ObjectSpec],
    *,
    actor: Actor = SYSTEM,
    package: str | None = None,
    files: Mapping[str, str] | None = None,
    dry_run: bool = False,
    note: str | None = None,
    extra_documents: Sequence[tuple[str, dict]] = (),
) -> ChangePlan:
    """Create or replace objects. Invalid metadata or a refused schema change applies nothing."""
    files = files or {}
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        old = registry.specs()
        new = {**old, **{spec.name: spec for spec in specs}}
        problems = check_objects(new, loom.field_types, loom.functions, files, only={s.name for s in specs})
        if problems:
            raise InvalidMetadata(problems)
        plan = ChangePlan(sync=plan_sync(conn, old, new, loom.field_types))
        for spec in specs:
            before = get_document(conn, "object", spec.name)
            changes = diff_documents(before.body if before else None, spec.to_json())
            if before is None:
                plan.documents.append(f"+ object {spec.name} ({len(spec.fields)} fields)")
            elif changes:
                plan.documents.append(f"~ object {spec.name} ({len(changes)} change(s))")
        if dry_run:
            conn.rollback()
            return plan
        now = loom.clock.now()
        for spec in specs:
            save_document(conn, "object", spec.to_json(), actor=actor, at=now, package=package, note=note)
        for kind, body in extra_documents:
            save_document(conn, kind, body, actor=actor, at=now, package=package, note=note)
        apply_sync(conn, plan.sync, new, loom.field_types, now)
    loom.forget_registry()
    return plan


def sync_all(loom: Loom, *, dry_run: bool = False) -> SyncPlan:
    """Bring every table in line with the stored metadata (`loom migrate`)."""
    with loom.begin() as conn:
        specs = loom.registry_for(conn).specs()
        plan = plan_sync(conn, specs, specs, loom.field_types)
        if dry_run:
            conn.rollback()
            return plan
        apply_sync(conn, plan, specs, loom.field_types, loom.clock.now())
    return plan
