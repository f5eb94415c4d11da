"""What points at what in a Loom database: ids that should name a row, and files records hold.

Loom declares no foreign keys (tables are made and archived by metadata, on two databases), so
these are the references the engine keeps by itself: people and departments, approvals and their
tasks, imports and their items, and the lookups, user fields and owners of records. The audit log
and notifications are history: they may name records purged since, and are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, inspect, select
from sqlalchemy import column as light_column
from sqlalchemy import table as light_table

from engine.schema.registry import Registry
from engine.store.system_tables import files as files_table

EXAMPLES = 5
USERS, DEPARTMENTS = "loom_users", "loom_departments"

# (table, column, the table whose id it names)
SYSTEM_REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("loom_users", "department_id", DEPARTMENTS),
    ("loom_users", "manager_id", USERS),
    ("loom_departments", "parent_id", DEPARTMENTS),
    ("loom_departments", "head_id", USERS),
    ("loom_user_roles", "user_id", USERS),
    ("loom_api_tokens", "user_id", USERS),
    ("loom_web_sessions", "user_id", USERS),
    ("loom_saved_views", "user_id", USERS),
    ("loom_notifications", "user_id", USERS),
    ("loom_record_shares", "user_id", USERS),
    ("loom_record_shares", "department_id", DEPARTMENTS),
    ("loom_flow_instances", "submitter_id", USERS),
    ("loom_flow_tasks", "instance_id", "loom_flow_instances"),
    ("loom_flow_tasks", "assignee_id", USERS),
    ("loom_flow_history", "instance_id", "loom_flow_instances"),
    ("loom_import_items", "import_id", "loom_imports"),
    ("loom_import_problems", "import_id", "loom_imports"),
)

# Tables whose (object, record_id) names a record the engine removes them with when it is purged.
RECORD_REFERENCES: tuple[str, ...] = ("loom_record_shares", "loom_files", "loom_match_keys")


@dataclass(frozen=True)
class Dangling:
    """Values of one reference that name no row."""

    label: str  # "obj_contact.customer → obj_customer"
    count: int
    examples: tuple[Any, ...]

    def __str__(self) -> str:
        shown = ", ".join(str(value) for value in self.examples)
        more = ", …" if self.count > len(self.examples) else ""
        return f"{self.label}: {self.count} value(s) name no row ({shown}{more})"


def dangling_references(conn: Connection, registry: Registry) -> list[Dangling]:
    """Every reference whose value names no row, one entry per reference that has any."""
    live = set(inspect(conn).get_table_names())
    found: list[Dangling] = []
    for source, column, target in _references(registry):
        if source in live and target in live:
            dangling = _dangling(conn, source, column, target)
            if dangling is not None:
                found.append(dangling)
    for source in RECORD_REFERENCES:
        if source not in live:
            continue
        for name, model in registry.objects.items():
            if model.table.name in live:
                dangling = _dangling(conn, source, "record_id", model.table.name, object_name=name)
                if dangling is not None:
                    found.append(dangling)
    return found


def _references(registry: Registry) -> Iterator[tuple[str, str, str]]:
    yield from SYSTEM_REFERENCES
    for model in registry.objects.values():
        table = model.table.name
        for column in ("owner_id", "created_by", "updated_by"):
            yield table, column, USERS
        for field in model.stored:
            if field.type == "user":
                yield table, field.name, USERS
            elif field.type == "lookup" and registry.has_object(field.param("target") or ""):
                yield table, field.name, registry.object(field.param("target")).table.name


def _dangling(
    conn: Connection, source: str, column: str, target: str, *, object_name: str | None = None
) -> Dangling | None:
    src = light_table(source, light_column(column), light_column("object")).alias("src")
    tgt = light_table(target, light_column("id")).alias("tgt")
    condition = and_(src.c[column].is_not(None), ~exists().where(tgt.c.id == src.c[column]))
    label = f"{source}.{column} → {target}"
    if object_name is not None:
        condition = and_(condition, src.c.object == object_name)
        label = f"{source}.{column} (object {object_name}) → {target}"
    count = conn.execute(select(func.count()).select_from(src).where(condition)).scalar_one()
    if not count:
        return None
    values = select(src.c[column]).where(condition).distinct().order_by(src.c[column]).limit(EXAMPLES)
    return Dangling(label, int(count), tuple(conn.execute(values).scalars()))


# -- files --------------------------------------------------------------------------------------------


def referenced_files(conn: Connection, registry: Registry) -> dict[str, str]:
    """Key → where it is named, for every file Loom's file list or a record's attachment field names."""
    live = set(inspect(conn).get_table_names())
    keys: dict[str, str] = {}
    if files_table.name in live:
        query = select(files_table.c.key, files_table.c.object, files_table.c.record_id, files_table.c.field)
        for row in conn.execute(query):
            owner = (
                f"{row.object} {row.record_id}" if row.record_id is not None else f"{row.object} (unsaved)"
            )
            keys[row.key] = f"{owner}, field {row.field}"
    for name, model in registry.objects.items():
        if model.table.name not in live:
            continue
        for field in model.stored:
            if field.type != "attachment":
                continue
            column = model.table.c[field.name]
            query = select(model.table.c.id, column).where(column.is_not(None))
            for record_id, value in conn.execute(query):
                for key in attachment_keys(value):
                    keys.setdefault(key, f"{name} {record_id}, field {field.name}")
    return keys


def attachment_keys(value: Any) -> list[str]:
    """The stored-file keys an attachment value holds ({"name", "key", …} items)."""
    return [
        item["key"] for item in value or () if isinstance(item, Mapping) and isinstance(item.get("key"), str)
    ]
