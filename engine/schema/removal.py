"""Removing objects: refuse while other metadata still refers to them, and never drop a table with rows.

A removed object's table is renamed to an archive name (`zz_arch_t<N>_<object>`, listed in
`loom_archived_tables`) when it holds any row, deleted ones included; an empty table is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, func, insert, inspect, select, text, update
from sqlalchemy import table as light_table

from engine.base.messages import Message
from engine.schema.registry import Registry
from engine.schema.sync import Step
from engine.schema.tables import ARCHIVE_PREFIX
from engine.store.system_tables import archived_tables
from metadata.problems import Problem, pointer
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec


def removal_problems(
    before: Registry,
    objects: Mapping[str, ObjectSpec],
    rules: Mapping[str, RuleSpec],
    removed: Sequence[tuple[str, str]],
) -> list[Problem]:
    """Metadata that stays but refers to an object being removed: lookups, rollups, rules, flows, roles."""
    gone = {name for kind, name in removed if kind == "object"}
    leaving = set(removed)
    problems: list[Problem] = []
    for obj in objects.values():
        for index, field in enumerate(obj.fields):
            target = field.param("target") if field.type == "lookup" else None
            source = (field.param("source") or {}).get("object") if field.type == "rollup" else None
            for where, name in (("target", target), ("source", source)):
                if name in gone:
                    message = f"{obj.name}.{field.name} refers to {name!r}, which this change removes"
                    problems.append(
                        Problem(f"objects/{obj.name}.json", pointer("fields", index, where), message)
                    )
    for rule in rules.values():
        if rule.object in gone:
            message = f"rule {rule.name!r} belongs to {rule.object!r}, which this change removes"
            problems.append(Problem(f"rules/{rule.name}.json", "/object", message))
    for flow in before.flows.values():
        if flow.object in gone and ("flow", flow.name) not in leaving:
            message = f"flow {flow.name!r} belongs to {flow.object!r}, which this change removes"
            problems.append(Problem(f"flows/{flow.name}.json", "/object", message))
    for role in before.roles.values():
        if ("role", role.name) in leaving:
            continue
        for name in sorted(set(role.objects) & gone):
            message = f"role {role.name!r} grants access to {name!r}, which this change removes"
            problems.append(Problem(f"roles/{role.name}.json", pointer("objects", name), message))
    return problems


def plan_table_removals(conn: Connection, specs: Sequence[ObjectSpec]) -> list[Step]:
    """For each removed object: archive its table if it holds rows, drop it if empty."""
    steps = []
    for spec in specs:
        rows = table_rows(conn, spec.table_name)
        if rows is None:
            continue
        if rows:
            detail = Message("step_table_archived", rows=rows)
            steps.append(Step("archive_table", spec.table_name, detail, destructive=True, object=spec.name))
        else:
            steps.append(Step("drop_table", spec.table_name, Message("step_table_empty"), True, spec.name))
    return steps


def table_rows(conn: Connection, table: str) -> int | None:
    """How many rows a record table holds, deleted ones included; None when there is no such table."""
    if not inspect(conn).has_table(table):
        return None
    return conn.execute(select(func.count()).select_from(light_table(table))).scalar_one()


def apply_table_removals(
    conn: Connection, steps: Sequence[Step], specs: Mapping[str, ObjectSpec], now: datetime
) -> None:
    """Run the removal steps; `specs` are the removed objects' last definitions, kept with the archive."""
    ops = Operations(MigrationContext.configure(conn))
    for step in steps:
        if step.action == "drop_table":
            ops.drop_table(step.table)
        elif step.action == "archive_table":
            _archive_table(conn, ops, step, specs[step.object].to_json(), now)


def _archive_table(conn: Connection, ops: Operations, step: Step, spec: dict, now: datetime) -> str:
    rows = conn.execute(select(func.count()).select_from(light_table(step.table))).scalar_one()
    inserted = conn.execute(
        insert(archived_tables).values(
            object=step.object, table_name=step.table, spec=spec, rows=rows, archived_at=now
        )
    )
    archive_id = int(inserted.inserted_primary_key[0])
    archive = f"{ARCHIVE_PREFIX}t{archive_id}_{step.object}"[:63]
    inspector = inspect(conn)
    # Index, key and sequence names are global to the schema: free them for a table of the same name.
    for index in inspector.get_indexes(step.table):
        ops.drop_index(index["name"], table_name=step.table)
    primary_key = inspector.get_pk_constraint(step.table).get("name")
    ops.rename_table(step.table, archive)
    if conn.dialect.name == "postgresql":
        if primary_key:
            conn.execute(text(f'ALTER TABLE "{archive}" RENAME CONSTRAINT "{primary_key}" TO "pk_{archive}"'))
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": archive}).scalar()
        if sequence:
            conn.execute(text(f'ALTER SEQUENCE {sequence} RENAME TO "{archive}_id_seq"'))
    conn.execute(update(archived_tables).where(archived_tables.c.id == archive_id).values(table_name=archive))
    return archive
