"""Shared by tests that make records like the ones a database holds, for every object it has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from engine.base.actors import Actor
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.schema.registry import ObjectModel

# Types a record cannot be given: the engine works them out. Files need an upload of their own.
NOT_GIVEN = {"autonumber", "formula", "rollup", "file", "image"}


def copyable(
    model: ObjectModel,
    record: Mapping[str, Any],
    relinked: Mapping[str, tuple[int, int]] = {},
    *,
    beside: bool = False,
) -> dict[str, Any]:
    """A record's own values, as a form would send them again; a link to a record named in
    `relinked` (object → (old id, new id)) names the new one. `beside`: the record stays, so a
    value that must be unique is left out, or marked as a copy where it is required."""
    unique = {name for key in model.spec.unique_keys for name in key}
    values = {}
    for field in model.spec.fields:
        value = record.get(field.name)
        if field.type in NOT_GIVEN or field.readonly or value is None:
            continue
        if beside and (field.unique or field.name in unique):
            if field.required:
                values[field.name] = f"{value}-2"
            continue
        old, new = relinked.get(field.param("target") or "", (None, None))
        values[field.name] = new if field.type == "lookup" and value == old else value
    return values


def newest_ids(loom: Loom) -> dict[str, int]:
    """The newest record's id of every object that has records."""
    registry = loom.registry
    with loom.begin() as conn:
        found = {
            name: conn.execute(select(func.max(model.table.c.id))).scalar()
            for name, model in registry.objects.items()
        }
    return {name: newest for name, newest in found.items() if newest}


def newest_readable(loom: Loom, actor: Actor) -> dict[str, dict[str, Any]]:
    """The newest record the actor may read of every object that has one."""
    newest = {}
    for name in loom.registry.objects:
        try:
            page = loom.queries(actor).find(name, sort="-id", limit=1)
        except PermissionDenied:
            continue
        if page.records:
            newest[name] = page.records[0]
    return newest
