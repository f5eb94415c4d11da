"""A record's timeline: its activities, field changes, approval steps and notifications, newest first.

Activities are records of an *activity object* that look this record up. An object is an
activity object when its list view is sorted newest first by a datetime field (in the CRM,
`followup` with `"list": {"sort": ["-followup_at"]}`): its records are events in time, and
that field says when each happened. Every lookup of such an object that targets the record's
object links an activity to the record (a follow-up shows on its customer, contact,
opportunity and lead).

Everything is read as the actor: activities only within their read scope, and fields hidden
from them left out of activities, changes and approval snapshots. Notifications are personal:
the actor sees their own about the record, administrators everyone's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.base.actors import Actor
from engine.identity.permissions import ObjectAccess, access_for
from engine.schema.registry import ObjectModel, Registry
from engine.store.system_tables import notifications, users

if TYPE_CHECKING:
    from engine.loom import Loom

KINDS = ("activity", "change", "approval", "notification")
SOURCE_LIMIT = 200  # entries read from each source; a timeline shows the recent past, not everything
_AUDIT_TITLES = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a record: `kind` is activity, change, approval or notification."""

    kind: str
    at: datetime
    actor: str | None
    title: str
    details: Mapping[str, Any] = field(default_factory=dict)


def activity_time_field(model: ObjectModel) -> str | None:
    """The datetime field saying when an activity happened, or None if the object is no activity."""
    sort = (model.spec.extra.get("list") or {}).get("sort") or ()
    if not sort or not str(sort[0]).startswith("-"):
        return None
    name = str(sort[0])[1:]
    spec = model.fields.get(name)
    return name if spec is not None and spec.type == "datetime" else None


def activity_links(registry: Registry, object_name: str) -> list[tuple[ObjectModel, str, list[str]]]:
    """(activity object, its time field, its lookups to `object_name`) for every activity object."""
    links = []
    for model in registry.objects.values():
        when = activity_time_field(model)
        lookups = [
            spec.name
            for spec in model.spec.fields
            if spec.type == "lookup" and spec.param("target") == object_name
        ]
        if when is not None and lookups:
            links.append((model, when, lookups))
    return links


def timeline(
    loom: Loom,
    object_name: str,
    record_id: int,
    actor: Actor,
    *,
    read: tuple[ObjectAccess, dict[str, Any]] | None = None,
) -> list[TimelineEntry]:
    """Everything that happened to a record the actor may read, newest first.

    RecordNotFound / PermissionDenied when the actor may not read the record, as for `get`.
    `read`: what `RecordService.read` just gave the caller for this record, not read again.
    """
    access, record = read or loom.records(actor).read(object_name, record_id)
    registry = loom.registry
    entries = [
        *_activities(loom, registry, object_name, record_id, actor),
        *_changes(loom, object_name, record_id, actor),
        *_approvals(loom, object_name, record_id, access),
        *_notifications(loom, object_name, record_id, actor, access),
    ]
    if not entries and record.get("created_at") is not None:
        entries.append(TimelineEntry("change", record["created_at"], None, "created", {"action": "create"}))
    order = {kind: rank for rank, kind in enumerate(KINDS)}
    return sorted(entries, key=lambda entry: (entry.at, -order[entry.kind]), reverse=True)


def _activities(
    loom: Loom, registry: Registry, object_name: str, record_id: int, actor: Actor
) -> list[TimelineEntry]:
    found = []
    for model, when, lookups in activity_links(registry, object_name):
        access = access_for(registry, actor, model.name)
        visible = [name for name in lookups if access.visible(name)]
        if not access.allows("read") or not visible or not access.visible(when):
            continue
        condition = " or ".join(f"{name} == {int(record_id)}" for name in visible)
        page = loom.queries(actor).find(model.name, filter=condition, sort=[f"-{when}"], limit=SOURCE_LIMIT)
        names = _user_names(loom, (row.get("created_by") for row in page.records))
        title_field = model.spec.title_field
        for row in page.records:
            title = row.get(title_field) if title_field else None
            found.append(
                TimelineEntry(
                    "activity",
                    row.get(when) or row["created_at"],
                    names.get(row.get("created_by")),
                    str(title) if title not in (None, "") else f"{model.name} {row['id']}",
                    {"object": model.name, "id": row["id"], "record": row},
                )
            )
    return found


def _changes(loom: Loom, object_name: str, record_id: int, actor: Actor) -> list[TimelineEntry]:
    # RecordService.history already leaves out the changes of fields hidden from the actor.
    rows = loom.records(actor).history(object_name, record_id)[-SOURCE_LIMIT:]
    return [
        TimelineEntry(
            "change",
            row["at"],
            row["actor_name"],
            _AUDIT_TITLES.get(row["action"], row["action"]),
            {"action": row["action"], "changes": row["changes"]},
        )
        for row in rows
    ]


def _approvals(loom: Loom, object_name: str, record_id: int, access: ObjectAccess) -> list[TimelineEntry]:
    found = []
    for instance in loom.flows.instances_of(object_name, record_id)[-SOURCE_LIMIT:]:
        for step in loom.flows.history(instance.id):
            snapshot = step.get("snapshot")
            details = {
                "flow": instance.flow,
                "instance_id": instance.id,
                "status": instance.status,
                "action": step["action"],
                "node": step.get("node"),
                "comment": step.get("comment"),
                "detail": step.get("detail"),
                "snapshot": _visible(snapshot, access) if snapshot is not None else None,
            }
            found.append(
                TimelineEntry("approval", step["at"], step.get("actor_name"), step["action"], details)
            )
    return found


def _notifications(
    loom: Loom, object_name: str, record_id: int, actor: Actor, access: ObjectAccess
) -> list[TimelineEntry]:
    query = (
        select(notifications)
        .where(notifications.c.object == object_name, notifications.c.record_id == record_id)
        .order_by(notifications.c.id.desc())
        .limit(SOURCE_LIMIT)
    )
    if not access.unrestricted:
        query = query.where(notifications.c.user_id == actor.user_id)
    with loom.read() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    names = _user_names(loom, (row["user_id"] for row in rows))
    return [
        TimelineEntry(
            "notification",
            row["created_at"],
            row["source"],
            row["title"],
            {
                "id": row["id"],
                "to": names.get(row["user_id"]),
                "body": row["body"],
                "read": row["read_at"] is not None,
            },
        )
        for row in rows
    ]


def _visible(values: Mapping[str, Any], access: ObjectAccess) -> dict[str, Any]:
    return {name: value for name, value in values.items() if access.visible(name)}


def _user_names(loom: Loom, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    with loom.read() as conn:
        rows = conn.execute(select(users.c.id, users.c.display_name).where(users.c.id.in_(wanted)))
        return {row.id: row.display_name for row in rows}
