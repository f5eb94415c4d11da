"""Schema sync: bring record tables in line with the registry without ever losing data.

A sync is planned first (a list of steps, destructive ones marked) and applied in the same
transaction as the metadata change. Additive steps (table, column, index) never rewrite a
table. A removed field's column is renamed to an archive name and restored when the field
comes back. A type change is a conversion: every value is converted first in a dry run and
the change is refused, naming the records, while any value would not convert.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, MetaData, bindparam, func, insert, inspect, select, update
from sqlalchemy import column as light_column
from sqlalchemy import table as light_table

from engine.base.errors import FieldValueError, SchemaChangeRefused
from engine.base.messages import CATALOGUE, Message
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.schema.ids import continue_ids, last_used_id
from engine.schema.tables import ARCHIVE_PREFIX, SYSTEM_COLUMNS, build_table, expected_indexes, field_column
from engine.store.system_tables import NAMING_CONVENTION, archived_columns
from metadata.specs import FieldSpec, ObjectSpec

CONVERT_BATCH = 2000
MAX_REPORTED_IDS = 20


@dataclass(frozen=True)
class Step:
    """One DDL action of a plan."""

    action: str  # create_table, add_column, restore_column, archive_column, convert_column, alter_column,
    # create_index, drop_index
    table: str
    detail: str
    destructive: bool = False
    object: str = ""
    field: FieldSpec | None = None
    old_field: FieldSpec | None = None
    column: str = ""
    archive_id: int | None = None
    index: tuple[tuple[str, ...], bool] | None = None

    def __str__(self) -> str:
        mark = "!" if self.destructive else "+" if self.action.startswith(("create", "add")) else "~"
        action = Message(f"step_{self.action}") if f"step_{self.action}" in CATALOGUE else self.action
        code = "plan_step" if self.detail else "plan_step_bare"
        return Message(code, mark=mark, action=action, table=self.table, detail=self.detail)


@dataclass
class SyncPlan:
    steps: list[Step] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.steps)

    def lines(self) -> list[str]:
        return [str(step) for step in self.steps]


def plan_sync(
    conn: Connection,
    old: Mapping[str, ObjectSpec],
    new: Mapping[str, ObjectSpec],
    field_types: FieldTypeRegistry,
    *,
    only: Collection[str] | None = None,
) -> SyncPlan:
    """Compare the live tables (and the previously applied specs) with the new specs.

    `only` names the objects to compare (those a change touches): reading every table's columns
    and indexes is most of the cost of adding one field to a large package.
    """
    inspector = inspect(conn)
    existing_tables = set(inspector.get_table_names())
    plan = SyncPlan()
    for name, spec in sorted(new.items()):
        if only is not None and name not in only:
            continue
        if spec.table_name not in existing_tables:
            count = len([f for f in spec.fields if field_types.get(f.type).stored])
            columns = Message("step_table_columns", count=count)
            plan.steps.append(Step("create_table", spec.table_name, columns, object=name))
            continue
        _plan_columns(conn, inspector, plan, old.get(name), spec, field_types)
        _plan_indexes(inspector, plan, spec, field_types)
    return plan


def _plan_columns(conn, inspector, plan, old_spec, spec, field_types) -> None:  # type: ignore[no-untyped-def]
    table = spec.table_name
    live = {column["name"] for column in inspector.get_columns(table)}
    wanted = {f.name: f for f in spec.fields if field_types.get(f.type).stored}
    previous = {f.name: f for f in old_spec.fields} if old_spec else {}
    for name, fspec in wanted.items():
        before = previous.get(name)
        if name not in live:
            archive = _restorable_archive(conn, spec.name, fspec, live)
            if archive is not None:
                plan.steps.append(
                    Step(
                        "restore_column",
                        table,
                        Message("step_column_restored", name=name, column=archive[1]),
                        object=spec.name,
                        field=fspec,
                        column=archive[1],
                        archive_id=archive[0],
                    )
                )
            else:
                plan.steps.append(
                    Step(
                        "add_column",
                        table,
                        Message("step_column_added", name=name, type=fspec.type),
                        object=spec.name,
                        field=fspec,
                    )
                )
        elif before is not None and before.type != fspec.type:
            _dry_run_conversion(conn, spec, before, fspec, field_types)
            plan.steps.append(
                Step(
                    "convert_column",
                    table,
                    Message("step_column_converted", name=name, old=before.type, new=fspec.type),
                    object=spec.name,
                    field=fspec,
                    old_field=before,
                )
            )
        elif before is not None and _column_sql(before, field_types) != _column_sql(fspec, field_types):
            _dry_run_conversion(conn, spec, before, fspec, field_types)
            plan.steps.append(
                Step(
                    "alter_column",
                    table,
                    Message(
                        "step_column_altered",
                        name=name,
                        old=_column_sql(before, field_types),
                        new=_column_sql(fspec, field_types),
                    ),
                    object=spec.name,
                    field=fspec,
                )
            )
    system = set(SYSTEM_COLUMNS.values())
    for column in sorted(live - set(wanted) - system):
        if column.startswith(ARCHIVE_PREFIX):
            continue
        gone = previous.get(column) or FieldSpec(name=column, type="text")
        plan.steps.append(
            Step(
                "archive_column",
                table,
                Message("step_column_archived", column=column),
                destructive=True,
                object=spec.name,
                old_field=gone,
                column=column,
            )
        )


def _plan_indexes(inspector, plan, spec, field_types) -> None:  # type: ignore[no-untyped-def]
    table = spec.table_name
    live = {index["name"] for index in inspector.get_indexes(table)}
    wanted = expected_indexes(spec, field_types)
    for name in sorted(live - set(wanted)):
        if name.startswith(("ix_", "uq_")):
            plan.steps.append(Step("drop_index", table, name, object=spec.name, column=name))
    for name, (columns, unique) in sorted(wanted.items()):
        if name not in live:
            kind = Message("index_unique" if unique else "index_plain")
            plan.steps.append(
                Step(
                    "create_index",
                    table,
                    Message("step_index", kind=kind, name=name, columns=", ".join(columns)),
                    object=spec.name,
                    column=name,
                    index=(columns, unique),
                )
            )


def _column_sql(spec: FieldSpec, field_types: FieldTypeRegistry) -> str:
    return repr(field_types.get(spec.type).column_type(spec))


def _restorable_archive(conn: Connection, object_name: str, spec: FieldSpec, live: set[str]):  # type: ignore[no-untyped-def]
    """The newest archived column of this field with the same type, if its column still exists."""
    rows = conn.execute(
        select(archived_columns.c.id, archived_columns.c.column_name, archived_columns.c.spec)
        .where(
            archived_columns.c.object == object_name,
            archived_columns.c.field == spec.name,
            archived_columns.c.restored_at.is_(None),
        )
        .order_by(archived_columns.c.id.desc())
    ).all()
    for row in rows:
        if row.spec.get("type") == spec.type and row.column_name in live:
            return row.id, row.column_name
    return None


def _converted(value: Any, old: FieldSpec, new: FieldSpec, field_types: FieldTypeRegistry) -> Any:
    """Convert one stored value through its JSON text form, the way a CSV cell would be read."""
    old_type, new_type = field_types.get(old.type), field_types.get(new.type)
    raw = old_type.to_json(old_type.from_db(value, old), old)
    if isinstance(raw, list):
        raw = ", ".join(str(item) for item in raw)
    converted = new_type.coerce(raw, new, "csv")
    if not new_type.is_empty(converted):
        new_type.validate(converted, new)
    return new_type.to_db(converted, new)


def _dry_run_conversion(conn, spec, old, new, field_types) -> None:  # type: ignore[no-untyped-def]
    """Refuse the change, naming the records, if any stored value would not convert."""
    table = build_table_for(spec, old, field_types)
    failures: list[tuple[Any, str]] = []
    query = select(table.c.id, table.c[old.name]).where(table.c[old.name].is_not(None)).order_by(table.c.id)
    for row in conn.execute(query):
        try:
            _converted(row[1], old, new, field_types)
        except FieldValueError as error:
            failures.append((row[0], str(error)))
    if failures:
        ids = [record_id for record_id, _ in failures]
        shown = ", ".join(f"{record_id} ({reason})" for record_id, reason in failures[:MAX_REPORTED_IDS])
        more = f" and {len(failures) - MAX_REPORTED_IDS} more" if len(failures) > MAX_REPORTED_IDS else ""
        raise SchemaChangeRefused(
            f"{spec.name}.{new.name} cannot change from {old.type} to {new.type}: {len(failures)} record(s) "
            f"would not convert: {shown}{more}. Fix or clear those values first.",
            ids,
        )


def build_table_for(spec: ObjectSpec, field: FieldSpec, field_types: FieldTypeRegistry):  # type: ignore[no-untyped-def]
    """A Core table with just the system columns and one field as `field` describes it."""
    narrowed = ObjectSpec(name=spec.name, label=spec.label, fields=(field,))
    return build_table(narrowed, field_types, MetaData(naming_convention=NAMING_CONVENTION))


# -- applying -------------------------------------------------------------------------------------


def apply_sync(
    conn: Connection,
    plan: SyncPlan,
    new: Mapping[str, ObjectSpec],
    field_types: FieldTypeRegistry,
    now: datetime,
) -> None:
    """Run a plan's steps in the caller's transaction; any failure rolls back everything with it."""
    ops = Operations(MigrationContext.configure(conn))
    for step in plan.steps:
        if step.action in _APPLY:
            _APPLY[step.action](conn, ops, step, new, field_types, now)
    # Index steps are reconciled last, against the columns as they now are: renames during
    # archive and conversion move or drop indexes, so the planned list may be out of date.
    for object_name in sorted({step.object for step in plan.steps if step.action != "create_table"}):
        _reconcile_indexes(conn, ops, new[object_name], field_types)


def _reconcile_indexes(conn, ops, spec: ObjectSpec, field_types: FieldTypeRegistry) -> None:  # type: ignore[no-untyped-def]
    live = {index["name"] for index in inspect(conn).get_indexes(spec.table_name)}
    wanted = expected_indexes(spec, field_types)
    for name in sorted(live - set(wanted)):
        if name.startswith(("ix_", "uq_")):
            ops.drop_index(name, table_name=spec.table_name)
    for name, (columns, unique) in sorted(wanted.items()):
        if name not in live:
            if unique:
                _refuse_duplicates(conn, spec, columns)
            ops.create_index(name, spec.table_name, list(columns), unique=unique)


def _create_table(conn, ops, step, new, field_types, now) -> None:  # type: ignore[no-untyped-def]
    # SQLite gives max(id) + 1 unless the table uses AUTOINCREMENT, which keeps a sequence to continue:
    # without it, the id of the newest record purged from the recycle bin would be given again.
    build_table(new[step.object], field_types, sqlite_autoincrement=True).create(conn)
    continue_ids(conn, step.table, last_used_id(conn, step.object))


def _add_column(conn, ops, step, new, field_types, now) -> None:  # type: ignore[no-untyped-def]
    ops.add_column(step.table, field_column(step.field, field_types))


def _restore_column(conn, ops, step, new, field_types, now) -> None:  # type: ignore[no-untyped-def]
    ops.alter_column(step.table, step.column, new_column_name=step.field.name)
    conn.execute(
        update(archived_columns).where(archived_columns.c.id == step.archive_id).values(restored_at=now)
    )


def _archive_column(conn, ops, step, new, field_types, now) -> int:  # type: ignore[no-untyped-def]
    result = conn.execute(
        insert(archived_columns).values(
            object=step.object,
            field=step.old_field.name,
            column_name=step.column,
            spec=step.old_field.to_json(),
            reason="removed",
            archived_at=now,
        )
    )
    archive_id = int(result.inserted_primary_key[0])
    archive_name = f"{ARCHIVE_PREFIX}{archive_id}"
    _drop_indexes_on(conn, ops, step.table, step.column)
    ops.alter_column(step.table, step.column, new_column_name=archive_name)
    conn.execute(
        update(archived_columns).where(archived_columns.c.id == archive_id).values(column_name=archive_name)
    )
    return archive_id


def _drop_indexes_on(conn, ops, table: str, column: str) -> None:  # type: ignore[no-untyped-def]
    # SQLite keeps an index attached to a renamed column; drop it so the index name is free again.
    for index in inspect(conn).get_indexes(table):
        if column in index["column_names"]:
            ops.drop_index(index["name"], table_name=table)


def _convert_column(conn, ops, step, new, field_types, now) -> None:  # type: ignore[no-untyped-def]
    spec, old, target = new[step.object], step.old_field, step.field
    temporary = f"zz_new_{target.name}"[:63]
    ops.add_column(step.table, field_column(target, field_types, name=temporary))
    source = build_table_for(spec, old, field_types)
    destination = build_table_for(
        spec, FieldSpec(name=temporary, type=target.type, params=target.params), field_types
    )
    last_id = 0
    while True:
        rows = conn.execute(
            select(source.c.id, source.c[old.name])
            .where(source.c.id > last_id, source.c[old.name].is_not(None))
            .order_by(source.c.id)
            .limit(CONVERT_BATCH)
        ).all()
        if not rows:
            break
        values = [{"_id": row[0], "_value": _converted(row[1], old, target, field_types)} for row in rows]
        conn.execute(
            update(destination)
            .where(destination.c.id == bindparam("_id"))
            .values({temporary: bindparam("_value")}),
            values,
        )
        last_id = rows[-1][0]
    archive_step = Step("archive_column", step.table, "", object=step.object, old_field=old, column=old.name)
    archive_id = _archive_column(conn, ops, archive_step, new, field_types, now)
    conn.execute(
        update(archived_columns).where(archived_columns.c.id == archive_id).values(reason="type_change")
    )
    ops.alter_column(step.table, temporary, new_column_name=target.name)


def _alter_column(conn, ops, step, new, field_types, now) -> None:  # type: ignore[no-untyped-def]
    # SQLite does not enforce lengths or scales, so only PostgreSQL needs the ALTER.
    if conn.dialect.name == "postgresql":
        ops.alter_column(
            step.table, step.field.name, type_=field_types.get(step.field.type).column_type(step.field)
        )


def _refuse_duplicates(conn, spec: ObjectSpec, columns: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    t = light_table(spec.table_name, *(light_column(c) for c in columns))
    duplicates = conn.execute(
        select(*(t.c[c] for c in columns), func.count())
        .group_by(*(t.c[c] for c in columns))
        .having(func.count() > 1)
        .where(*(t.c[c].is_not(None) for c in columns))
        .limit(MAX_REPORTED_IDS)
    ).all()
    if duplicates:
        shown = "; ".join(", ".join(repr(v) for v in row[:-1]) + f" ×{row[-1]}" for row in duplicates)
        raise SchemaChangeRefused(
            f"{spec.name}: cannot make {', '.join(columns)} unique, these values repeat: {shown}"
        )


_APPLY = {
    "create_table": _create_table,
    "add_column": _add_column,
    "restore_column": _restore_column,
    "archive_column": _archive_column,
    "convert_column": _convert_column,
    "alter_column": _alter_column,
}
